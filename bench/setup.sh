#!/usr/bin/env bash
# bench/setup.sh - installs the benchmark tools and peers that do not come from npm.
#
# wrk (Debian package) is the load generator of the delivery and metadata scenarios, run
# pinned to its own core with taskset (util-linux). nginx (Debian package) is the
# static-file peer of the cached-delivery scenario. The
# harness runs it in the foreground with its own generated config (daemon off, one worker,
# loopback port, temp root) and never touches the system service; Debian's policy-rc.d on
# these machines keeps the packaged service from starting at install, which is what we want.
# ipx and autocannon are devDependencies (npm ci installs them).
#
# Idempotent: does nothing when nginx and wrk are already on PATH. Exits 0 even when they
# cannot be installed (no root, no apt): the harness then reports those scenarios as
# skipped (without wrk, delivery and metadata fall back to the in-process autocannon and say so).
set -u

have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }
have_wrk() { command -v wrk >/dev/null 2>&1; }

if have_nginx && have_wrk; then
  echo "bench/setup: nginx present ($( (nginx -v || /usr/sbin/nginx -v) 2>&1 | head -n1)), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench/setup: nginx or wrk missing and apt-get not available; cached-delivery will be skipped" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "bench/setup: nginx or wrk missing and not root (no passwordless sudo); cached-delivery will be skipped" >&2
    exit 0
  fi
fi

echo "bench/setup: installing nginx and wrk with apt-get..."
export DEBIAN_FRONTEND=noninteractive
# `nginx` is the core binary (nginx-light/-full only add modules); no recommends.
PACKAGES="nginx wrk"
if $SUDO apt-get install -y -q --no-install-recommends $PACKAGES >/dev/null 2>&1 ||
   { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q --no-install-recommends $PACKAGES >/dev/null 2>&1; }; then
  echo "bench/setup: $( (nginx -v || /usr/sbin/nginx -v) 2>&1 | head -n1), $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2)"
else
  echo "bench/setup: apt-get could not install nginx and wrk; cached-delivery will be skipped" >&2
fi
exit 0
