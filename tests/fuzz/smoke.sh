#!/bin/sh
# smoke.sh PROGRAM CORPUS EXPECT WORKDIR SECONDS - the fuzz-smoke
# test of one schedule fuzz target: fuzz for SECONDS from the checked-in
# CORPUS (read only: new inputs go to WORKDIR/corpus), then check the
# outcome: EXPECT "finding" (the planted bug must be found, its replay file
# written) or "clean" (no finding, no crash of the harness).
set -u
prog=$1 corpus=$2 expect=$3 work=$4 secs=$5
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
    echo "smoke: found: $(ls "$work"/artifacts/*.replay.json | head -n 1)" ;;
clean)
    if [ "$rc" -ne 0 ]; then
        echo "smoke: expected no finding (exit $rc)"; tail -n 60 "$work/log"; exit 1
    fi
    echo "smoke: no finding in $secs s" ;;
*)
    echo "smoke: EXPECT is finding or clean"; exit 2 ;;
esac
exit 0
