-- Shared wrk plumbing: DynamoDB headers, per-thread ids, non-2xx capture, JSON summary.
local M = {}

local threads = {}

-- Static SigV4-shaped credentials: none of the benchmarked servers verifies signatures.
local AUTH = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, "
  .. "SignedHeaders=host;x-amz-date, Signature=0000"

-- Runs in the main Lua state once per thread before it starts: give each a stable id.
function M.setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

-- Runs in each thread's Lua state; configures the request template for one operation.
function M.init(target)
  wrk.method = "POST"
  wrk.path = "/"
  wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
  wrk.headers["X-Amz-Target"] = "DynamoDB_20120810." .. target
  wrk.headers["X-Amz-Date"] = "20260101T000000Z"
  wrk.headers["Authorization"] = AUTH
  math.randomseed(os.time() * 1000 + (id or 0))
end

-- Anything but 2xx is a benchmark failure: count it and keep the first body for the report.
bad = 0
first_error = ""
function M.response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if first_error == "" then
      first_error = tostring(status) .. " " .. tostring(body)
    end
  end
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(ch)
    return string.format("\\u%04x", ch:byte())
  end) .. '"'
end

-- Runs in the main state after the run: one machine-readable line for run.py.
function M.done(summary, latency, requests)
  local non2xx, err = 0, ""
  for _, thread in ipairs(threads) do
    non2xx = non2xx + (thread:get("bad") or 0)
    local e = thread:get("first_error") or ""
    if err == "" then err = e end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"mean":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},'
      .. '"first_error":%s}\n',
    summary.requests, summary.duration, summary.bytes, non2xx,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max,
    json_string(err:sub(1, 500))))
end

-- Item attributes shared by put.lua and the Python preload (~200 bytes of JSON per item).
function M.item_attrs(n)
  return string.format(
    '"data":{"S":"benchmark payload %08d abcdefghijklmnopqrstuvwxyz0123456789"},'
      .. '"n":{"N":"%d"},"price":{"N":"%d.25"},"active":{"BOOL":true},'
      .. '"tags":{"L":[{"S":"alpha"},{"S":"beta"},{"S":"gamma"}]}',
    n, n, n % 1000)
end

return M
