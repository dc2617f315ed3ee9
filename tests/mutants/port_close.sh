#!/bin/sh
# port_close.sh - the port_close oracle catches a close that does not wait
# for a handler running on another CPU (mutant 8, XSA-331) and holds on the
# real guest, on the shipped port-close-reuse scenario under `time`.
#
# usage: port_close.sh BUILD_DIR SOURCE_DIR
set -u
build=$1 src=$2
scn=$src/sim/scenarios/port-close-reuse.json

out=$("$build/xensim" run "$scn" --policy time 2>&1)
rc=$?
if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -q '^  port_close *pass'; then
    printf 'the real guest: exit %d, want 0 and port_close pass:\n%s\n' $rc "$out"
    exit 1
fi
out=$("$build/mutants/xensim-mutant-8" run "$scn" --policy time 2>&1)
rc=$?
if [ $rc -ne 1 ] || ! printf '%s\n' "$out" | grep -q '^  port_close *FAIL.*after its close returned'; then
    printf 'mutant 8: exit %d, want 1 and port_close FAIL:\n%s\n' $rc "$out"
    exit 1
fi
echo "port_close: holds on the real guest, fails on mutant 8"
