-- wrk script for bench/rollout.py: one body, many callers. Each prepared request carries its own
-- Modelyard-Routing-Key, so an alias under a split answers from both versions as real callers would.
-- Usage: wrk ... -s bench/rollout.lua <url> -- <body file> <bearer token> <distinct keys>
local prepared = {}
local position = 0

function init(args)
  local body = io.open(args[1]):read("*a")
  for key = 1, tonumber(args[3]) do
    local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2],
                     ["Modelyard-Routing-Key"] = "caller-" .. key}
    prepared[#prepared + 1] = wrk.format("POST", wrk.path, headers, body)
  end
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function done(summary, latency, requests)
  io.write(string.format('ROLLOUT_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "p50_us": %d, ' ..
    '"p99_us": %d}\n', summary.requests, summary.duration, summary.errors.status + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
