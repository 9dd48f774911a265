-- Worker search by name only, citywide, for names read from NAMES (URL-encoded, one per line):
-- full names of registered workers and common one- and two-character fragments.
local names = {}
for line in io.lines(os.getenv("NAMES")) do
  if #line > 0 then names[#names + 1] = line end
end
math.randomseed(19)
request = function()
  return wrk.format("GET", "/api/v1/workers?name=" .. names[math.random(#names)])
end
dofile("scripts/bench/report.lua")
