#!/usr/bin/env bash
# The whole test suite, on SQLite and on PostgreSQL (TEST_DATABASE_URL, default the local server).
# Usage: scripts/test.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
