#!/usr/bin/env bash
# Every test file of a tier, each in a vitest process of its own: a file that only passes after another one
# (shared state, a leftover folder, an order) fails here.
# Usage: scripts/test-each.sh [--json <file>] [tier]...
#   tiers: the vitest projects (unit, command, integration, custody, engines, prune); default: unit command, the
#   tiers without Docker. The integration tiers need an engine (IR_TEST_IMAGE, DOCKER_HOST as for npm test).
#   --json <file>: also write one vitest JSON report merged from every file's run (the shape `vitest --reporter=json`
#   writes), so scripts/test.sh counts and lists failures as for a whole-suite run.
# Prints one line per file and a summary; exits 1 if any file failed alone.
set -uo pipefail
cd "$(dirname "$0")/.."
json_out=
if [ "${1:-}" = --json ]; then
  json_out=$2
  shift 2
fi
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit command)
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
failed=()
count=0
for tier in "${tiers[@]}"; do
  # The project's own file list (its include and exclude), as vitest resolves it.
  if ! listing=$(npx vitest list --project "$tier" --filesOnly 2>&1); then
    echo "test-each: cannot list the files of tier '$tier' (a vitest project: unit, command, integration, custody, engines, prune):" >&2
    printf '%s\n' "$listing" | tail -5 >&2
    exit 2
  fi
  files=$(printf '%s\n' "$listing" | sed -n 's/^\[[^]]*\] //p' | sort)
  for f in $files; do
    count=$((count + 1))
    t0=$SECONDS
    reporters=()
    if [ -n "$json_out" ]; then
      reporters=(--reporter=default --reporter=json "--outputFile.json=$reports/$count.json")
    fi
    if out=$(npx vitest run --project "$tier" "${reporters[@]}" "$f" 2>&1); then
      echo "alone ok   $f ($((SECONDS - t0)) s)"
    else
      echo "alone FAIL $f ($((SECONDS - t0)) s)"
      printf '%s\n' "$out" | tail -40 | sed 's/^/    /'
      failed+=("$f")
    fi
  done
done
echo "test files run alone: $count, failed: ${#failed[@]}${failed[*]:+ (${failed[*]})}"
if [ -n "$json_out" ]; then
  node -e '
    const fs = require("fs")
    const [dir, out] = process.argv.slice(1)
    const sum = {numTotalTests: 0, numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0,
      numTotalTestSuites: 0, numPassedTestSuites: 0, numFailedTestSuites: 0, numPendingTestSuites: 0,
      success: true, testResults: []}
    for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".json"))) {
      const r = JSON.parse(fs.readFileSync(`${dir}/${name}`, "utf8"))
      for (const k of Object.keys(sum)) if (typeof sum[k] === "number") sum[k] += r[k] ?? 0
      sum.success &&= r.success !== false
      sum.testResults.push(...(r.testResults ?? []))
    }
    fs.writeFileSync(out, JSON.stringify(sum))
  ' "$reports" "$json_out"
fi
[ ${#failed[@]} -eq 0 ]
