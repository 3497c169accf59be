-- Subscribes for wrk: each request POSTs a new address as JSON, the
-- addresses of a run told apart by the word given after `--`.
local n = 0
local run = "run"

function init(args)
  run = args[1] or run
end

function request()
  n = n + 1
  return wrk.format("POST", "/subscribe", { ["Content-Type"] = "application/json" }, '{"email":"new.' .. run .. '.' .. n .. '@bench.example.org","form":"bench"}')
end
