# Extra engines beside the host's: Docker 28 (overlay2 store), the same Docker 28 with the containerd
# image store, and Podman 5 (Docker-compatible API of `podman system service`), all from Debian sid.
#
# Each runs from one debootstrapped sid root (cached under /var/cache/ir-test) in its own network
# namespace (so its bridge is never the host's docker0) and its own mount namespace entered with
# pivot_root (with plain chroot, `docker exec` lands in the host's / and `docker import` cannot remount /).
# No pid namespace: container pids are host pids, as on a real engine host (ir reads /proc/<pid>/net).
# Sockets live in /run/ir-engines/<engine>/sock/ on the host, bind-mounted into the engine's root.
# Data roots persist under /var/lib/ir-engines/<engine> so reruns keep the loaded test image.
#
# Sourced by scripts/engine-lib.sh; the command line is scripts/engines/engine.sh.

IR_ENGINES_ALL="docker20 docker28 docker28-containerd podman5"
IR_ENGINES_CACHE="${IR_ENGINES_CACHE:-/var/cache/ir-test}"
IR_SID_ROOT="${IR_SID_ROOT:-$IR_ENGINES_CACHE/sid-root}"
IR_SID_MIRROR="${IR_SID_MIRROR:-}"
IR_ENGINES_RUN="/run/ir-engines"
IR_ENGINES_LIB="/var/lib/ir-engines"
# What the sid root holds; changing this list rebuilds the cached root.
IR_SID_PACKAGES="docker.io docker-cli docker-compose docker-buildx containerd runc podman netavark aardvark-dns conmon catatonit nftables iptables iproute2 ca-certificates procps"
IR_ENGINES_DIR="${IR_ENGINES_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"

ir_elog() { echo "[ir-engines] $*" >&2; }

# The Debian mirror the host's apt uses (deb822 URIs: or one-line deb), for debootstrap.
ir_sid_mirror() {
  if [ -n "$IR_SID_MIRROR" ]; then echo "$IR_SID_MIRROR"; return; fi
  local m
  m=$(grep -hE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -1)
  [ -n "$m" ] || m=$(grep -hE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{for(i=2;i<=NF;i++) if ($i ~ /^https?:/) {print $i; exit}}' | grep -E '/debian/?$' | head -1)
  echo "${m:-http://deb.debian.org/debian}"
}

ir_sid_stamp() { echo "$IR_SID_PACKAGES" | sha256sum | cut -c1-16; }

# Build (once) the sid root with the engines. Idempotent: a root with a matching stamp is reused.
ir_sid_root() {
  local stamp; stamp=$(ir_sid_stamp)
  if [ -f "$IR_SID_ROOT/.ir-ready" ] && [ "$(cat "$IR_SID_ROOT/.ir-ready")" = "$stamp" ]; then return 0; fi
  [ "$(id -u)" = 0 ] || { ir_elog "building the sid root needs root"; return 1; }
  command -v debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || { ir_elog "cannot install debootstrap"; return 1; }
  local mirror partial="$IR_SID_ROOT.partial" t0=$SECONDS
  mirror=$(ir_sid_mirror)
  mkdir -p "$IR_ENGINES_CACHE"
  # A root built for another package list: install the difference into it rather than debootstrap again.
  if [ -f "$IR_SID_ROOT/.ir-debootstrapped" ] && [ ! -e "$partial" ]; then mv "$IR_SID_ROOT" "$partial"; rm -f "$partial/.ir-ready"; fi
  if [ ! -x "$partial/usr/bin/apt-get" ] || [ ! -f "$partial/.ir-debootstrapped" ]; then
    rm -rf "$partial"
    ir_elog "debootstrap sid from $mirror into $partial (log: $IR_ENGINES_CACHE/debootstrap.log)"
    debootstrap --variant=minbase sid "$partial" "$mirror" >"$IR_ENGINES_CACHE/debootstrap.log" 2>&1 \
      || { ir_elog "debootstrap failed:"; tail -20 "$IR_ENGINES_CACHE/debootstrap.log" >&2; return 1; }
    touch "$partial/.ir-debootstrapped"
  fi
  ir_elog "installing the engines into the sid root: $IR_SID_PACKAGES"
  # The mirror's sid Release file can be past its Valid-Until date.
  cat >"$partial/etc/apt/apt.conf.d/99ir" <<'EOF'
Acquire::Check-Valid-Until "false";
APT::Install-Recommends "false";
Dpkg::Use-Pty "false";
EOF
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"; chmod +x "$partial/usr/sbin/policy-rc.d"
  local mounted=""
  mount -t proc proc "$partial/proc" && mounted="$partial/proc"
  # shellcheck disable=SC2086
  if ! chroot "$partial" env DEBIAN_FRONTEND=noninteractive sh -c "apt-get update -qq -o Acquire::Check-Valid-Until=false && apt-get install -y -qq -o Acquire::Check-Valid-Until=false $IR_SID_PACKAGES && apt-get clean" >"$IR_ENGINES_CACHE/apt.log" 2>&1; then
    [ -n "$mounted" ] && umount "$mounted"
    ir_elog "apt-get in the sid root failed:"; tail -20 "$IR_ENGINES_CACHE/apt.log" >&2; return 1
  fi
  [ -n "$mounted" ] && umount "$mounted"
  mkdir -p "$partial/run/ir-engine" "$partial/.oldroot" "$partial/etc/ir-engine" "$partial/var/lib/docker" "$partial/var/lib/containerd" "$partial/var/lib/containers"
  rm -rf "$IR_SID_ROOT"
  mv "$partial" "$IR_SID_ROOT"
  echo "$stamp" >"$IR_SID_ROOT/.ir-ready"
  ir_elog "sid root ready in $((SECONDS - t0)) s: $(ir_sid_versions)"
}

ir_sid_versions() {
  chroot "$IR_SID_ROOT" dpkg-query -W -f '${Package}=${Version} ' docker.io docker-compose containerd podman runc 2>/dev/null
}

ir_engine_known() { case " $IR_ENGINES_ALL " in *" $1 "*) return 0 ;; *) ir_elog "unknown engine \"$1\" (known: $IR_ENGINES_ALL)"; return 1 ;; esac; }

ir_engine_socket() {
  case "$1" in
    docker20) echo /var/run/docker.sock ;;
    podman5) echo "$IR_ENGINES_RUN/$1/sock/podman.sock" ;;
    *) echo "$IR_ENGINES_RUN/$1/sock/docker.sock" ;;
  esac
}

# Client side of an engine: DOCKER_HOST, and for the sid engines the sid docker CLI with Compose v2 and
# buildx as plugins (DOCKER_CONFIG names the plugin dir; the host's ~/.docker is untouched).
ir_engine_env() {
  local e=$1
  ir_engine_known "$e" || return 1
  if [ "$e" = docker20 ]; then echo "DOCKER_HOST=unix:///var/run/docker.sock"; return; fi
  echo "DOCKER_HOST=unix://$(ir_engine_socket "$e")"
  # Its published ports are on the loopback of its own network namespace (tests reach them from inside it).
  echo "IR_ENGINE_NETNS=ir-$e"
  echo "DOCKER_CONFIG=$IR_ENGINES_RUN/$e/client"
  echo "PATH=$IR_ENGINES_RUN/$e/client/bin:$PATH"
  # Podman has no BuildKit: compose and docker build use the classic build API there (ir does the same by itself).
  [ "$e" = podman5 ] && printf 'DOCKER_BUILDKIT=0\nCOMPOSE_BAKE=false\n'
  return 0
}

ir_engine_pid() { local f="$IR_ENGINES_RUN/$1/pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

ir_engine_ping() { curl -fsS --max-time 3 --unix-socket "$(ir_engine_socket "$1")" http://d/_ping >/dev/null 2>&1; }

# A distinct address block per engine, never the host's 172.17/16 or the extra test engines' 10.100+.
ir_engine_net() { case "$1" in docker28) echo 28 ;; docker28-containerd) echo 29 ;; podman5) echo 30 ;; esac; }

ir_engine_prepare_client() {
  local e=$1 c="$IR_ENGINES_RUN/$1/client"
  mkdir -p "$c/bin"
  ln -sfn "$IR_SID_ROOT/usr/bin/docker" "$c/bin/docker"
  # The sid docker CLI is dynamically linked against sid's libc: run it with sid's loader and libraries.
  if ! "$IR_SID_ROOT/usr/bin/docker" --version >/dev/null 2>&1; then
    rm -f "$c/bin/docker"
    printf '#!/bin/sh\nexec %s/lib64/ld-linux-x86-64.so.2 --library-path %s/lib/x86_64-linux-gnu:%s/usr/lib/x86_64-linux-gnu %s/usr/bin/docker "$@"\n' "$IR_SID_ROOT" "$IR_SID_ROOT" "$IR_SID_ROOT" "$IR_SID_ROOT" >"$c/bin/docker"
    chmod +x "$c/bin/docker"
  fi
  # docker-compose (v1 on the host) must not shadow Compose v2 for these engines.
  printf '#!/bin/sh\nexec docker compose "$@"\n' >"$c/bin/docker-compose"; chmod +x "$c/bin/docker-compose"
  printf '{"cliPluginsExtraDirs":["%s/usr/libexec/docker/cli-plugins","%s/usr/lib/docker/cli-plugins"]}\n' "$IR_SID_ROOT" "$IR_SID_ROOT" >"$c/config.json"
}

# Start one sid engine (idempotent): network namespace, then the engine in its own mount namespace.
ir_engine_start() {
  local e=$1
  ir_engine_known "$e" || return 1
  if [ "$e" = docker20 ]; then docker -H unix:///var/run/docker.sock info >/dev/null 2>&1 || { ir_elog "the host engine (docker20) does not answer"; return 1; }; return 0; fi
  ir_sid_root || return 1
  local run="$IR_ENGINES_RUN/$e" lib="$IR_ENGINES_LIB/$e" ns="ir-$e" t0=$SECONDS
  mkdir -p "$run/sock" "$lib"
  ir_engine_prepare_client "$e"
  if ir_engine_pid "$e" >/dev/null && ir_engine_ping "$e"; then return 0; fi
  ir_engine_stop "$e" >/dev/null 2>&1 || true
  mkdir -p "$run/sock" "$lib"
  ip netns add "$ns" 2>/dev/null || true
  ip -n "$ns" link set lo up
  ir_elog "starting $e (log: $run/engine.log)"
  # The engine sees the host's /tmp, /home, ... and the folder the repository is in (CI checkouts live anywhere).
  local top; top="/$(pwd -P | cut -d/ -f2)"
  IR_ENGINE_SHARED_DIRS="${IR_ENGINE_SHARED_DIRS:-/tmp /var/tmp /home /root /srv /opt /mnt /work} $top" \
  setsid nsenter --net="/run/netns/$ns" unshare --mount --propagation private -- bash "$IR_ENGINES_DIR/enter.sh" "$e" "$IR_SID_ROOT" "$run" "$lib" "$(ir_engine_net "$e")" >"$run/engine.log" 2>&1 </dev/null &
  echo $! >"$run/pid"
  for _ in $(seq 1 240); do
    if ir_engine_ping "$e"; then ir_elog "$e ready in $((SECONDS - t0)) s"; return 0; fi
    if ! kill -0 "$(cat "$run/pid")" 2>/dev/null; then ir_elog "$e exited:"; tail -25 "$run/engine.log" >&2; return 1; fi
    sleep 0.5
  done
  ir_elog "$e did not answer in 120 s:"; tail -25 "$run/engine.log" >&2
  return 1
}

ir_engine_stop() {
  local e=$1
  ir_engine_known "$e" || return 1
  [ "$e" = docker20 ] && return 0
  local run="$IR_ENGINES_RUN/$e" pid
  if pid=$(ir_engine_pid "$e"); then
    # Podman's containers (conmon) outlive `podman system service`: stop them through the API first.
    if [ "$e" = podman5 ]; then
      local sock ids; sock=$(ir_engine_socket "$e")
      ids=$(docker -H "unix://$sock" ps -q 2>/dev/null || true)
      # shellcheck disable=SC2086
      [ -n "$ids" ] && docker -H "unix://$sock" stop -t 1 $ids >/dev/null 2>&1
    fi
    # The engine is the last process of the session started by ir_engine_start: TERM it and wait.
    pkill -TERM -s "$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && pkill -KILL -s "$pid" 2>/dev/null
  fi
  rm -f "$run/pid"
  # Container processes (conmon, shims) of that engine may outlive it: their network namespace goes with them.
  local nspids; nspids=$(ip netns pids "ir-$e" 2>/dev/null || true)
  [ -n "$nspids" ] && kill -KILL $nspids 2>/dev/null
  ip netns del "ir-$e" 2>/dev/null || true
  rm -rf "$run/sock"
}

# Copy the test image from the host engine into an engine (docker save | docker load).
ir_engine_load_image() {
  local e=$1 image=${2:-${IR_TEST_IMAGE:-ir-test/busybox:latest}}
  [ "$e" = docker20 ] && return 0
  local sock; sock=$(ir_engine_socket "$e")
  if docker -H "unix://$sock" image inspect "$image" >/dev/null 2>&1 && { [ "$e" != podman5 ] || docker -H "unix://$sock" image inspect "docker.io/${image#docker.io/}" >/dev/null 2>&1; }; then return 0; fi
  ir_elog "loading $image into $e"
  docker -H unix:///var/run/docker.sock save "$image" | docker -H "unix://$sock" load >/dev/null || { ir_elog "could not load $image into $e"; return 1; }
  docker -H "unix://$sock" image inspect "$image" >/dev/null 2>&1 || { ir_elog "$image is not in $e after the load"; return 1; }
  # Podman loads it as localhost/<name>, while its compat API (and a build's FROM) resolve short names on docker.io.
  if [ "$e" = podman5 ]; then docker -H "unix://$sock" tag "$image" "docker.io/${image#docker.io/}" || return 1; fi
}

# One line: engine and compose versions, image store, as the suite's header for that engine.
ir_engine_describe() {
  local e=$1
  (
    while IFS= read -r kv; do export "${kv?}"; done < <(ir_engine_env "$e")
    local server store compose
    server=$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')
    store=$(docker info --format '{{.Driver}}{{range .DriverStatus}}{{if eq (index . 0) "driver-type"}} ({{index . 1}}){{end}}{{end}}' 2>/dev/null || echo '?')
    compose=$(docker compose version --short 2>/dev/null || docker-compose version --short 2>/dev/null || echo none)
    echo "server $server, storage $store, compose $compose"
  )
}
