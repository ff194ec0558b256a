#!/usr/bin/env bash
# The whole test suite: unit tests, then integration tests against a real Docker engine
# (provisioned here when none is reachable), then the end-to-end tier.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/engine-lib.sh
. scripts/engine-lib.sh

trap ir_cleanup_engine EXIT
ir_ensure_engine
ir_build_test_image
ir_ensure_chromium
export IR_TEST_IMAGE IR_CHROMIUM
# Only an engine this run started may be pruned host-wide by the tests.
if [ -n "$IR_STARTED_DOCKERD" ]; then export IR_TEST_OWN_ENGINE=1; fi

npm run --silent build >/dev/null
npm run --silent typecheck
results="$(mktemp -d)/vitest.json"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# A plain closing line that any CI can read.
node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests+r.numTodoTests} skipped`)' "$results" || true
exit $status
