#!/bin/sh
# A running simulation exposes its live XenStore: while `xensim run
# --realtime --xenstore-socket` runs, Debian's xenstore tools read what the
# guest wrote over its ring and write a node of their own.
# Usage: test_live_xenstore.sh XENSIM SCENARIO. Exit 77 (skipped) without
# xenstore-utils.
set -u
xensim=$1 scenario=$2
command -v xenstore-read >/dev/null 2>&1 || { echo "xenstore-utils missing: skipped"; exit 77; }
dir=$(mktemp -d)
sock=$dir/xs.sock
"$xensim" run "$scenario" --realtime --xenstore-socket "$sock" > "$dir/report" 2>&1 &
pid=$!
fail() { echo "FAIL: $*"; kill "$pid" 2>/dev/null; cat "$dir/report"; rm -rf "$dir"; exit 1; }
i=0
while [ ! -S "$sock" ]; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "no socket after 10 s"; sleep 0.1
done
# The guest writes its greeting early in virtual time; give it a moment.
i=0
until v=$(XENSTORED_PATH=$sock timeout 5 xenstore-read /local/domain/1/data/xensim/scenario 2>/dev/null); do
  i=$((i + 1)); [ $i -gt 50 ] && fail "the guest's node never appeared"; sleep 0.1
done
[ "$v" = "live" ] || fail "read '$v', expected 'live'"
XENSTORED_PATH=$sock timeout 5 xenstore-write /local/domain/1/data/poked yes || fail "write refused"
v=$(XENSTORED_PATH=$sock timeout 5 xenstore-read /local/domain/1/data/poked) || fail "read back"
[ "$v" = "yes" ] || fail "read back '$v'"
wait "$pid"; rc=$?
[ $rc -eq 0 ] || fail "xensim run exited $rc"
grep -q "no_lost_events   pass" "$dir/report" || fail "report"
echo "live XenStore: read the guest's node, wrote one, run ended cleanly"
rm -rf "$dir"
