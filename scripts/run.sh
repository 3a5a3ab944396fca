#!/usr/bin/env bash
# The main job: every function on one local server (embedded SQLite by default, with demo data).
# Usage: scripts/run.sh [--host H] [--port P] [--demo]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh requirements.txt
exec .venv/bin/python local_runner.py "$@"
