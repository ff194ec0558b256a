#!/usr/bin/env bash
# Every test file of a tier, each in a vitest process of its own: a file that only passes after another one
# (shared state, a leftover folder, an order) fails here. Usage: scripts/test-each.sh [unit|command|integration]...
# (default: unit command, the tiers without Docker; the integration tier needs an engine and takes long).
# Prints one line per file and a summary; exits 1 if any file failed alone.
set -uo pipefail
cd "$(dirname "$0")/.."
tiers=("$@")
[ ${#tiers[@]} -gt 0 ] || tiers=(unit command)
failed=()
count=0
for tier in "${tiers[@]}"; do
  case "$tier" in
    unit) files=$(ls test/unit/*.test.ts) ;;
    command) files=$(ls test/command/*.test.ts) ;;
    integration) files=$(ls test/integration/*.integration.test.ts test/e2e/*.e2e.test.ts) ;;
    *) echo "test-each: unknown tier '$tier' (unit, command or integration)" >&2; exit 2 ;;
  esac
  for f in $files; do
    count=$((count + 1))
    t0=$SECONDS
    if [ "$tier" = integration ]; then project=(); else project=(--project "$tier"); fi
    if out=$(npx vitest run "${project[@]}" "$f" 2>&1); then
      echo "alone ok   $f ($((SECONDS - t0)) s)"
    else
      echo "alone FAIL $f ($((SECONDS - t0)) s)"
      printf '%s\n' "$out" | tail -30 | sed 's/^/    /'
      failed+=("$f")
    fi
  done
done
echo "test files run alone: $count, failed: ${#failed[@]}${failed[*]:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]
