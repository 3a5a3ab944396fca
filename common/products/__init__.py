"""What is stored with each product for the shop to read: its folded search text (text.py), its
search columns and the typo vocabulary (search_index.py), and its sales count (sales.py).

Every writer of products (the Zoho sync handlers, the demo data) and the shop's search use it, so
it imports neither common.sync nor common.shop: both import it, never each other.
"""
