-- wrk script: POST /api/v1/feedback, each request answering another
-- prediction id from the file named by IDS (predict-ids.lua wrote it), so
-- every answer is a new row (201). It takes predict.lua's method, headers and
-- summary line (run from the repository root, as bench-store.sh does) and
-- replaces its requests.
dofile("app/bench/predict.lua")

local ids = {}
local n = 0

init = function(args)
  for line in io.lines(os.getenv("IDS")) do
    ids[#ids + 1] = line
  end
end

request = function()
  n = n + 1
  local id = ids[((n - 1) % #ids) + 1] -- past the end the ids repeat and get 409 (counted as errors)
  return wrk.format(nil, nil, nil,
    '{"prediction_id": "' .. id .. '", "happy": ' .. ((n % 3 == 0) and "false" or "true") .. '}')
end
