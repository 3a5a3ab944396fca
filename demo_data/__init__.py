"""Demo and benchmark data: a generated Iraqi electronics shop for the local runner (`--demo`), the
tests and bench/. Not part of the deployment package (serverless.yml ships common/ and functions/),
and nothing there imports it.
"""
