-- An agency's public price list page, for random agencies (picked as agency.lua picks them).
agency_suffix = "/prices"
dofile("scripts/bench/agency.lua")
