"""The database layer, one job per module: engine (the process's engines, connections and their
time limit), transactions (read, write and a request's transaction), statements (inserts both
databases run the same way) and errors (what a database failure means). Nothing is re-exported here.
"""
