"""Group commit: callers share batches, each gets its own result, failures reach the whole batch."""

import threading
import time

import pytest

from common.sync.group_commit import GroupCommit


class Recorder:
    """A write_batch that records its batches and answers each item with its double."""

    def __init__(self, delay: float = 0.0, fail_on: object = None) -> None:
        self.batches: list[list[int]] = []
        self.delay = delay
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def __call__(self, items):
        time.sleep(self.delay)
        with self.lock:
            self.batches.append(list(items))
        if self.fail_on in items:
            raise ConnectionError("database went away")
        return [item * 2 for item in items]


def _submit_together(group: GroupCommit, items: list[int]) -> dict[int, object]:
    answers: dict[int, object] = {}
    barrier = threading.Barrier(len(items))

    def call(item: int) -> None:
        barrier.wait()
        try:
            answers[item] = group.submit(item)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertions
            answers[item] = exc

    threads = [threading.Thread(target=call, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return answers


def test_one_caller_at_a_time_writes_batches_of_one():
    writer = Recorder()
    group = GroupCommit(writer)
    assert [group.submit(item) for item in (1, 2, 3)] == [2, 4, 6]
    assert writer.batches == [[1], [2], [3]]


def test_concurrent_callers_share_batches_and_each_gets_its_own_result():
    writer = Recorder(delay=0.02)
    group = GroupCommit(writer)
    items = list(range(1, 33))
    answers = _submit_together(group, items)
    assert answers == {item: item * 2 for item in items}
    written = [item for batch in writer.batches for item in batch]
    assert sorted(written) == items  # each item written exactly once
    assert len(writer.batches) < len(items)  # and they were grouped


def test_batches_never_exceed_the_limit():
    writer = Recorder(delay=0.02)
    answers = _submit_together(GroupCommit(writer, max_batch=4), list(range(1, 21)))
    assert len(answers) == 20
    assert max(len(batch) for batch in writer.batches) <= 4


def test_a_failed_batch_fails_every_caller_in_it_and_the_next_batches_still_work():
    writer = Recorder(delay=0.02, fail_on=7)
    group = GroupCommit(writer)
    answers = _submit_together(group, list(range(1, 17)))
    failed_batch = next(batch for batch in writer.batches if 7 in batch)
    for item in range(1, 17):
        if item in failed_batch:
            assert isinstance(answers[item], ConnectionError)
        else:
            assert answers[item] == item * 2
    assert group.submit(100) == 200


def test_a_leader_answers_its_own_caller_before_writing_for_later_ones():
    """Leadership passes on: the first caller is not held back by a stream of later ones."""
    writer = Recorder(delay=0.05)
    group = GroupCommit(writer, max_batch=1)
    finished: dict[int, float] = {}

    def call(item: int) -> None:
        group.submit(item)
        finished[item] = time.monotonic()

    first = threading.Thread(target=call, args=(1,))
    first.start()
    time.sleep(0.01)
    later = [threading.Thread(target=call, args=(item,)) for item in range(2, 8)]
    for thread in later:
        thread.start()
    for thread in [first, *later]:
        thread.join(timeout=10)
    assert finished[1] < min(finished[item] for item in range(2, 8))
    assert len(writer.batches) == 7


@pytest.mark.parametrize("size", [1, 5])
def test_results_stay_matched_to_items_whatever_the_order_of_arrival(size):
    writer = Recorder()
    group = GroupCommit(writer, max_batch=size)
    answers = _submit_together(group, list(range(50, 70)))
    assert all(answers[item] == item * 2 for item in range(50, 70))
