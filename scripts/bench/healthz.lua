dofile("scripts/bench/report.lua")
