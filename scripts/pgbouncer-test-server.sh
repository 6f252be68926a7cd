#!/usr/bin/env bash
# pgbouncer in transaction pooling mode in front of the test PostgreSQL, so the scale test
# run goes through the same kind of pooler a deployment at scale uses (and anything that
# relies on session state fails there, not in production).
#
#   scripts/pgbouncer-test-server.sh start   install (apt, only if missing), write the config
#                                            into the work dir, start, print the env
#   scripts/pgbouncer-test-server.sh env     print `export` lines: ASSETD_TEST_PGBOUNCER_URL
#   scripts/pgbouncer-test-server.sh status  exit 0 when pgbouncer answers a query
#   scripts/pgbouncer-test-server.sh stop    stop the pgbouncer this script started
#
#   eval "$(scripts/pgbouncer-test-server.sh env)"   # then: npm run test:scale
#
# Settings (env): ASSETD_PGBOUNCER_DIR work dir (/tmp/assetd-pgbouncer), ASSETD_PGBOUNCER_PORT
# (6432), ASSETD_PGBOUNCER_UPSTREAM_HOST / _PORT (127.0.0.1 / 5432), ASSETD_PGBOUNCER_USER
# (postgres: the role the tests connect as).
set -euo pipefail

DIR="${ASSETD_PGBOUNCER_DIR:-/tmp/assetd-pgbouncer}"
PORT="${ASSETD_PGBOUNCER_PORT:-6432}"
UPSTREAM_HOST="${ASSETD_PGBOUNCER_UPSTREAM_HOST:-127.0.0.1}"
UPSTREAM_PORT="${ASSETD_PGBOUNCER_UPSTREAM_PORT:-5432}"
PG_USER="${ASSETD_PGBOUNCER_USER:-postgres}"
PIDFILE="$DIR/pgbouncer.pid"

log() { echo "pgbouncer-test-server: $*" >&2; }
die() { log "$*"; exit 1; }

print_env() {
  echo "export ASSETD_TEST_PGBOUNCER_URL='postgres://${PG_USER}@127.0.0.1:${PORT}/test'"
}

ensure_package() {
  command -v pgbouncer >/dev/null 2>&1 && return 0
  [[ $(id -u) == 0 ]] || die "pgbouncer is not installed and this is not root: apt-get install pgbouncer"
  log "installing pgbouncer (apt)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends pgbouncer >"$DIR/apt.log" 2>&1; then
    apt-get update >>"$DIR/apt.log" 2>&1
    apt-get install -y --no-install-recommends pgbouncer >>"$DIR/apt.log" 2>&1 || die "apt-get install failed, see $DIR/apt.log"
  fi
}

write_config() {
  # `*`: every database name is passed through to the same server, so each test's fresh
  # database is reachable without listing it. Transaction pooling: a server connection
  # belongs to a client only for one transaction, as in a deployment at 200 connections.
  cat >"$DIR/pgbouncer.ini" <<CONF
[databases]
* = host=${UPSTREAM_HOST} port=${UPSTREAM_PORT}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${PORT}
unix_socket_dir =
auth_type = trust
auth_file = ${DIR}/userlist.txt
pool_mode = transaction
max_client_conn = 400
default_pool_size = 10
max_db_connections = 20
# Test databases are dropped after each suite: idle server connections to them must not
# linger long (DROP DATABASE waits for them).
server_idle_timeout = 5
server_lifetime = 600
ignore_startup_parameters = extra_float_digits
logfile = ${DIR}/pgbouncer.log
pidfile = ${PIDFILE}
admin_users = ${PG_USER}
log_connections = 0
log_disconnections = 0
CONF
  echo "\"${PG_USER}\" \"\"" >"$DIR/userlist.txt"
}

alive() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && ours "$(cat "$PIDFILE")"; }
ours() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "$DIR/pgbouncer.ini"; }
answers() { psql -qtA "postgres://${PG_USER}@127.0.0.1:${PORT}/test" -c "select 1" >/dev/null 2>&1; }

start() {
  mkdir -p "$DIR"
  ensure_package
  if alive; then print_env; return 0; fi
  ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && die "port $PORT is taken by another process (set ASSETD_PGBOUNCER_PORT)"
  write_config
  # pgbouncer refuses to run as root: as root, it runs as an unprivileged user that owns the
  # work dir (postgres when present, else nobody).
  local as=()
  if [[ $(id -u) == 0 ]]; then
    local run_user=nobody
    id postgres >/dev/null 2>&1 && run_user=postgres
    chown -R "$run_user" "$DIR"
    as=(-u "$run_user")
  fi
  pgbouncer -d "${as[@]}" "$DIR/pgbouncer.ini" >"$DIR/start.log" 2>&1 || die "pgbouncer did not start: $(cat "$DIR/start.log")"
  local i
  for i in $(seq 50); do
    answers && { log "pgbouncer (transaction pooling) on 127.0.0.1:$PORT -> $UPSTREAM_HOST:$UPSTREAM_PORT"; print_env; return 0; }
    sleep 0.1
  done
  die "pgbouncer does not answer on 127.0.0.1:$PORT (log: $DIR/pgbouncer.log)"
}

stop() {
  alive || { log "not running"; return 0; }
  local pid i
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
