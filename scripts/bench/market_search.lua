-- Available-worker search: item + date + slot + district, rotating over the coming week's days,
-- start times and the city's districts.
local districts = { "220102", "220103", "220104", "220105", "220106", "220112", "220113", "220122", "220182", "220183", "220184", "220171", "220172", "220173", "220174" }
local times = { "08:00", "10:00", "11:00", "12:00", "13:00", "15:00", "16:00" }
local days = {}
for line in io.lines(os.getenv("DAYS_FILE")) do days[#days + 1] = line end
math.randomseed(13)
request = function()
  local path = "/api/v1/market/workers?item=daily_cleaning&mode=per_hour&hours=2"
    .. "&date=" .. days[math.random(#days)]
    .. "&time=" .. times[math.random(#times)]
    .. "&district=" .. districts[math.random(#districts)]
  return wrk.format("GET", path)
end
dofile("scripts/bench/report.lua")
