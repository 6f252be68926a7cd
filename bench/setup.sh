#!/usr/bin/env bash
# bench/setup.sh - installs the benchmark peers that do not come from npm.
#
# nginx (Debian package) is the static-file peer of the cached-delivery scenario. The
# harness runs it in the foreground with its own generated config (daemon off, one worker,
# loopback port, temp root) and never touches the system service; Debian's policy-rc.d on
# these machines keeps the packaged service from starting at install, which is what we want.
# ipx and autocannon are devDependencies (npm ci installs them).
#
# Idempotent: does nothing when nginx is already on PATH. Exits 0 even when nginx cannot
# be installed (no root, no apt): the harness then reports that scenario as skipped.
set -u

have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }

if have_nginx; then
  echo "bench/setup: nginx present ($( (nginx -v || /usr/sbin/nginx -v) 2>&1 | head -n1))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench/setup: nginx missing and apt-get not available; cached-delivery will be skipped" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "bench/setup: nginx missing and not root (no passwordless sudo); cached-delivery will be skipped" >&2
    exit 0
  fi
fi

echo "bench/setup: installing nginx with apt-get..."
export DEBIAN_FRONTEND=noninteractive
# `nginx` is the core binary (nginx-light/-full only add modules); no recommends.
if $SUDO apt-get install -y -q --no-install-recommends nginx >/dev/null 2>&1 ||
   { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q --no-install-recommends nginx >/dev/null 2>&1; }; then
  echo "bench/setup: $( (nginx -v || /usr/sbin/nginx -v) 2>&1 | head -n1)"
else
  echo "bench/setup: apt-get could not install nginx; cached-delivery will be skipped" >&2
fi
exit 0
