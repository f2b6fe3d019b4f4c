-- wrk: 90% GET /r/c<n> (random seeded code), 10% POST /api/links creating a new link.
local codes = tonumber(os.getenv("CODES") or "10000")
local headers = { ["Content-Type"] = "application/json" }
local n = 0
local thread_tag = tostring(math.random(1e9))
math.randomseed(os.time())
request = function()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format("POST", "/api/links", headers,
      '{"url":"https://example.com/new/' .. thread_tag .. '/' .. n .. '"}')
  end
  return wrk.format("GET", "/r/c" .. math.random(codes))
end
