"""What Zoho sends, one job per module: fields (the field types), records (the Zoho record
models) and bodies (the three shapes of a webhook body, and the one place a body becomes an
event). Nothing is re-exported here."""
