#!/usr/bin/env bash
# The whole test suite: unit tests, then the integration tiers against real engines, once per engine of
# IR_ENGINES (default: all four when CI=true, the host's docker20 alone elsewhere):
#   docker20             the host's Docker engine (Debian 12's 20.10, compose v1), provisioned here when none answers
#   docker28             Docker 28 with Compose v2 (Debian sid), overlay2 image store
#   docker28-containerd  the same Docker 28 with the containerd image store
#   podman5              Podman 5, rootful, through `podman system service` (Docker-compatible API)
# The sid engines come from scripts/engines/ (a cached debootstrapped root, own netns and mount namespace).
# An engine that cannot be provisioned fails the run: it is never skipped silently.
# Extra arguments go to vitest on every engine (e.g. `npm test -- test/integration/isolate.integration.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/engine-lib.sh
. scripts/engine-lib.sh

trap ir_cleanup_engine EXIT
engines=$(ir_engines_selected)
ir_ensure_engine
ir_build_test_image
ir_ensure_chromium
export IR_TEST_IMAGE IR_CHROMIUM

npm run --silent build >/dev/null
npm run --silent typecheck
# House rules before any test: ESLint, the layer rules (dependency-cruiser) and Prettier's check.
npm run --silent lint
# Every unit and command test file alone, in a process of its own (no Docker; a few minutes): none may need another.
bash scripts/test-each.sh unit command

# What runs where: the whole suite on the host engine; every integration and end-to-end file on docker28, each
# file alone; the whole integration project on docker28-containerd and podman5. Multi-host, swarm, the killed
# engine, the daemon audit and the host-wide prune start extra dockerd processes or prune the host engine: host only
# (swarm on Podman: its refusal is tested in the integration project). docs/engines.md has the per-engine figures.
# Open on Podman (docs/engines.md, "What is open on Podman"): its compat inspect drops log options (a false
# logging.rotation finding) and sets a pids limit on every container (audit, audit-cis); its default network is
# `podman` and its /info id changes per call, which the ssh tests' fixtures assume away (ssh). Run there by hand with
# `IR_ENGINES=podman5 npm test -- <file>`; everything else of the integration project runs on Podman.
PODMAN_OPEN="test/integration/audit.integration.test.ts test/integration/audit-cis.integration.test.ts test/integration/ssh.integration.test.ts"
suite_args() {
  case "$1" in
    docker20) echo "" ;;
    docker28) echo "--project integration" ;;
    docker28-containerd) echo "--project integration" ;;
    podman5) echo "--project integration" ;;
  esac
}

results_dir=$(mktemp -d)
status=0
summary=()
# Provision every selected engine first (the host pass prunes its own engine at the end; the sid engines copy the
# test image from it), each timed; one that fails is reported and its pass is not run.
declare -A prov_s failed_prov
for e in $engines; do
  t0=$SECONDS
  if ir_engine_provision "$e"; then prov_s[$e]=$((SECONDS - t0)); else failed_prov[$e]=1; fi
done
case " $engines " in *" docker20 "*) ;; *)
  # No host pass: the unit and command tiers (no Docker) run once on their own.
  npx vitest run --project unit --project command "$@" || status=1
;; esac
for e in $engines; do
  if [ -n "${failed_prov[$e]:-}" ]; then
    ir_log "FAILED to provision $e: its tests did not run"
    summary+=("$e: NOT RUN (provisioning failed)")
    status=1
    continue
  fi
  prov=${prov_s[$e]}
  ir_log "=== $e: $(ir_engine_describe "$e")"
  t1=$SECONDS
  rc=0
  # shellcheck disable=SC2046
  (
    while IFS= read -r kv; do export "${kv?}"; done < <(ir_engine_env "$e")
    export IR_ENGINE="$e"
    if [ "$e" = podman5 ]; then export IR_TEST_EXCLUDE="$PODMAN_OPEN"; fi
    # Only an engine this run started, or a sid test engine (nothing else uses it), may be pruned host-wide.
    if [ "$e" != docker20 ] || [ -n "$IR_STARTED_DOCKERD" ]; then export IR_TEST_OWN_ENGINE=1; fi
    # On docker28 (the current engine, all of the integration project) every file runs alone, in a vitest process
    # of its own with nothing beside it (scripts/test-each.sh): a file that passes only after another one fails.
    if [ "$e" = docker28 ] && [ $# -eq 0 ]; then
      exec bash scripts/test-each.sh --json "$results_dir/$e.json" integration
    fi
    exec npx vitest run --reporter=default --reporter=json --outputFile.json="$results_dir/$e.json" $(suite_args "$e") "$@"
  ) || rc=$?
  [ $rc = 0 ] || status=1
  counts=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests+r.numTodoTests} skipped`)' "$results_dir/$e.json" 2>/dev/null || echo "no results (vitest exit $rc)")
  summary+=("$e: $counts in $((SECONDS - t1)) s (provisioning $prov s)")
done
# Plain closing lines that any CI can read.
# A CI log often keeps only its tail: name every failed test there, with the first lines of its message.
for e in $engines; do
  [ -f "$results_dir/$e.json" ] || continue
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
    const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, "")
    for (const f of r.testResults)
      for (const t of f.assertionResults)
        if (t.status === "failed") {
          console.log(`FAILED on ${process.argv[2]}: ${f.name.replace(process.cwd() + "/", "")} > ${t.fullName}`)
          for (const l of strip(t.failureMessages.join("\n")).split("\n").slice(0, 12)) console.log(`    ${l}`)
        }
    if (r.numFailedTestSuites > 0)
      for (const f of r.testResults)
        if (f.status === "failed" && f.assertionResults.length === 0)
          console.log(`FAILED on ${process.argv[2]}: ${f.name.replace(process.cwd() + "/", "")}: ${strip(f.message ?? "").split("\n")[0]}`)
  ' "$results_dir/$e.json" "$e" 2>/dev/null || true
done
for line in "${summary[@]}"; do echo "tests on $line"; done
exit $status
