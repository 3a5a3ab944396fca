"""Outcomes of the scheduled jobs (the drain and the reconcile), for the job_failing alert rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, select

from common.clock import utcnow
from common.db.transactions import write
from common.logs import get_logger
from common.models import ops_job_runs

DRAIN, RECONCILE = "drain", "reconcile"
JOBS = (DRAIN, RECONCILE)
_MAX_ERROR_CHARS = 500

log = get_logger("ops.jobs")


def record(job: str, error: BaseException | None = None, engine: Engine | None = None) -> None:
    """One run's outcome; a database that is down for it loses the record, not the job's own answer."""
    try:
        with write(engine) as connection:
            connection.execute(
                ops_job_runs.insert().values(
                    job=job,
                    ok=error is None,
                    error=None if error is None else str(error)[:_MAX_ERROR_CHARS],
                    finished_at=utcnow(),
                )
            )
    except Exception:  # noqa: BLE001 - the outcome is logged by the job itself as well
        log.warning("job outcome not recorded", extra={"job": job, "ok": error is None})


def failing_twice(connection: Connection, job: str) -> str | None:
    """The last error when the job's last two recorded runs both failed, else None."""
    runs = ops_job_runs.c
    last_two = connection.execute(
        select(runs.ok, runs.error).where(runs.job == job).order_by(runs.finished_at.desc(), runs.id.desc()).limit(2)
    ).all()
    if len(last_two) == 2 and not any(run.ok for run in last_two):
        return last_two[0].error or "failed"
    return None


def purge(connection: Connection, before: datetime, limit: int) -> int:
    chunk = select(ops_job_runs.c.id).where(ops_job_runs.c.finished_at < before).limit(limit).scalar_subquery()
    return connection.execute(ops_job_runs.delete().where(ops_job_runs.c.id.in_(chunk))).rowcount
