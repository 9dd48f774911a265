-- One worker's public record (GET /api/v1/workers/{id}) for random ids up to WORKERS.
local workers = tonumber(os.getenv("WORKERS") or "1000000")
math.randomseed(23)
request = function()
  return wrk.format("GET", "/api/v1/workers/" .. math.random(workers))
end
dofile("scripts/bench/report.lua")
