#!/usr/bin/env bash
# The main job: every function on one local server (embedded SQLite by default, with demo data).
# Usage: scripts/run.sh [--host H] [--port P] [--workers N] [--threads T] [--demo]
# --workers defaults to the number of cores (nproc): one HTTP process per core uses them all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh requirements.txt
workers=()
case " $* " in *" --workers "* | *" --workers="*) ;; *) workers=(--workers "$(nproc)") ;; esac
exec .venv/bin/python local_runner.py "${workers[@]}" "$@"
