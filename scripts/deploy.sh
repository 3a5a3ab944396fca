#!/usr/bin/env bash
# Deploy a stage to AWS: package, migrate with the new code inside the VPC, shift the traffic,
# verify. Usage: scripts/deploy.sh STAGE [--param=name=value ...]   (README, Deploying)
#
#   1. package      the zip and template, offline; a stage that needs a network refuses here
#   2. migrate      the `migrate` Lambda alone gets the new code, then is invoked: the schema
#                   moves ahead while the old code still serves (migrations only add, so the
#                   old code works on the new schema: docs/OPERATIONS.md, Deploy)
#   3. deploy       every other function takes the new code from the package of step 1
#   4. verify       python -m common.verify against the stage's URL (ADMIN_API_KEY and
#                   WEBHOOK_API_KEY from the environment, as for a manual run)
# A stage's first deploy has no `migrate` Lambda yet: it deploys, then migrates (nothing
# served before). Any failing step stops the script. DRY_RUN=1 prints the commands instead.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/deploy.sh STAGE [--param=name=value ...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
stage="$1"
shift
[[ "$stage" =~ ^[a-z][a-z0-9-]{0,15}$ ]] || { echo "deploy: stage must be lowercase letters, digits and dashes, not '$stage'" >&2; exit 2; }
for extra in "$@"; do
    [[ "$extra" == --param=*=* ]] || { echo "deploy: only --param=name=value options may follow the stage, not '$extra'" >&2; exit 2; }
done

python="${PYTHON:-.venv/bin/python}"
package=".serverless/$stage"
serverless() { run npx --no-install serverless "$@" --stage "$stage"; }
run() {
    echo "+ $*" >&2
    if [ "${DRY_RUN:-0}" != 1 ]; then "$@"; fi
}

export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
serverless package --package "$package" "$@"

if [ "${DRY_RUN:-0}" = 1 ] || npx --no-install serverless info --stage "$stage" "$@" >/dev/null 2>&1; then
    serverless deploy function --function migrate "$@"
    serverless invoke --function migrate "$@"
    serverless deploy --package "$package" "$@"
else
    echo "deploy: no stack for stage $stage yet: deploying it, then migrating" >&2
    serverless deploy --package "$package" "$@"
    serverless invoke --function migrate "$@"
fi

if [ "${DRY_RUN:-0}" = 1 ]; then
    url='<HttpApiUrl>'
else
    url="$(npx --no-install serverless info --verbose --stage "$stage" "$@" 2>&1 | sed -n 's/^ *HttpApiUrl: *//p')"
    [ -n "$url" ] || { echo "deploy: no HttpApiUrl in 'serverless info' for stage $stage" >&2; exit 1; }
fi
run "$python" -m common.verify "$url"
