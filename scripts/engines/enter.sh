#!/usr/bin/env bash
# Runs inside a fresh network namespace and a private mount namespace (see lib.sh, ir_engine_up):
# mounts the sid root with its own /proc, /sys, /dev, /run and /tmp, the engine's data and config dirs and
# the socket dir shared with the host, pivot_roots into it and execs the engine. Never run it on the host.
set -euo pipefail
e=$1 root=$2 run=$3 lib=$4 net=$5
IR_ENGINE_SHARED_DIRS=${IR_ENGINE_SHARED_DIRS:-/tmp /var/tmp /home /root /srv /opt /mnt /work}
new="$run/root"

[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] || { echo "enter.sh: not in a private mount namespace" >&2; exit 1; }
[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] || { echo "enter.sh: not in a separate network namespace" >&2; exit 1; }

mkdir -p "$new" "$lib/conf" "$lib/docker" "$lib/containerd" "$lib/containers" "$lib/cni"
mount --make-rprivate /
mount --bind "$root" "$new"
mount -t proc proc "$new/proc"
mount -t sysfs sysfs "$new/sys"
mount --rbind /sys/fs/cgroup "$new/sys/fs/cgroup"
mount --rbind /dev "$new/dev"
mount -t tmpfs -o mode=755 tmpfs "$new/run"
mkdir -p "$new/run/ir-engine" "$new/run/lock"
mount --bind "$run/sock" "$new/run/ir-engine"
# Host paths a bind mount or a build context may name (as on a real engine host, the engine sees them).
for d in $IR_ENGINE_SHARED_DIRS; do
  [ -d "$d" ] || continue
  case "$d" in /|/proc*|/sys*|/dev*|/run*|/etc*|/usr*|/var/lib*|/bin*|/sbin*|/lib*) continue ;; esac
  mkdir -p "$new$d"
  mount --rbind "$d" "$new$d"
done
mount --bind "$lib/conf" "$new/etc/ir-engine"
mount --bind "$lib/docker" "$new/var/lib/docker"
mount --bind "$lib/containerd" "$new/var/lib/containerd"
mount --bind "$lib/containers" "$new/var/lib/containers"

case "$e" in
  docker28 | docker28-containerd)
    features='{}'
    [ "$e" = docker28-containerd ] && features='{"containerd-snapshotter": true}'
    cat >"$lib/conf/daemon.json" <<EOF
{
  "bip": "172.$net.0.1/16",
  "default-address-pools": [{"base": "10.$net.0.0/16", "size": 24}],
  "cgroup-parent": "/ir-$e",
  "shutdown-timeout": 3,
  "log-level": "warn",
  "features": $features
}
EOF
    cmd=(dockerd --config-file /etc/ir-engine/daemon.json -H unix:///run/ir-engine/docker.sock --pidfile /run/docker.pid)
    ;;
  podman5)
    # Buildah's RUN steps ask for RLIMIT_NOFILE and RLIMIT_NPROC 1048576 by default; where the hard limit is lower (and cannot
    # be raised without CAP_SYS_RESOURCE) runc refuses: keep to the limit this engine has.
    nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
    cat >"$lib/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
[network]
network_backend = "netavark"
default_subnet = "172.$net.0.0/16"
default_subnet_pools = [{"base" = "10.$net.0.0/16", "size" = 24}]
EOF
    cat >"$lib/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
EOF
    export CONTAINERS_CONF=/etc/ir-engine/containers.conf CONTAINERS_STORAGE_CONF=/etc/ir-engine/storage.conf
    # crun refuses this host's hybrid cgroup layout: runc.
    cmd=(podman --runtime runc system service --time=0 unix:///run/ir-engine/podman.sock)
    ;;
  *) echo "enter.sh: unknown engine $e" >&2; exit 1 ;;
esac

cd "$new"
pivot_root . .oldroot
cd /
umount -l /.oldroot
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
exec "${cmd[@]}"
