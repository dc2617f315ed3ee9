#!/bin/bash
# test_xs_cli.sh - `xensim xenstored`: usage errors exit 2, --help exits 0,
# SIGINT and SIGTERM stop it cleanly (exit 0, socket removed), a stale
# socket file is replaced, a live one is not taken over.
# Usage: test_xs_cli.sh XENSIM_BINARY
set -u
XENSIM=${1:?usage: test_xs_cli.sh XENSIM_BINARY}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xensim-xs-cli.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

expect_rc() { # WANT_RC ARGS...
    local want=$1 rc
    shift
    "$XENSIM" xenstored "$@" >"$WORK/out" 2>&1
    rc=$?
    [ "$rc" = "$want" ] || { fail "xenstored $* exited $rc, want $want"; cat "$WORK/out"; }
}
expect_rc 0 --help
grep -q "Usage: xensim xenstored --socket PATH" "$WORK/out" || fail "--help text"
expect_rc 2
grep -q "required" "$WORK/out" || fail "missing --socket message"
expect_rc 2 --bogus
expect_rc 2 --socket
expect_rc 1 --socket "$WORK/no/such/dir/socket"

start() { # SOCKET -> pid in $PID; waits until it listens (and has its
           # signal handlers), which a leftover socket file cannot tell
    : >"$WORK/daemon.log"
    "$XENSIM" xenstored --socket "$1" 2>"$WORK/daemon.log" &
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 200); do
        grep -q "listening on" "$WORK/daemon.log" && return 0
        sleep 0.05
    done
    fail "daemon on $1 did not start"; cat "$WORK/daemon.log"
    return 1
}
stop() { # PID SIGNAL
    kill -"$2" "$1"
    wait "$1"
}

for sig in INT TERM; do
    start "$WORK/s-$sig" || continue
    stop "$PID" "$sig"
    rc=$?
    [ "$rc" = 0 ] || fail "exit $rc after SIG$sig"
    [ -e "$WORK/s-$sig" ] && fail "socket left after SIG$sig"
done

# a socket left by a daemon that died is replaced
start "$WORK/stale" && kill -KILL "$PID" && wait "$PID" 2>/dev/null
[ -S "$WORK/stale" ] || fail "no stale socket to test with"
start "$WORK/stale" && { stop "$PID" TERM || fail "restart on a stale socket"; }

# a live one is not taken over
if start "$WORK/live"; then
    first=$PID
    "$XENSIM" xenstored --socket "$WORK/live" >"$WORK/out" 2>&1
    rc=$?
    [ "$rc" = 1 ] || fail "second daemon on a live socket exited $rc"
    kill -0 "$first" 2>/dev/null || fail "first daemon died"
    [ -S "$WORK/live" ] || fail "live socket removed"
    stop "$first" TERM || fail "first daemon exit"
fi

[ "$FAILS" = 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "xenstored CLI checks passed"
