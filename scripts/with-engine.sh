#!/usr/bin/env bash
# Run a command (benchmarks) with an engine and the test image available; stop what was started.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/engine-lib.sh
trap ir_cleanup_engine EXIT
ir_ensure_engine
ir_build_test_image
export IR_TEST_IMAGE
[ -f dist/index.js ] || [ -d dist/commands ] || npm run --silent build >/dev/null
"$@"
