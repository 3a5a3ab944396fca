"""One drain in a process of its own, for the crash and concurrency tests.

    python -m tests.drain_process [--budget S] [--slow-ms N]

Prints the drain's summary as JSON. `--slow-ms` makes every item take at least that long,
so that a test can kill the process while it holds a batch.
"""

from __future__ import annotations

import argparse
import sys
import time

from common.config import get_settings
from common.sync import handlers
from common.sync.drain import drain


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=120.0)
    parser.add_argument("--slow-ms", type=int, default=0)
    args = parser.parse_args()
    if args.slow_ms:
        apply = handlers.apply

        def slow_apply(connection, item, now):
            time.sleep(args.slow_ms / 1000)
            return apply(connection, item, now)

        handlers.apply = slow_apply
    summary = drain(get_settings(), trigger="test", budget_seconds=args.budget)
    print(summary.model_dump_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
