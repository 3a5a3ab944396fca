-- wrk script for every intake contender: POST a Zoho product webhook whose item id and
-- version change on each request (each is a new event, never a duplicate); the figures are
-- printed as one JSON line by bench/wrk_common.lua.
--   wrk ... -s bench/wrk.lua URL -- <body template file> <run tag>
-- The template holds __ITEM__ and __VERSION__ markers.

dofile("bench/wrk_common.lua")

function init(args)
  local file = assert(io.open(args[1], "r"))
  template = file:read("*a")
  file:close()
  tag = args[2]
  counter = 0
  headers = {["Content-Type"] = "application/json"}
end

function request()
  counter = counter + 1
  local item = string.format("%s%02d%09d", tag, thread_no, counter)
  local body = template:gsub("__ITEM__", item):gsub("__VERSION__", tostring(counter))
  return wrk.format("POST", nil, headers, body)
end
