#!/usr/bin/env bash
# Build the Lambda deployment package offline with the pinned Serverless Framework v3: fake
# credentials, so that anything trying to reach AWS would fail, and no telemetry.
# Usage: scripts/package-lambda.sh [output directory] [architecture] [--param=name=value ...]
#   (default .serverless arm64; a prod package needs its network: --param=subnetIds=... --param=securityGroupIds=...)
set -euo pipefail
cd "$(dirname "$0")/.."
output="${1:-.serverless}"
architecture="${2:-arm64}"
if [ ! -x node_modules/.bin/serverless ]; then
    echo "node_modules is missing: run npm ci first" >&2
    exit 1
fi
export AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE AWS_SECRET_ACCESS_KEY=fake-secret-access-key-never-valid
export AWS_REGION="${AWS_REGION:-me-south-1}" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
exec node_modules/.bin/serverless package --stage "${STAGE:-prod}" --package "$output" --param="architecture=$architecture" "${@:3}"
