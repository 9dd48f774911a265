-- Booking creation: each request books a worker the search found free for that slot, with its own
-- Idempotency-Key. Threads take disjoint shares of the prepared (menu, worker, day, time) list,
-- so a 409 means the platform refused a real overlap, not that the script repeated itself.
local token = os.getenv("BOOK_TOKEN")
-- Keys differ between runs, so a rerun on kept data never replays an earlier run's answer.
local run = os.getenv("RUN_ID") or "0"
local combos = {}
for line in io.lines(os.getenv("COMBOS_FILE")) do combos[#combos + 1] = line end
local threads = {}
local counter = 0
setup = function(thread)
  thread:set("offset", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
local n = 0
request = function()
  local i = (n * 2 + offset) % #combos + 1
  n = n + 1
  local menu, worker, day, time = combos[i]:match("(%d+) (%d+) (%S+) (%S+)")
  local body = string.format('{"menu_item_id":%s,"worker_id":%s,"date":"%s","time":"%s","hours":"2"}', menu, worker, day, time)
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. run .. "-" .. offset .. "-" .. n,
  }, body)
end
dofile("scripts/bench/report.lua")
