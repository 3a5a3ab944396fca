-- wrk script for a plain GET (hello-world, /health): the figures as one JSON line.
dofile("bench/wrk_common.lua")
