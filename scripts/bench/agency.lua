-- The public agency detail page for random agencies.
local agencies = tonumber(os.getenv("AGENCIES") or "5000")
math.randomseed(11)
request = function()
  return wrk.format("GET", "/agencies/" .. math.random(agencies))
end
dofile("scripts/bench/report.lua")
