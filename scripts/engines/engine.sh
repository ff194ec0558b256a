#!/usr/bin/env bash
# The test engines, one command line: provision, start, stop and use them.
#
#   scripts/engines/engine.sh up   <engine>...      provision (cached sid root) and start; load the test image
#   scripts/engines/engine.sh down <engine>...      stop (data roots kept; --purge removes them)
#   scripts/engines/engine.sh env  <engine>         print DOCKER_HOST / DOCKER_CONFIG / PATH for it
#   scripts/engines/engine.sh run  <engine> cmd...  run a command against it (e.g. `docker info`, `npx vitest run ...`)
#   scripts/engines/engine.sh status                versions of every running engine
#
# Engines: docker20 (the host's), docker28, docker28-containerd, podman5. Idempotent; needs root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/engines/lib.sh
. "$here/lib.sh"
IR_TEST_IMAGE="${IR_TEST_IMAGE:-ir-test/busybox:latest}"

cmd=${1:-}; shift || true
case "$cmd" in
  up)
    [ $# -gt 0 ] || set -- docker28 docker28-containerd podman5
    for e in "$@"; do ir_engine_start "$e"; ir_engine_load_image "$e" "$IR_TEST_IMAGE"; done
    ;;
  down)
    purge=""; [ "${1:-}" = --purge ] && { purge=1; shift; }
    [ $# -gt 0 ] || set -- docker28 docker28-containerd podman5
    for e in "$@"; do ir_engine_stop "$e"; [ -n "$purge" ] && [ "$e" != docker20 ] && rm -rf "${IR_ENGINES_LIB:?}/$e"; done
    ;;
  env) ir_engine_env "${1:?engine}" | sed 's/^/export /' ;;
  run)
    e=${1:?engine}; shift
    while IFS= read -r kv; do export "${kv?}"; done < <(ir_engine_env "$e")
    export IR_ENGINE="$e"
    exec "$@"
    ;;
  status)
    for e in $IR_ENGINES_ALL; do
      s=$(ir_engine_socket "$e")
      v=$(curl -fsS --max-time 3 --unix-socket "$s" http://d/version 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(`${v.Components?.[0]?.Name ?? "Engine"} ${v.Version} (API ${v.ApiVersion})`)})' 2>/dev/null || echo "down")
      echo "$e: $v  unix://$s"
    done
    ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
