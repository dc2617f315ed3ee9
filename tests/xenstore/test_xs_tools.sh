#!/bin/bash
# test_xs_tools.sh - Debian's xenstore-utils against `xensim xenstored`
# through XENSTORED_PATH, with exact expected output (taken from the same
# commands run against Debian's own xenstored 4.17).
# Usage: test_xs_tools.sh XENSIM_BINARY
# Exit 77 (skipped) if the tools are not installed. With XS_TOOLS_SOCKET set
# the checks run against that daemon instead (e.g. the reference, to
# re-derive the expectations); the stop check is then skipped.
set -u

XENSIM=${1:?usage: test_xs_tools.sh XENSIM_BINARY}
for tool in xenstore-write xenstore-read xenstore-ls xenstore-list xenstore-exists \
            xenstore-rm xenstore-chmod xenstore-watch; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not found (Debian: apt-get install xenstore-utils)"
        exit 77
    fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xensim-xs-tools.XXXXXX")
SOCK=$WORK/socket
DAEMON=
cleanup() {
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${XS_TOOLS_SOCKET:-}" ]; then
    SOCK=$XS_TOOLS_SOCKET
else
    "$XENSIM" xenstored --socket "$SOCK" 2>"$WORK/daemon.log" &
    DAEMON=$!
    for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
    [ -S "$SOCK" ] || { echo "FAIL: daemon did not start"; cat "$WORK/daemon.log"; exit 1; }
fi
export XENSTORED_PATH=$SOCK

FAILS=0
# check NAME EXPECTED_RC EXPECTED_OUTPUT COMMAND...: stdout and stderr
# together, and the exit status, must match.
check() {
    local name=$1 want_rc=$2 want=$3 got rc
    shift 3
    got=$("$@" 2>&1)
    rc=$?
    if [ "$rc" != "$want_rc" ] || [ "$got" != "$want" ]; then
        echo "FAIL: $name: $*"
        echo "  exit $rc (want $want_rc)"
        echo "  got:";  printf '%s\n' "$got" | sed 's/^/    |/'
        echo "  want:"; printf '%s\n' "$want" | sed 's/^/    |/'
        FAILS=$((FAILS + 1))
    else
        echo "ok: $name"
    fi
}

check write 0 "" xenstore-write /vm/name guest /vm/id 7 /vm/a/b/c deep
check read 0 "guest
7" xenstore-read /vm/name /vm/id
check read-missing 1 "xenstore-read: couldn't read path /nope" xenstore-read /nope
check exists 0 "" xenstore-exists /vm/name
check exists-missing 1 "" xenstore-exists /nope
check list 0 "name
id
a" xenstore-list /vm
check list-p 0 "/vm/name
/vm/id
/vm/a" xenstore-list -p /vm
check ls 0 'name = "guest"
id = "7"
a = ""
 b = ""
  c = "deep"' xenstore-ls /vm
check ls-f 0 '/vm/name = "guest"
/vm/id = "7"
/vm/a = ""
/vm/a/b = ""
/vm/a/b/c = "deep"' xenstore-ls -f /vm
check ls-p 0 'name = "guest" . . . . . . . . . . . . . . . . . . . . . . .  (n0)
id = "7" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
a = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 b = ""  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
  c = "deep" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)' xenstore-ls -p /vm
check chmod 0 "" xenstore-chmod /vm/name n0 r1
check chmod-owner-missing 1 "xenstore-chmod: Error occurred setting permissions on '/vm/id': No such file or directory" \
    xenstore-chmod /vm/id n1
check ls-p-after-chmod 0 'name = "guest" . . . . . . . . . . . . . . . . . . . . . . .  (n0,r1)
id = "7" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
a = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 b = ""  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
  c = "deep" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)' xenstore-ls -p /vm
check chmod-r 0 "" xenstore-chmod -r /vm b0
check ls-fp 0 '/vm/name = "guest"   (b0)
/vm/id = "7"   (b0)
/vm/a = ""   (b0)
/vm/a/b = ""   (b0)
/vm/a/b/c = "deep"   (b0)' xenstore-ls -fp /vm
check chmod-usage 1 "xenstore-chmod: Usage: xenstore-chmod [-h] [-u] [-r] [-s] key <mode [modes...]>" \
    xenstore-chmod
check rm 0 "" xenstore-rm /vm/a
check list-after-rm 0 "name
id" xenstore-list /vm
check rm-missing-parent 1 "xenstore-rm: could not remove path /vm/nope/deeper" \
    xenstore-rm /vm/nope/deeper
check write-relative 0 "" xenstore-write relname relval
check read-relative 0 "relval" xenstore-read /local/domain/0/relname
check ls-root 0 'tool = ""
 xenstored = ""
vm = ""
 name = "guest"
 id = "7"
local = ""
 domain = ""
  0 = ""
   relname = "relval"' xenstore-ls /

# Watches, bounded with -n: the registration event, a write below, and the
# removal of the watched node's parent.
watch_case() {
    local name=$1 path=$2 want=$3
    shift 3
    : >"$WORK/watch.out"
    timeout 10 xenstore-watch -n "$(printf '%s\n' "$want" | wc -l)" "$path" >"$WORK/watch.out" 2>&1 &
    local pid=$!
    for _ in $(seq 200); do [ -s "$WORK/watch.out" ] && break; sleep 0.01; done
    "$@"
    wait "$pid"
    local rc=$?
    if [ "$rc" != 0 ] || [ "$(cat "$WORK/watch.out")" != "$want" ]; then
        echo "FAIL: $name (exit $rc)"; sed 's/^/    |/' "$WORK/watch.out"
        FAILS=$((FAILS + 1))
    else
        echo "ok: $name"
    fi
}
changes_below() { xenstore-write /vm/x 1 && xenstore-rm /vm; }
watch_case watch-below /vm "/vm
/vm/x
/vm" changes_below
xenstore-write /p/q/r v
watch_case watch-parent-removed /p/q/r "/p/q/r
/p/q/r" xenstore-rm /p

# A clean stop: SIGTERM, exit 0, socket removed.
rc=0
if [ -n "$DAEMON" ]; then
    kill -TERM "$DAEMON"
    wait "$DAEMON"
    rc=$?
    DAEMON=
fi
if [ "$rc" != 0 ] || { [ -z "${XS_TOOLS_SOCKET:-}" ] && [ -e "$SOCK" ]; }; then
    echo "FAIL: daemon exit $rc after SIGTERM, socket left: $([ -e "$SOCK" ] && echo yes || echo no)"
    FAILS=$((FAILS + 1))
fi

if [ "$FAILS" != 0 ]; then
    echo "$FAILS failure(s)"
    exit 1
fi
echo "all xenstore-utils checks passed"
