-- wrk script: POST /api/v1/feedback, each request answering another
-- prediction id from the file named by IDS (predict-ids.lua wrote it), so
-- every answer is a new row (201). Prints one summary line like predict.lua.
local ids = {}
local n = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

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

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_s=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f " ..
    "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
