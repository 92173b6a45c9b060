-- wrk script of the service's load benchmark (bench/run.sh): POST the request file named
-- by GOV_REQUEST to /v1/decide on every connection, and fail loudly on a non-200 answer.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local file = assert(io.open(os.getenv("GOV_REQUEST"), "r"))
wrk.body = file:read("*a")
file:close()

response = function(status, headers, body)
  if status ~= 200 then
    error("status " .. status .. ": " .. body)
  end
end
