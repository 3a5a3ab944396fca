"""Group commit: callers share batches, each gets its own result, failures reach the whole batch.

The batching is driven explicitly, never by sleeps: the writer holds each batch until the test
releases it, and callers are added one at a time once the one before is queued, so every test
sees the same batches on any machine, however its threads are scheduled.
"""

import threading
import time

import pytest

from common.sync.group_commit import GroupCommit

WAIT_SECONDS = 10.0


class GatedWriter:
    """A write_batch that records its batches, answers each item with its double, fails the batch
    holding `fail_on`, and holds each batch until the test releases it (or opens the gate)."""

    def __init__(self, fail_on: object = None, gated: bool = True) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on
        self.entered = threading.Semaphore(0)
        self._releases = threading.Semaphore(0)
        self._open = threading.Event()
        if not gated:
            self._open.set()

    def __call__(self, items):
        self.batches.append(list(items))
        self.entered.release()
        if not self._open.is_set():
            assert self._releases.acquire(timeout=WAIT_SECONDS), "the test never released this batch"
        if self.fail_on in items:
            raise ConnectionError("database went away")
        return [item * 2 for item in items]

    def wait_until_writing(self) -> None:
        assert self.entered.acquire(timeout=WAIT_SECONDS), "no batch was written"

    def release_one(self) -> None:
        self._releases.release()

    def open(self) -> None:
        """Let the batch in hand and every later one through."""
        self._open.set()
        self._releases.release()


class Callers:
    """Caller threads, each submitting one item and keeping its answer (result or exception)."""

    def __init__(self, group: GroupCommit) -> None:
        self.group = group
        self.answers: dict[int, object] = {}
        self.threads: dict[int, threading.Thread] = {}

    def start(self, item: int) -> None:
        def call() -> None:
            try:
                self.answers[item] = self.group.submit(item)
            except Exception as exc:  # noqa: BLE001 - recorded for the assertions
                self.answers[item] = exc

        self.threads[item] = thread = threading.Thread(target=call, daemon=True)
        thread.start()

    def queue(self, items) -> None:
        """Start each caller once the one before it is queued, so that they queue in this order."""
        for item in items:
            before = _queued(self.group)
            self.start(item)
            _wait(lambda before=before: _queued(self.group) > before, f"caller {item} never queued")

    def join(self, *items: int) -> None:
        for item in items or list(self.threads):
            self.threads[item].join(WAIT_SECONDS)
            assert not self.threads[item].is_alive(), f"caller {item} is still waiting"


def _queued(group: GroupCommit) -> int:
    """Items waiting for a writer: the group's own list, read under its lock."""
    with group._lock:
        return len(group._pending)


def _wait(condition, message: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.001)


def _first_batch_in_hand(writer: GatedWriter, group: GroupCommit) -> Callers:
    """Caller 1 becomes the leader and is held writing its batch of one."""
    callers = Callers(group)
    callers.start(1)
    writer.wait_until_writing()
    return callers


def test_one_caller_at_a_time_writes_batches_of_one():
    writer = GatedWriter(gated=False)
    group = GroupCommit(writer)
    assert [group.submit(item) for item in (1, 2, 3)] == [2, 4, 6]
    assert writer.batches == [[1], [2], [3]]


def test_callers_arriving_while_a_batch_is_written_share_the_next_one():
    writer = GatedWriter()
    group = GroupCommit(writer)
    callers = _first_batch_in_hand(writer, group)
    callers.queue(range(2, 10))
    writer.open()
    callers.join()
    assert writer.batches == [[1], list(range(2, 10))]
    assert callers.answers == {item: item * 2 for item in range(1, 10)}


def test_batches_never_exceed_the_limit():
    writer = GatedWriter()
    group = GroupCommit(writer, max_batch=4)
    callers = _first_batch_in_hand(writer, group)
    callers.queue(range(2, 12))
    writer.open()
    callers.join()
    assert writer.batches == [[1], [2, 3, 4, 5], [6, 7, 8, 9], [10, 11]]
    assert callers.answers == {item: item * 2 for item in range(1, 12)}


def test_a_failed_batch_fails_every_caller_in_it_and_the_next_batches_still_work():
    writer = GatedWriter(fail_on=3)
    group = GroupCommit(writer, max_batch=4)
    callers = _first_batch_in_hand(writer, group)
    callers.queue(range(2, 10))
    writer.open()
    callers.join()
    assert writer.batches == [[1], [2, 3, 4, 5], [6, 7, 8, 9]]
    assert all(isinstance(callers.answers[item], ConnectionError) for item in (2, 3, 4, 5))
    assert {item: callers.answers[item] for item in (1, 6, 7, 8, 9)} == {1: 2, 6: 12, 7: 14, 8: 16, 9: 18}
    assert group.submit(100) == 200


def test_a_leader_answers_its_own_caller_before_writing_for_later_ones():
    """Leadership passes on: the first caller returns while the next batch is still being written."""
    writer = GatedWriter()
    group = GroupCommit(writer, max_batch=1)
    callers = _first_batch_in_hand(writer, group)
    callers.queue(range(2, 8))
    writer.release_one()  # caller 1's own batch
    callers.join(1)  # back, although batch [2] is now held in the writer
    writer.wait_until_writing()
    assert writer.batches == [[1], [2]] and callers.answers == {1: 2}
    writer.open()
    callers.join()
    assert writer.batches == [[item] for item in range(1, 8)]
    assert callers.answers == {item: item * 2 for item in range(1, 8)}


@pytest.mark.parametrize("size", [1, 5])
def test_results_stay_matched_to_items_whatever_the_order_of_arrival(size):
    writer = GatedWriter()
    group = GroupCommit(writer, max_batch=size)
    callers = _first_batch_in_hand(writer, group)
    arrival = [57, 50, 69, 61, 52, 66, 58, 63, 51, 68, 55, 60, 53, 67, 54, 62, 59, 65, 56, 64]
    callers.queue(arrival)
    writer.open()
    callers.join()
    assert callers.answers == {item: item * 2 for item in [1, *arrival]}
    assert writer.batches == [[1]] + [arrival[start : start + size] for start in range(0, len(arrival), size)]
