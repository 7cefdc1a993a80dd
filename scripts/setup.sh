#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: npm dependencies, Debian's chromium (the HTML report's
# browser test), a Docker engine, and the base images cagebench needs. Both README commands
# call it; every step is skipped when done.
#   CAGEBENCH_SKIP_NPM=1     skip the npm step (used when npm itself runs us)
#   CAGEBENCH_DOCKERD_LOG    where a dockerd we start writes its log (default below)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dockerd_log=${CAGEBENCH_DOCKERD_LOG:-/var/log/cagebench-dockerd.log}
base_image=debian:bookworm-slim
sandbox_image=cagebench/sandbox:bookworm
relay_image=cagebench/relay:bookworm

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- npm dependencies -------------------------------------------------------------------
ensure_npm_deps() {
  [ "${CAGEBENCH_SKIP_NPM:-}" = 1 ] && return 0
  local stamp="$root/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$root/package-lock.json" -nt "$stamp" ]; then
    say "installing npm dependencies (npm ci)"
    (cd "$root" && npm ci --no-audit --no-fund >&2)
  fi
}

# --- Docker engine ----------------------------------------------------------------------
# The engine's address: DOCKER_HOST when set, else the default socket.
engine_ping() {
  local host=${DOCKER_HOST:-unix:///var/run/docker.sock}
  if command -v curl >/dev/null; then
    case "$host" in
      unix://*) curl -fsS --max-time 3 --unix-socket "${host#unix://}" http://localhost/_ping >/dev/null 2>&1 ;;
      tcp://*)  curl -fsS --max-time 3 "http://${host#tcp://}/_ping" >/dev/null 2>&1 ;;
      *) return 1 ;;
    esac
  else
    # No curl: Node is always here (npm runs us).
    node -e '
      const h = process.argv[1]; const http = require("node:http");
      const o = h.startsWith("unix://") ? { socketPath: h.slice(7) } : { host: new URL(h.replace("tcp:", "http:")).hostname, port: new URL(h.replace("tcp:", "http:")).port };
      http.get({ ...o, path: "/_ping", timeout: 3000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1));
    ' "$host"
  fi
}

ensure_engine() {
  engine_ping && return 0
  if [ -n "${DOCKER_HOST:-}" ] && [ "${DOCKER_HOST}" != unix:///var/run/docker.sock ]; then
    die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST. Start that engine, or unset DOCKER_HOST to use the local one."
  fi
  if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null; then
    die "no Docker engine answers at /var/run/docker.sock. Start one (e.g. 'sudo systemctl start docker', or run 'sudo dockerd &'), or set DOCKER_HOST to a running engine, then run this again."
  fi
  if ! command -v dockerd >/dev/null; then
    say "installing Debian's docker.io with apt"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io >&2
  fi
  say "starting dockerd (log: $dockerd_log)"
  mkdir -p "$(dirname "$dockerd_log")"
  nohup dockerd >>"$dockerd_log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    engine_ping && { say "dockerd is up"; return 0; }
    sleep 0.5
  done
  tail -n 20 "$dockerd_log" >&2 || true
  die "dockerd did not answer /_ping within 60 s; its log is $dockerd_log"
}

# --- base images -----------------------------------------------------------------------
have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror configured for apt on this machine (deb822 or one-line format).
apt_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/{print $2; exit}' "$f")
    case "$uri" in *security*|"") ;; *) echo "$uri"; return 0 ;; esac
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1=="deb" && $2 !~ /^\[/ && $2 !~ /security/ {print $2; exit} $1=="deb" && $2 ~ /^\[/ && $3 !~ /security/ {for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  return 1
}

ensure_base_image() {
  have_image "$base_image" && return 0
  # Pulling contacts an image registry; only try when the user says one is reachable.
  if [ "${CAGEBENCH_PULL_IMAGES:-}" = 1 ] && docker pull -q "$base_image" >/dev/null; then return 0; fi
  local mirror
  mirror=$(apt_mirror) || die "cannot find a Debian mirror in /etc/apt/sources.list*; configure apt, or load $base_image with 'docker load'."
  command -v debootstrap >/dev/null || {
    say "installing debootstrap with apt"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2; }
  }
  local rootfs
  rootfs=$(mktemp -d /tmp/cagebench-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' RETURN
  say "building $base_image with debootstrap from the apt mirror (this takes a few minutes)"
  local log=/tmp/cagebench-debootstrap.log
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; die "debootstrap failed from mirror $mirror (full log: $log)"; }
  # slim: drop caches, docs and man pages, as the official slim image does
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  tar -C "$rootfs" -c . | docker import -c 'CMD ["bash"]' - "$base_image" >/dev/null
  say "imported $base_image"
}

# Build FROM the base image; the build uses the host's network so apt inside reaches the
# same mirror the host's apt uses, as configured in the image by debootstrap.
build_from_base() {
  local tag=$1 packages=$2
  # Rebuild when the package list changed since the image was built.
  if have_image "$tag"; then
    [ "$(docker image inspect -f '{{ index .Config.Labels "org.cagebench.packages" }}' "$tag" 2>/dev/null)" = "$packages" ] && return 0
    say "$tag is out of date (packages changed): rebuilding"
  fi
  say "building $tag"
  local log=/tmp/cagebench-build-${tag//[\/:]/-}.log
  docker build --network host -t "$tag" - >"$log" 2>&1 <<DOCKERFILE || { tail -n 30 "$log" >&2; die "building $tag failed (full log: $log)"; }
FROM $base_image
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages \
 && rm -rf /var/lib/apt/lists/*
LABEL org.cagebench.image="$tag" org.cagebench.packages="$packages"
DOCKERFILE
  say "built $tag"
}

# Install Debian packages with apt (no recommends: they pull systemd), refreshing the lists
# once if the first try fails; dies with the command to run by hand.
apt_install() {
  what=$1; shift
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
    { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; } ||
    die "installing $what with apt failed; run 'apt-get install --no-install-recommends $*' and try again"
}

# --- container runtimes for the runtime tests ------------------------------------------
# Debian's runsc (gVisor) and crun, registered only with the test's own second dockerd (the
# machine's engine is never reconfigured). --no-install-recommends: recommends pull systemd.
ensure_runtimes() {
  [ -x /usr/bin/runsc ] && [ -x /usr/bin/crun ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "warning: runsc or crun is missing and apt-get cannot install them here (not root, or not Debian): the runtime tests will fail; install Debian's runsc and crun packages"
    return 0
  fi
  say "installing Debian's runsc (gVisor) and crun with apt (the runtime tests register them with a test engine)"
  apt_install "runsc and crun" runsc crun
}

# --- Podman for its conformance test ---------------------------------------------------
# Debian's podman, which the Podman test runs rootful behind its Docker-compatible API
# (podman system service) with a configuration, storage and network namespace of its own;
# nothing here configures it system-wide. Its network stack is the CNI plugins (named, so
# apt does not pick netavark for the virtual package); runc because crun 1.8 cannot run on
# hybrid cgroups. --no-install-recommends: recommends pull systemd.
ensure_podman() {
  [ -x /usr/bin/podman ] && [ -x /usr/bin/runc ] && [ -x /usr/lib/cni/bridge ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "warning: podman, runc or the CNI plugins are missing and apt-get cannot install them here (not root, or not Debian): the Podman test will fail; install Debian's podman, runc and containernetworking-plugins packages"
    return 0
  fi
  say "installing Debian's podman (with runc and the CNI plugins) with apt (the Podman test runs its own rootful service)"
  apt_install "podman" podman runc containernetworking-plugins
}

# --- a browser for the HTML report's test ----------------------------------------------
# Debian's chromium, driven by playwright-core; never a downloaded browser build. apt reads
# the sources already configured on this machine.
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "warning: /usr/bin/chromium is missing and apt-get cannot install it here (not root, or not Debian): the HTML report's browser test will fail; install Debian's chromium package"
    return 0
  fi
  say "installing Debian's chromium with apt (the HTML report's browser test drives it)"
  apt_install "chromium" chromium
}

# --- tmux for the terminal tests ---------------------------------------------------------
# The centaur and chat tests drive a real terminal in tmux (send-keys, capture-pane).
ensure_tmux() {
  command -v tmux >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "warning: tmux is missing and apt-get cannot install it here (not root, or not Debian): the terminal tests will be skipped; install Debian's tmux package"
    return 0
  fi
  say "installing Debian's tmux with apt (the centaur and chat tests drive a terminal in it)"
  apt_install "tmux" tmux
}

start=$(date +%s)
ensure_npm_deps
ensure_chromium
ensure_tmux
ensure_runtimes
ensure_podman
ensure_engine
ensure_base_image
build_from_base "$sandbox_image" "bash coreutils git ripgrep python3 procps ca-certificates curl libatomic1"
build_from_base "$relay_image" "socat"
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -gt 5 ] && say "set-up done in ${elapsed}s"
exit 0
