"""The database layer, one job per module: engine (the process's engines, connections and their
time limit), transactions (read, write and a request's transaction), statements (inserts both
databases run the same way) errors (what a database failure means) and tls
(DATABASE_URL's sslmode as the driver's TLS context). Nothing is re-exported here.
"""
