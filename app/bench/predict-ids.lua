-- wrk script: POST /api/v1/predict like predict.lua, and write every
-- prediction_id answered to the file named by the IDS environment variable,
-- one a line, for feedback.lua to answer.
local titles = {
  "How to parse JSON in Python",
  "Segmentation fault when using std::vector in C++",
  "Java NullPointerException when calling a method on a list",
  "How to center a div horizontally with CSS",
  "PHP mysqli prepared statement returns no rows",
  "Convert string to datetime in C#",
  "Pandas dataframe group by two columns and sum",
  "Node.js async await inside a for loop",
}
local n = 0
local out = nil

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

init = function(args)
  out = assert(io.open(os.getenv("IDS"), "w"))
end

request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"title": "' .. titles[(n % #titles) + 1] .. ' ' .. n .. '"}')
end

response = function(status, headers, body)
  local id = body:match('"prediction_id":"([^"]+)"')
  if id then
    out:write(id, "\n")
  end
end

done = function(summary, latency, requests)
  io.write(string.format("IDS requests=%d\n", summary.requests))
end
