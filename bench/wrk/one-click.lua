-- One-click unsubscribes (RFC 8058) for wrk: each request POSTs to the next
-- subscriber's link, read from the file given after `--`, from the line
-- after the number given next.
local paths = {}
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  n = tonumber(args[2] or "0")
end

function request()
  n = n + 1
  return wrk.format("POST", paths[(n - 1) % #paths + 1], { ["Content-Type"] = "application/x-www-form-urlencoded" }, "List-Unsubscribe=One-Click")
end
