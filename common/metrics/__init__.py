"""Request metrics, one job per module: aggregate (one minute's counts and latency buckets),
recording (counted in memory by the HTTP edge, flushed by the hosts) and reading (the windows the
dashboard and the operations page show). Nothing is re-exported here.
"""
