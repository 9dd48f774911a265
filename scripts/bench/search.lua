-- Worker search by district + service + Chinese name fragment, rotating over realistic filters.
local districts = { "220102", "220103", "220104", "220105", "220106", "220112", "220113", "220122", "220182", "220183", "220184", "220171", "220172", "220173", "220174" }
local services = { "cleaning", "cooking", "elderly_care", "maternity", "childcare", "live_in", "deep_cleaning", "laundry" }
local fragments = { "%E7%8E%8B", "%E6%9D%8E", "%E5%BC%A0", "%E7%A7%80%E8%8B%B1", "%E4%B8%BD", "%E5%88%98", "%E7%A7%80", "%E9%99%88", "%E7%8E%89%E5%85%B0", "%E6%B7%91", "%E7%8E%8B%E7%A7%80", "%E6%9D%8E%E4%B8%BD", "%E5%8D%8E", "%E7%BA%A2%E9%9C%9E", "%E5%87%A4" }  -- URL-encoded 王 李 张 秀英 丽 刘 秀 陈 玉兰 淑 王秀 李丽 华 红霞 凤
math.randomseed(7)
request = function()
  local path = "/api/v1/workers?district=" .. districts[math.random(#districts)]
    .. "&service=" .. services[math.random(#services)]
    .. "&name=" .. fragments[math.random(#fragments)]
  return wrk.format("GET", path)
end
dofile("scripts/bench/report.lua")
