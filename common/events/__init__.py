"""Domain events: the outbox (outbox.py), the subscribers and their registry (subscribers.py),
the relay that hands events on after commit (relay.py) and the EventBridge publisher (publisher.py).

The code that makes a change writes its events with `outbox.write` in the same transaction,
so a rolled-back change leaves no event. This wing imports neither common.sync nor
common.shop: they call it, never the other way round.
"""
