#!/usr/bin/env bash
# Benchmarks (not part of the test suite). Usage:
#   bench/run.sh sync [options of bench/sync_bench.py]
#   bench/run.sh mobile [options of bench/mobile_bench.py]
#   bench/run.sh cold [--repeat N]   (cold start of each function; bench/cold_start.py)
#   bench/run.sh http [--rounds N]   (the runner's HTTP server, waitress against granian; bench/http_server.py)
#   bench/run.sh slow [--clients N]  (slow request bodies: the body stage against granian's WSGI; bench/slow_bodies.py)
#   bench/run.sh lambda [--repeat N] (the Lambda package: size, cold start from it; bench/lambda_package.py;
#                                     needs `npm ci` first)
#   bench/run.sh relevance [--database-url URL]   (search relevance on the judged set; bench/relevance.py)
#   bench/run.sh ops [--rows N] [--items N]   (payload search on 1,000,000 queue rows, alert evaluation's
#                                             cost per drained item; bench/ops_bench.py)
#
# Creates bench/.venv (the runtime requirements plus the benchmark-only ones pinned in
# bench/requirements.txt), installs wrk with apt-get when it is missing, and needs a
# PostgreSQL server (BENCH_PGHOST / BENCH_PGPORT / BENCH_PGUSER, default postgres@127.0.0.1:5432,
# trust authentication) on which it creates and drops scratch databases tsh_<suite>_bench_*.
set -euo pipefail
cd "$(dirname "$0")/.."

suite="${1:-}"
case "$suite" in
    sync) module=bench.sync_bench; shift ;;
    mobile) module=bench.mobile_bench; shift ;;
    cold) module=bench.cold_start; shift ;;
    lambda) module=bench.lambda_package; shift ;;
    relevance) module=bench.relevance; shift ;;
    ops) module=bench.ops_bench; shift ;;
    http) module=bench.http_server; shift ;;
    slow) module=bench.slow_bodies; shift ;;
    *) echo "usage: bench/run.sh sync [--quick] [--only intake,enqueue,drain,outbox,claim] [--rounds N] ..." >&2
       echo "       bench/run.sh mobile [--quick] [--keep-data] [--only home_anon,search,...] [--duration S] ..." >&2
       echo "       bench/run.sh cold [--repeat N]" >&2
       echo "       bench/run.sh http [--rounds N] [--duration S]" >&2
       echo "       bench/run.sh slow [--clients N] [--seconds S] [--requests R]" >&2
       echo "       bench/run.sh lambda [--repeat N]" >&2
       echo "       bench/run.sh relevance [--database-url URL]" >&2
       exit 2 ;;
esac

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python 3.11 or newer is required (found: $("$python" --version 2>&1))" >&2
    exit 1
fi
[ -x bench/.venv/bin/python ] || "$python" -m venv bench/.venv
stamp=bench/.venv/.installed
digest=$(cat bench/requirements.txt requirements.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
    echo "Installing bench/requirements.txt into bench/.venv ..." >&2
    bench/.venv/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
    echo "$digest" > "$stamp"
fi

if ! command -v wrk >/dev/null; then
    echo "Installing wrk ..." >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
    else sudo apt-get install -y -qq wrk >/dev/null; fi
fi

export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec bench/.venv/bin/python -m "$module" "$@"
