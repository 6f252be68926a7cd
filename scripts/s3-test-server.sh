#!/usr/bin/env bash
# A real S3-protocol server for tests: single-node OpenStack Swift with its s3api middleware
# on 127.0.0.1 (shared/PLATFORM.md explains why Swift and not an emulator).
#
#   scripts/s3-test-server.sh start   install (apt, only if missing), configure, start, create
#                                     the test bucket, print the env; harmless when running
#   scripts/s3-test-server.sh env     print `export` lines: ASSETD_TEST_S3_URL, AWS_* keys
#   scripts/s3-test-server.sh status  exit 0 when the proxy answers
#   scripts/s3-test-server.sh stop    stop every process this script started
#   scripts/s3-test-server.sh clean   stop, then delete the work dir (all stored objects)
#
#   eval "$(scripts/s3-test-server.sh env)"   # then: npx vitest run test/storage
#
# Settings (env): ASSETD_S3_DIR work dir (/tmp/assetd-swift), ASSETD_S3_PORT proxy port
# (8081), ASSETD_S3_BACKEND_PORT first of three backend ports (6200), ASSETD_S3_MEMCACHED_PORT
# (11311), ASSETD_S3_BUCKET (assetd-test).
#
# Everything lives in the work dir except /etc/swift/swift.conf: Swift reads its hash
# prefix/suffix from that fixed path (swift_dir only moves rings), so it is written only
# when absent (Debian's package ships one).
set -euo pipefail

DIR="${ASSETD_S3_DIR:-/tmp/assetd-swift}"
PORT="${ASSETD_S3_PORT:-8081}"
BACKEND="${ASSETD_S3_BACKEND_PORT:-6200}"
OBJECT_PORT="$BACKEND"
CONTAINER_PORT="$((BACKEND + 1))"
ACCOUNT_PORT="$((BACKEND + 2))"
MEMCACHED_PORT="${ASSETD_S3_MEMCACHED_PORT:-11311}"
BUCKET="${ASSETD_S3_BUCKET:-assetd-test}"
USER_NAME="test:tester"
USER_KEY="testing"
ENDPOINT="http://127.0.0.1:${PORT}"
PACKAGES=(swift-proxy swift-account swift-container swift-object memcached)
SERVERS=(account container object object-updater proxy)

log() { echo "s3-test-server: $*" >&2; }
die() { log "$*"; exit 1; }

# Quoted: the URL's '&' would otherwise end the assignment under eval.
print_env() {
  echo "export ASSETD_TEST_S3_URL='s3://${BUCKET}?endpoint=${ENDPOINT}&region=us-east-1&forcePathStyle=true'"
  echo "export AWS_ACCESS_KEY_ID='${USER_NAME}'"
  echo "export AWS_SECRET_ACCESS_KEY='${USER_KEY}'"
}

ensure_packages() {
  local missing=0 bin
  for bin in swift-proxy-server swift-account-server swift-container-server swift-object-server \
    swift-ring-builder memcached; do
    command -v "$bin" >/dev/null 2>&1 || missing=1
  done
  [[ $missing == 0 ]] && return 0
  [[ $(id -u) == 0 ]] || die "Swift is not installed and this is not root: apt-get install ${PACKAGES[*]}"
  log "installing ${PACKAGES[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet: update only when the install fails.
  if ! apt-get install -y --no-install-recommends "${PACKAGES[@]}" >"$DIR/log/apt.log" 2>&1; then
    apt-get update >>"$DIR/log/apt.log" 2>&1
    apt-get install -y --no-install-recommends "${PACKAGES[@]}" >>"$DIR/log/apt.log" 2>&1 ||
      die "apt-get install failed, see $DIR/log/apt.log"
  fi
}

ensure_swift_conf() {
  [[ -f /etc/swift/swift.conf ]] && return 0
  mkdir -p /etc/swift
  cat >/etc/swift/swift.conf <<EOF
[swift-hash]
swift_hash_path_prefix = assetd-test-prefix
swift_hash_path_suffix = assetd-test-suffix

[storage-policy:0]
name = Policy-0
default = yes
EOF
}

write_configs() {
  local etc="$DIR/etc" me
  me="$(id -un)"
  mkdir -p "$etc" "$DIR/srv/d1" "$DIR/run" "$DIR/log" "$DIR/cache"
  # Written on every start (cheap): a changed port or path takes effect at the next start.
  local common="[DEFAULT]
bind_ip = 127.0.0.1
swift_dir = $etc
devices = $DIR/srv
mount_check = false
workers = 0
user = $me
log_level = WARNING
recon_cache_path = $DIR/cache"
  cat >"$etc/account-server.conf" <<EOF
$common
bind_port = $ACCOUNT_PORT

[pipeline:main]
pipeline = account-server

[app:account-server]
use = egg:swift#account
EOF
  cat >"$etc/container-server.conf" <<EOF
$common
bind_port = $CONTAINER_PORT

[pipeline:main]
pipeline = container-server

[app:container-server]
use = egg:swift#container
EOF
  cat >"$etc/object-server.conf" <<EOF
$common
bind_port = $OBJECT_PORT

[pipeline:main]
pipeline = object-server

[app:object-server]
use = egg:swift#object
# A PUT waits this long for its container-listing update before answering; a slower update
# becomes an "async pending" that only the updater below applies, and until then listings
# miss the object. Generous, because tests list right after writing.
container_update_timeout = 10

[object-updater]
interval = 2
EOF
  # s3api must come before the auth middleware (it turns S3 signatures into tempauth
  # identities) and slo after it (S3 multipart uploads are stored as static large objects).
  cat >"$etc/proxy-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PORT
swift_dir = $etc
workers = 0
user = $me
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy container-quotas slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
# s3api has no PutBucketCors: browser uploads to presigned URLs need the proxy to allow them.
cors_allow_origin = *
cors_expose_headers = ETag, x-amz-request-id, x-amz-version-id

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
cors_preflight_allow_origin = *

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $USER_KEY .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MEMCACHED_PORT

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:copy]
use = egg:swift#copy

[filter:container-quotas]
use = egg:swift#container_quotas

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
EOF
}

ensure_rings() {
  local etc="$DIR/etc" kind port
  for kind in account container object; do
    [[ -f "$etc/$kind.ring.gz" ]] && continue
    case $kind in
      account) port=$ACCOUNT_PORT ;;
      container) port=$CONTAINER_PORT ;;
      object) port=$OBJECT_PORT ;;
    esac
    # 2^10 partitions, one replica, one device: the smallest ring that works.
    swift-ring-builder "$etc/$kind.builder" create 10 1 1 >/dev/null
    swift-ring-builder "$etc/$kind.builder" add "r1z1-127.0.0.1:${port}/d1" 1 >/dev/null
    swift-ring-builder "$etc/$kind.builder" rebalance >/dev/null
  done
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null && ours "$(cat "$1")"; }

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

start_memcached() {
  local pidfile="$DIR/run/memcached.pid"
  pid_alive "$pidfile" && return 0
  port_busy "$MEMCACHED_PORT" && die "port $MEMCACHED_PORT is taken by another process (set ASSETD_S3_MEMCACHED_PORT)"
  memcached -d -u "$(id -un)" -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 64 -P "$pidfile"
}

# start_daemon NAME COMMAND CONF [PORT]: runs a Swift process in the background, once.
start_daemon() {
  local name=$1 command=$2 conf=$3 port=${4:-} pidfile="$DIR/run/$1.pid"
  pid_alive "$pidfile" && return 0
  if [[ -n $port ]] && port_busy "$port"; then
    die "port $port ($name) is taken by another process (see the settings in $0)"
  fi
  # setsid: the servers outlive this script and the shell (or test run) that called it.
  setsid "$command" "$conf" </dev/null >"$DIR/log/$name.log" 2>&1 &
  echo $! >"$pidfile"
}

# Signed S3 requests (AWS signature v2, which s3api accepts) through Swift's own Python, so
# no SDK is needed here. Creates the bucket, then round-trips a probe object: success means
# s3api, tempauth and the proxy, account, container and object servers all serve. Then
# creates the quota-limited "<bucket>-full".
ensure_bucket() {
  /usr/bin/python3 - "$ENDPOINT" "$BUCKET" "$USER_NAME" "$USER_KEY" <<'PYTHON' 2>>"$DIR/log/probe.log"
import base64, hashlib, hmac, sys, urllib.error, urllib.request
from email.utils import formatdate

endpoint, bucket, access, secret = sys.argv[1:5]

def s3(method, path, body=None):
    date = formatdate(usegmt=True)
    # urllib adds a form Content-Type to any body, and Content-Type is part of a v2 signature.
    content_type = "application/octet-stream" if body is not None else ""
    to_sign = f"{method}\n\n{content_type}\n{date}\n{path}".encode()
    signature = base64.b64encode(hmac.new(secret.encode(), to_sign, hashlib.sha1).digest()).decode()
    request = urllib.request.Request(endpoint + path, data=body, method=method,
                                     headers={"Date": date, "Authorization": f"AWS {access}:{signature}",
                                              **({"Content-Type": content_type} if content_type else {})})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

status, body = s3("PUT", f"/{bucket}")
if status != 200 and b"BucketAlreadyOwnedByYou" not in body:
    sys.exit(f"create bucket: {status} {body[:300]!r}")
status, body = s3("PUT", f"/{bucket}/.probe", b"probe")
if status != 200:
    sys.exit(f"put probe: {status} {body[:300]!r}")
status, body = s3("DELETE", f"/{bucket}/.probe")
if status != 204:
    sys.exit(f"delete probe: {status} {body[:300]!r}")

# "<bucket>-full": a bucket with a 1 KiB quota, so tests can see a full store. s3api has no
# quotas; Swift's container_quotas takes the container's metadata, through the Swift API.
with urllib.request.urlopen(urllib.request.Request(endpoint + "/auth/v1.0",
        headers={"X-Auth-User": access, "X-Auth-Key": secret}), timeout=5) as response:
    storage_url, token = response.headers["X-Storage-Url"], response.headers["X-Auth-Token"]
request = urllib.request.Request(f"{storage_url}/{bucket}-full", method="PUT",
                                 headers={"X-Auth-Token": token, "X-Container-Meta-Quota-Bytes": "1024"})
with urllib.request.urlopen(request, timeout=5) as response:
    if response.status not in (201, 202):
        sys.exit(f"create {bucket}-full: {response.status}")
PYTHON
}

start() {
  local began=$SECONDS deadline
  mkdir -p "$DIR/log"
  : >"$DIR/log/probe.log"
  ensure_packages
  ensure_swift_conf
  write_configs
  ensure_rings
  start_memcached
  start_daemon account swift-account-server "$DIR/etc/account-server.conf" "$ACCOUNT_PORT"
  start_daemon container swift-container-server "$DIR/etc/container-server.conf" "$CONTAINER_PORT"
  start_daemon object swift-object-server "$DIR/etc/object-server.conf" "$OBJECT_PORT"
  # Applies container-listing updates that timed out during a PUT or DELETE.
  start_daemon object-updater swift-object-updater "$DIR/etc/object-server.conf"
  start_daemon proxy swift-proxy-server "$DIR/etc/proxy-server.conf" "$PORT"
  deadline=$((SECONDS + 45))
  until ensure_bucket; do
    local name
    for name in "${SERVERS[@]}"; do
      pid_alive "$DIR/run/$name.pid" || die "swift $name exited: $(tail -n 20 "$DIR/log/$name.log")"
    done
    ((SECONDS < deadline)) || die "Swift did not answer on $ENDPOINT within 45 s (logs: $DIR/log)"
    sleep 0.2
  done
  log "Swift s3api ready on $ENDPOINT, bucket '$BUCKET' (data: $DIR, $((SECONDS - began)) s)"
  print_env
}

# Only a process that is still ours: after a reboot a stale pidfile may name someone else's.
ours() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -e "$DIR" -e "memcached.*$MEMCACHED_PORT"; }

stop() {
  local name pidfile pids=() pid i alive
  for name in proxy object-updater object container account memcached; do
    pidfile="$DIR/run/$name.pid"
    [[ -f $pidfile ]] || continue
    pid="$(cat "$pidfile")"
    rm -f "$pidfile"
    if ours "$pid" && kill -TERM "$pid" 2>/dev/null; then pids+=("$pid"); fi
  done
  # All at once: each Swift server takes a second or two to shut down gracefully.
  for i in $(seq 100); do
    alive=()
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [[ ${#alive[@]} == 0 ]] && break
    sleep 0.1
  done
  for pid in "${alive[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) curl -fsS -o /dev/null "$ENDPOINT/healthcheck" ;;
  clean) stop; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|env|status|clean" >&2; exit 2 ;;
esac
