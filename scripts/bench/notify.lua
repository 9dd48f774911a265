-- Payment notifications as the provider sends them: each request is one line of the file that
-- `jiazheng demo notifications` wrote (signature headers, then the sealed body), tab-separated.
-- The file holds COPIES shuffled copies of each payment's notification, so duplicates and
-- payments out of order arrive throughout. Threads take disjoint shares of the lines; a run that
-- outlasts the file starts it again (all duplicates then, which must be answered 204 too).
local lines = {}
for line in io.lines(os.getenv("NOTIFY_FILE")) do lines[#lines + 1] = line end
local threads = tonumber(os.getenv("WRK_THREADS") or "2")
local counter = 0
setup = function(thread)
  thread:set("offset", counter)
  counter = counter + 1
end
local n = 0
request = function()
  local i = (n * threads + offset) % #lines + 1
  n = n + 1
  local timestamp, nonce, serial, signature, body = lines[i]:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  return wrk.format("POST", "/api/v1/payments/notify", {
    ["Content-Type"] = "application/json",
    ["Wechatpay-Timestamp"] = timestamp,
    ["Wechatpay-Nonce"] = nonce,
    ["Wechatpay-Serial"] = serial,
    ["Wechatpay-Signature"] = signature,
  }, body)
end
dofile("scripts/bench/report.lua")
