-- The public agency detail page for random agencies (with agency_suffix set: a page under it).
local agencies = tonumber(os.getenv("AGENCIES") or "5000")
math.randomseed(11)
-- SEQUENTIAL=1 walks every agency in turn instead (the harness warms the pages with it): the
-- first of wrk's threads upwards from the first agency, the others downwards from the last, so
-- two threads cover every agency once before either repeats one.
local sequential = os.getenv("SEQUENTIAL") == "1"
local threads = 0
setup = function(thread)
  thread:set("downwards", threads > 0)
  threads = threads + 1
end
local next_id = 0
request = function()
  local id
  if sequential then
    next_id = next_id % agencies + 1
    id = downwards and agencies + 1 - next_id or next_id
  else
    id = math.random(agencies)
  end
  return wrk.format("GET", "/agencies/" .. id .. (agency_suffix or ""))
end
dofile("scripts/bench/report.lua")
