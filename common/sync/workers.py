"""Background drain workers for the local runner: TDS_WORKERS threads polling the queue, each
relaying domain events (common.events.relay) and pushing due orders to Zoho
(common.sync.order_push) after every drain."""

from __future__ import annotations

import threading

from common.config import Settings
from common.events.relay import relay
from common.logs import get_logger
from common.ops import jobs
from common.sync.drain import drain
from common.sync.order_push import push_due

log = get_logger("sync.workers")

# A worker's drain returns this often to notice a stop request and to record its run.
_WORKER_BUDGET_SECONDS = 10.0


class DrainWorkers:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self.settings.tds_workers == 0:
            log.info("Zoho sync workers disabled (TDS_WORKERS=0)")
            return
        for number in range(self.settings.tds_workers):
            thread = threading.Thread(target=self._run, name=f"drain-worker-{number + 1}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info(
            "Zoho sync workers started successfully",
            extra={"workers": self.settings.tds_workers, "poll_interval_ms": self.settings.tds_queue_poll_interval_ms},
        )

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _run(self) -> None:
        pause = self.settings.tds_queue_poll_interval_ms / 1000
        failing = False  # a failure, and the first success after one, are recorded (job_failing)
        while not self._stop.is_set():
            try:
                summary = drain(
                    self.settings,
                    trigger="worker",
                    budget_seconds=_WORKER_BUDGET_SECONDS,
                    keep_going=lambda: not self._stop.is_set(),
                )
                relayed = relay(self.settings, budget_seconds=_WORKER_BUDGET_SECONDS)
                pushed = push_due(self.settings, budget_seconds=_WORKER_BUDGET_SECONDS)
                idle = summary.claimed == 0 and not relayed.published and not relayed.delivered and not pushed.worked
                if failing:
                    jobs.record(jobs.DRAIN)
                    failing = False
            except Exception as exc:
                log.exception("drain failed; retrying after the poll interval")
                jobs.record(jobs.DRAIN, exc)
                failing, idle = True, True
            if idle:
                self._stop.wait(pause)
