-- The certificate check at the door (GET /v/{token}) for random tokens from TOKENS (one per line).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do
  if #line > 0 then tokens[#tokens + 1] = line end
end
math.randomseed(13)
request = function()
  return wrk.format("GET", (os.getenv("DOOR_PREFIX") or "/v/") .. tokens[math.random(#tokens)])
end
dofile("scripts/bench/report.lua")
