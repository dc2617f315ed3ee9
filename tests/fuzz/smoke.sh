#!/bin/sh
# smoke.sh PROGRAM CORPUS EXPECT WORKDIR SECONDS [XENSIM] - the fuzz-smoke
# test of one schedule fuzz target: fuzz for SECONDS from the checked-in
# CORPUS (read only: new inputs go to WORKDIR/corpus), then check the
# outcome: EXPECT "finding" (the planted bug must be found, its replay file
# written, and replayed by XENSIM when that was built: the failure must
# reproduce with the recorded digest) or "clean" (no finding, no crash of
# the harness).
set -u
prog=$1 corpus=$2 expect=$3 work=$4 secs=$5 xensim=${6:-}
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 1
cd "$work" || exit 1
XSIM_FUZZ_OUT="$work/artifacts" "$prog" -max_total_time="$secs" \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" "$corpus" \
    >"$work/log" 2>&1
rc=$?
grep -E '^fuzz:|^#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY' "$work/log" | tail -n 25
case $expect in
finding)
    if [ "$rc" -eq 0 ] || ! ls "$work"/artifacts/*.replay.json >/dev/null 2>&1; then
        echo "smoke: expected a finding within $secs s (exit $rc)"; tail -n 40 "$work/log"; exit 1
    fi
    f=$(ls "$work"/artifacts/*.replay.json | head -n 1)
    echo "smoke: found: $f"
    if [ -n "$xensim" ] && [ -x "$xensim" ]; then
        "$xensim" replay "$f" >"$work/replay.out" 2>&1
        r=$?
        tail -n 2 "$work/replay.out"
        if [ "$r" -ne 1 ] || ! grep -q "matches the recording" "$work/replay.out"; then
            echo "smoke: the replay file does not reproduce the failure (exit $r)"; exit 1
        fi
    fi ;;
clean)
    if [ "$rc" -ne 0 ]; then
        echo "smoke: expected no finding (exit $rc)"; tail -n 60 "$work/log"; exit 1
    fi
    echo "smoke: no finding in $secs s" ;;
*)
    echo "smoke: EXPECT is finding or clean"; exit 2 ;;
esac
exit 0
