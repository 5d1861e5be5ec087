-- wrk script for the predict benchmark.
-- Usage: wrk ... -s bench/predict.lua <url> -- <bodies file, one JSON body per line> [bearer token]
-- Every request is built once in init() and then cycled through, so the client spends no time per request
-- formatting, and distinct bodies keep any response cache from turning the benchmark into a cache test.
-- done() prints one line "BENCH_JSON {...}" that bench/load.py parses (times in microseconds).

local prepared = {}
local position = 0

function init(args)
  local bodies, token = args[1], args[2]
  local headers = {["Content-Type"] = "application/json"}
  if token ~= nil and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  for body in io.lines(bodies) do
    if body ~= "" then
      prepared[#prepared + 1] = wrk.format("POST", wrk.path, headers, body)
    end
  end
  if #prepared == 0 then
    error("no request bodies in " .. tostring(bodies))
  end
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
