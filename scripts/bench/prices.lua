-- An agency's public price list page, for random agencies.
local agencies = tonumber(os.getenv("AGENCIES") or "5000")
math.randomseed(17)
request = function()
  return wrk.format("GET", "/agencies/" .. math.random(agencies) .. "/prices")
end
dofile("scripts/bench/report.lua")
