"""A job the local runner's coordinating process repeats in a thread of its own: once at start, then
every `interval_seconds`, until stopped (never in the HTTP worker processes). A failed run is
logged and the next one comes at its time: the job outlives a database outage."""

from __future__ import annotations

import threading
from collections.abc import Callable

from common.logs import get_logger

log = get_logger("periodic")


class PeriodicJob:
    def __init__(self, name: str, interval_seconds: float, run: Callable[[], object]) -> None:
        self.name = name
        self.interval_seconds = interval_seconds
        self._job = run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._job()
            except Exception:
                log.exception(f"{self.name} failed; trying again at the next interval")
            self._stop.wait(self.interval_seconds)
