-- wrk script for POST /api/v1/predict: cycles through real-looking titles
-- and prints one machine-readable summary line at the end.
local titles = {
  "How to parse JSON in Python",
  "Segmentation fault when using std::vector in C++",
  "Java NullPointerException when calling a method on a list",
  "How to center a div horizontally with CSS",
  "jQuery click event not firing on dynamically added element",
  "PHP mysqli prepared statement returns no rows",
  "Convert string to datetime in C#",
  "How do I undo the most recent commits in Git",
  "Pandas dataframe group by two columns and sum",
  "Ruby on Rails has_many through association",
  "Android RecyclerView not showing items",
  "Angular ngFor over an object",
  "SQL query to find duplicate rows",
  "Node.js async await inside a for loop",
  "Spring Boot REST controller returns 404",
  "Django model field default value",
  "Regex to validate an email address in JavaScript",
  "iOS UITableView cell height automatic",
  "Bash loop over files with spaces in names",
  "WPF binding to a property of the window",
}
local bodies = {}
for i, t in ipairs(titles) do
  bodies[i] = '{"title": "' .. t .. '"}'
end
local n = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end

dofile("app/bench/summary.lua")
