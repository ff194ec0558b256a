# Shared by scripts/test.sh and scripts/with-engine.sh: make sure a Docker engine answers, provisioning
# one on a fresh Debian machine (as root) when none is reachable, and build the local test image.
# No registry is reachable: the test image is a busybox rootfs imported with `docker import`.

IR_TEST_IMAGE="${IR_TEST_IMAGE:-ir-test/busybox:latest}"
IR_STARTED_DOCKERD=""
IR_CREATED_TEST_IMAGE=""
IR_DOCKERD_PIDFILE="/run/ir-test-dockerd.pid"
IR_DOCKERD_LOG="${TMPDIR:-/tmp}/ir-test-dockerd.log"

ir_log() { echo "[ir-test] $*" >&2; }

# The extra engines (Docker 28, Docker 28 with the containerd store, Podman 5): scripts/engines/.
# shellcheck source=scripts/engines/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/engines/lib.sh"
IR_STARTED_ENGINES=""

# Which engines the suite runs on: IR_ENGINES (space or comma separated), by default all four in CI
# (CI=true) and the host's engine alone elsewhere.
ir_engines_selected() {
  local list="${IR_ENGINES:-}"
  if [ -z "$list" ]; then if [ "${CI:-}" = true ]; then list="$IR_ENGINES_ALL"; else list=docker20; fi; fi
  list=${list//,/ }
  local e; for e in $list; do ir_engine_known "$e" || return 1; done
  echo $list
}

# Start a selected sid engine (provisioning the cached root the first time) and load the test image.
# Remembers what it started so ir_cleanup_engine stops only that.
ir_engine_provision() {
  local e=$1
  [ "$e" = docker20 ] && return 0
  local was_up=""; ir_engine_pid "$e" >/dev/null && ir_engine_ping "$e" && was_up=1
  ir_engine_start "$e" || return 1
  [ -n "$was_up" ] || IR_STARTED_ENGINES="$IR_STARTED_ENGINES $e"
  ir_engine_load_image "$e" "$IR_TEST_IMAGE"
}

ir_engine_up() { docker info >/dev/null 2>&1; }

ir_install_packages() {
  local need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v docker >/dev/null 2>&1 || need+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || need+=(docker-compose)
  # grep without -q: an early exit would SIGPIPE busybox and, under pipefail, look like a failure.
  [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -x httpd >/dev/null || need+=(busybox-static)
  command -v tmux >/dev/null 2>&1 || need+=(tmux)
  # skopeo checks saved images outside any engine; curl pings the test engines' sockets.
  command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  # ssh:// engine tests: the OpenSSH client (ssh, ssh-agent, ssh-keygen) and a server the test starts on a loopback port.
  command -v ssh >/dev/null 2>&1 && command -v ssh-agent >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
  # Case seals: openssl ts (RFC 3161 query, the test's own authority, -verify); sha256sum is coreutils.
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  # Hand-over: mactime reads the body file; strace shows verify --archive writes nothing of the evidence.
  command -v mactime >/dev/null 2>&1 || need+=(sleuthkit)
  command -v strace >/dev/null 2>&1 || need+=(strace)
  [ -x /usr/sbin/sshd ] || need+=(openssh-server)
  if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then ir_log "missing ${need[*]} and not root: install them first"; return 1; fi
    ir_log "installing ${need[*]} (Debian packages)"
    # No package may start its service (openssh-server would listen on port 22): the tests start what they need.
    local policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy=1; fi
    local status=0
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } || status=$?
    if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
    return $status
  fi
}

ir_ensure_engine() {
  ir_install_packages || return 1
  if ir_engine_up; then
    ir_log "using the engine already reachable at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
    return 0
  fi
  if [ -n "${DOCKER_HOST:-}" ]; then ir_log "DOCKER_HOST=$DOCKER_HOST is set but does not answer"; return 1; fi
  if [ "$(id -u)" != 0 ]; then ir_log "no engine reachable and not root: cannot start dockerd"; return 1; fi
  ir_log "starting dockerd (log: $IR_DOCKERD_LOG)"
  dockerd --pidfile "$IR_DOCKERD_PIDFILE" >"$IR_DOCKERD_LOG" 2>&1 &
  IR_STARTED_DOCKERD=$!
  for _ in $(seq 1 120); do
    if ir_engine_up; then ir_log "dockerd ready"; return 0; fi
    if ! kill -0 "$IR_STARTED_DOCKERD" 2>/dev/null; then ir_log "dockerd exited:"; tail -20 "$IR_DOCKERD_LOG" >&2; return 1; fi
    sleep 0.5
  done
  ir_log "dockerd did not become ready in 60 s"; tail -20 "$IR_DOCKERD_LOG" >&2
  return 1
}

ir_build_test_image() {
  if docker image inspect "$IR_TEST_IMAGE" >/dev/null 2>&1; then return 0; fi
  ir_log "building $IR_TEST_IMAGE from the host's static busybox"
  local root; root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc" "$root/root" "$root/home/developer" "$root/data"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\ndeveloper:x:1000:1000:developer:/home/developer:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\ndeveloper:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"
  chown 1000:1000 "$root/home/developer"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' -c 'LABEL ir.test=true' - "$IR_TEST_IMAGE" >/dev/null
  rm -rf "$root"
  IR_CREATED_TEST_IMAGE=1
}

# The end-to-end tier opens the HTML report in headless Chromium (Debian package chromium).
# Installed here when missing and running as root; otherwise the e2e test skips (and fails when CI=true).
IR_CHROMIUM="${IR_CHROMIUM:-/usr/bin/chromium}"
ir_ensure_chromium() {
  if [ -x "$IR_CHROMIUM" ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    ir_log "chromium not found at $IR_CHROMIUM and not root: skipping its install; the end-to-end report test will be skipped (it fails when CI=true). Install the Debian package chromium to run it."
    return 0
  fi
  ir_log "installing chromium (Debian package) for the end-to-end tier"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
    ir_log "could not install chromium: the end-to-end report test will be skipped (it fails when CI=true)"
  fi
  return 0
}

ir_cleanup_engine() {
  local e
  for e in $IR_STARTED_ENGINES; do ir_log "stopping $e (this run started it)"; ir_engine_stop "$e" || true; done
  if [ -n "$IR_STARTED_DOCKERD" ]; then
    ir_log "stopping the dockerd this run started"
    kill "$IR_STARTED_DOCKERD" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$IR_STARTED_DOCKERD" 2>/dev/null || break; sleep 0.5; done
  elif [ -n "$IR_CREATED_TEST_IMAGE" ] && [ -z "${IR_KEEP_TEST_IMAGE:-}" ]; then
    docker image rm -f "$IR_TEST_IMAGE" >/dev/null 2>&1 || true
  fi
}
