-- An agency's compliance board through the API, as its admin (token in BOARD_TOKEN):
-- the first page, a filtered page, and a page sorted by a condition's date, in turn.
local token = os.getenv("BOARD_TOKEN")
local agency = os.getenv("BOARD_AGENCY") or "1"
local paths = {
  "/api/v1/agencies/" .. agency .. "/compliance?per_page=50",
  "/api/v1/agencies/" .. agency .. "/compliance?condition=health_check&filter=expiring",
  "/api/v1/agencies/" .. agency .. "/compliance?sort=insurance&page=3",
}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], { ["Authorization"] = "Bearer " .. token })
end
dofile("scripts/bench/report.lua")
