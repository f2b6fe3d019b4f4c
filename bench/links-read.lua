-- wrk: GET /r/c<n> for a random n in 1..CODES (the codes bench/app.sh seeds).
local codes = tonumber(os.getenv("CODES") or "10000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/r/c" .. math.random(codes))
end
