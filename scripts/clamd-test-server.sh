#!/usr/bin/env bash
# A real clamd for tests, with a one-signature database (shared/PLATFORM.md, "ClamAV without
# signature downloads": freshclam cannot reach its mirrors here, and clamd refuses to start
# on the empty default database).
#
#   scripts/clamd-test-server.sh start   install (apt, only if missing), configure, start,
#                                        wait for PONG, print the env; harmless when running
#   scripts/clamd-test-server.sh env     print `export` lines: ASSETD_TEST_CLAMD (host:port),
#                                        ASSETD_TEST_CLAMD_SOCKET (unix socket path)
#   scripts/clamd-test-server.sh status  exit 0 when clamd answers PING
#   scripts/clamd-test-server.sh stop    stop the clamd this script started (and only it)
#   scripts/clamd-test-server.sh clean   stop, then delete the work dir
#
#   eval "$(scripts/clamd-test-server.sh env)"   # then: npx vitest run test/media/clamd.test.ts
#
# Settings (env): ASSETD_CLAMD_DIR work dir (/tmp/assetd-clamd), ASSETD_CLAMD_PORT TCP port
# on 127.0.0.1 (3310).
#
# The database detects only the EICAR test file (signature Eicar-Test-Signature). It is a
# test double for the signature set, not for clamd: the protocol, limits and errors are real.
set -euo pipefail

DIR="${ASSETD_CLAMD_DIR:-/tmp/assetd-clamd}"
PORT="${ASSETD_CLAMD_PORT:-3310}"
HOST=127.0.0.1
CONF="$DIR/clamd.conf"
SOCKET="$DIR/clamd.sock"
PIDFILE="$DIR/clamd.pid"
SIGNATURE=Eicar-Test-Signature
# clamav-daemon alone would pull clamav-freshclam anyway; clamdscan is handy for debugging.
PACKAGES=(clamav-daemon clamdscan)

log() { echo "clamd-test-server: $*" >&2; }
die() { log "$*"; exit 1; }

print_env() {
  echo "export ASSETD_TEST_CLAMD=${HOST}:${PORT}"
  echo "export ASSETD_TEST_CLAMD_SOCKET=${SOCKET}"
}

clamd_bin() { command -v clamd 2>/dev/null || { [[ -x /usr/sbin/clamd ]] && echo /usr/sbin/clamd; }; }

ensure_packages() {
  [[ -n "$(clamd_bin)" ]] && return 0
  [[ $(id -u) == 0 ]] || die "clamd is not installed and this is not root: apt-get install ${PACKAGES[*]}"
  log "installing ${PACKAGES[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists yet: update only when the install fails.
  if ! apt-get install -y --no-install-recommends "${PACKAGES[@]}" >"$DIR/apt.log" 2>&1; then
    apt-get update >>"$DIR/apt.log" 2>&1
    apt-get install -y --no-install-recommends "${PACKAGES[@]}" >>"$DIR/apt.log" 2>&1 ||
      die "apt-get install failed, see $DIR/apt.log"
  fi
  [[ -n "$(clamd_bin)" ]] || die "clamd still missing after installing ${PACKAGES[*]}"
}

write_config() {
  mkdir -p "$DIR/db" "$DIR/tmp"
  # .ndb body signature, Name:TargetType:Offset:HexSignature (target 0 = any file, offset * =
  # anywhere). The hex is "EICAR-STANDARD-ANTIVIRUS-TEST-FILE", the distinctive part of the
  # 68-byte EICAR string, so padded or newline-terminated copies of the file match too.
  local hex
  hex="$(printf '%s' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' | od -An -tx1 -v | tr -d ' \n')"
  echo "${SIGNATURE}:0:*:${hex}" >"$DIR/db/assetd-test.ndb"
  # Written on every start (cheap): a changed port or path takes effect at the next start.
  # No `User`: clamd keeps the identity that started it, so nothing here needs another owner
  # (Debian's own clamd.conf drops to `clamav`).
  # StreamMaxLength bounds one INSTREAM; past it clamd answers "INSTREAM size limit exceeded.
  # ERROR". In production it must be at least the service's upload limit. Here it stays at
  # clamd's default, 100M: multi-MB tests fit, and the limit test only sends ~100 MiB.
  # MaxFileSize (clamd's default is 100M too) must keep up with it, or clamd stops looking
  # at a file partway through and answers OK.
  cat >"$CONF" <<EOF
Foreground yes
DatabaseDirectory $DIR/db
TemporaryDirectory $DIR/tmp
LocalSocket $SOCKET
LocalSocketMode 660
FixStaleSocket yes
TCPSocket $PORT
TCPAddr $HOST
PidFile $PIDFILE
LogFile $DIR/clamd.log
LogTime yes
StreamMaxLength 100M
MaxScanSize 100M
MaxFileSize 100M
MaxThreads 4
# No bytecode.cvd in this database: do not look for one.
Bytecode no
# Do not reload on database changes every 10 minutes; the test database never changes.
SelfCheck 0
EOF
}

# Sends one command (z-form, NUL-terminated) over TCP and prints the reply; bash's /dev/tcp,
# so neither clamdscan nor netcat is needed.
clamd_command() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "z%s\0" "$3" >&3
    IFS= read -r -d "" reply <&3 || [[ -n $reply ]]
    printf "%s" "$reply"' _ "$HOST" "$PORT" "$1" 2>/dev/null
}

ping_ok() { [[ "$(clamd_command PING)" == PONG ]]; }

# Only a process that is still ours: after a reboot a stale pidfile may name someone else's.
ours() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$CONF"; }

running_pid() {
  local pid
  [[ -f $PIDFILE ]] || return 1
  pid="$(cat "$PIDFILE")"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && ours "$pid" && echo "$pid"
}

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

start() {
  local began=$SECONDS deadline pid clamd
  mkdir -p "$DIR"
  if running_pid >/dev/null && ping_ok; then
    log "clamd already running on $HOST:$PORT and $SOCKET"
    print_env
    return 0
  fi
  ensure_packages
  local installed=$((SECONDS - began))
  write_config
  if ! pid="$(running_pid)"; then
    port_busy "$PORT" && die "port $PORT is taken by another process (set ASSETD_CLAMD_PORT)"
    clamd="$(clamd_bin)"
    # setsid + nohup: clamd outlives this script and the shell (or test run) that called it.
    # Foreground yes, so $! is clamd itself (it also writes the same pid to PidFile).
    setsid nohup "$clamd" -c "$CONF" </dev/null >"$DIR/clamd.out" 2>&1 &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi
  deadline=$((SECONDS + 50))
  until ping_ok; do
    # kill -0, not running_pid: until the exec the child's command line is still this script's.
    kill -0 "$pid" 2>/dev/null || die "clamd exited: $(tail -n 20 "$DIR/clamd.out" 2>/dev/null)"
    ((SECONDS < deadline)) || die "clamd did not answer PING on $HOST:$PORT within 50 s (logs: $DIR)"
    sleep 0.2
  done
  log "clamd ready on $HOST:$PORT and $SOCKET (install ${installed} s, total $((SECONDS - began)) s; data: $DIR)"
  print_env
}

stop() {
  local pid i
  if pid="$(running_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$SOCKET"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  status) running_pid >/dev/null && ping_ok ;;
  clean) stop; rm -rf "$DIR" ;;
  *) echo "usage: $0 start|stop|env|status|clean" >&2; exit 2 ;;
esac
