-- wrk script for the mobile screens: each thread replays its lines of a plan file in turn.
--   wrk -tN -cN ... -s bench/mobile.lua URL -- <plan file>
-- A plan line holds five tab-separated fields: the thread that sends it (0: every thread),
-- the method, the path with its query string, a bearer token or "-", a JSON body or "-".
-- Lines of every thread are rotated from a different starting point in each thread; lines
-- of one thread (a cart cycle of one customer: add, change, remove) are sent in file order.
-- bench/mobile_bench.py runs as many threads as connections, so a thread is a client.

dofile("bench/wrk_common.lua")

function init(args)
  requests = {}
  local shared = false
  for line in io.lines(args[1]) do
    local owner, method, path, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if owner == "0" or tonumber(owner) == thread_no then
      shared = shared or owner == "0"
      local headers = {}
      if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
      if body == "-" then body = nil else headers["Content-Type"] = "application/json" end
      table.insert(requests, wrk.format(method, path, headers, body))
    end
  end
  assert(#requests > 0, "no plan lines for thread " .. thread_no)
  index = shared and ((thread_no - 1) * 7919) % #requests or 0
  -- wrk calls the first thread's request() once before the run, to check the script: that
  -- call takes the line before this thread's first, so that a cart cycle starts complete.
  if thread_no == 1 then index = (index - 1) % #requests end
end

function request()
  index = index % #requests + 1
  return requests[index]
end
