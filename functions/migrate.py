"""Apply the database migrations where the database is: in the cloud, the `migrate` Lambda runs
inside the VPC, invoked by scripts/deploy.sh before the other functions take the new code.

Idempotent: a database already at the newest revision is left as it is.
"""

from common.db.engine import get_engine
from common.migrate import current_revision, upgrade


def migrate(event=None, context=None) -> dict:
    """Upgrade to the newest revision; answer the revision before and after."""
    engine = get_engine()
    before = current_revision(engine)
    upgrade(engine)
    return {"from_revision": before, "to_revision": current_revision(engine)}
