#!/bin/sh
# measure.sh FUZZ_BUILD DEFAULT_BUILD SRC [RUNS] [SECONDS] [MUTANT_RUNS] - the numbers of
# docs/fuzzing.md: executions to the first finding of the planted lost
# update (and of the mutants whose fuzz_mutant<N> and xensim-mutant-<N> are
# built), over RUNS libFuzzer seeds, beside `xensim explore --policy
# random` schedules to the first failure from RUNS starting seeds (the
# mutants: MUTANT_RUNS of each, default RUNS, each fuzzing run at most
# SECONDS); then each target's executions per second over SECONDS.
#
#   cmake --build --preset fuzz && cmake --build --preset default
#   cmake --build --preset fuzz --target fuzz_mutant1 fuzz_mutant4     # optional
#   cmake --build build --target xensim_mutant1 xensim_mutant4          # optional
#   sh tests/fuzz/measure.sh build-fuzz build . 20 30
# Every mutant (docs/fuzzing.md's per-mutant table):
#   cmake --build --preset fuzz --target fuzz-mutants && cmake --build build --target mutants
#   FUZZ_MUTANTS="$(seq 1 23)" sh tests/fuzz/measure.sh build-fuzz build . 3 10
set -u
fb=$1 db=$2 src=$3 runs=${4:-20} secs=${5:-30} mruns=${6:-${4:-20}}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# stats LIST: "median M (min A, max B, mean C; n found of N)"; "-" = not found
stats() {
    echo "$1" | tr ' ' '\n' | grep -v '^$' | sort -n | awk -v all="$2" '
        /^-$/ { next }
        { v[n++] = $1; s += $1 }
        END { if (n == 0) { printf "none found of %d", all; exit }
              printf "median %d (min %d, max %d, mean %.1f; found in %d of %d)",
                     v[int((n - 1) / 2)], v[0], v[n - 1], s / n, n, all }'
}

# fuzz PROGRAM CORPUS SEED LIMIT: executions to the first finding, or "-"
# (the targets add -max_len and -len_control=0 by themselves)
fuzz() {
    rm -rf "$work/c" "$work/a"
    mkdir -p "$work/c" "$work/a"
    XSIM_FUZZ_OUT="$work/a" "$1" -seed="$3" -max_total_time="$4" \
        -artifact_prefix="$work/a/" "$work/c" "$2" >"$work/log" 2>&1
    n=$(sed -n 's/^fuzz: finding at execution \([0-9]*\).*/\1/p' "$work/log" | head -n 1)
    echo "${n:--}"
}

# explore XENSIM SCENARIO SEED BUDGET: schedules to the first failure, or "-"
explore() {
    "$1" explore "$2" --policy random --schedules "$4" --seed "$3" --out "$work/x" --json \
        2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["failed_seed"] - d["first_seed"] + 1 if d["result"] == "failed" else "-")'
}

compare() { # NAME FUZZER CORPUS XENSIM SCENARIO LIMIT BUDGET RUNS
    f="" e=""
    for s in $(seq 1 "$8"); do
        f="$f $(fuzz "$2" "$3" "$s" "$6")"
        e="$e $(explore "$4" "$5" $((s * 1000)) "$7")"
    done
    echo "$1: libFuzzer executions to the first finding:$f"
    echo "    $(stats "$f" "$8")  (limit $6 s each)"
    echo "$1: explore --policy random schedules to the first failure:$e"
    echo "    $(stats "$e" "$8")  (budget $7 schedules each)"
}

compare lost-update "$fb/tests/fuzz/fuzz_lost-update" "$src/tests/fuzz/corpus/lost-update" \
    "$db/xensim" "$src/tests/data/scenarios/lost-update.json" 60 1000 "$runs"
# FUZZ_MUTANTS="1 4 12" chooses the mutants (default 1 and 4; those whose
# targets are not built are skipped).
for m in ${FUZZ_MUTANTS:-1 4}; do
    [ -x "$fb/tests/fuzz/fuzz_mutant$m" ] && [ -x "$db/mutants/xensim-mutant-$m" ] || continue
    scn=$(awk -F'|' -v id="$m" '$1 == id { print $4 }' "$src/tests/mutants/catalogue.txt")
    case $scn in */*) scn=$src/$scn ;; *) scn=$src/sim/scenarios/$scn.json ;; esac
    compare "mutant $m" "$fb/tests/fuzz/fuzz_mutant$m" "$src/tests/fuzz/corpus/any" \
        "$db/mutants/xensim-mutant-$m" "$scn" "$secs" 300 "$mruns"
done

echo "executions per second, $secs s each:"
for t in lost-update demo migration-under-io; do
    rm -rf "$work/c" "$work/a"
    mkdir -p "$work/c" "$work/a"
    # XSIM_FUZZ_KEEP_GOING: count findings instead of stopping at the
    # first (the lost-update target would stop within a second).
    XSIM_FUZZ_KEEP_GOING=1 XSIM_FUZZ_OUT="$work/a" "$fb/tests/fuzz/fuzz_$t" -max_total_time="$secs" \
        -artifact_prefix="$work/a/" -print_final_stats=1 "$work/c" "$src/tests/fuzz/corpus/$t" \
        >"$work/log" 2>&1
    r=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
    n=$(sed -n 's/^fuzz: \([0-9]*\) findings.*/\1/p' "$work/log" | tail -n 1)
    echo "  $t: ${r:-?} executions/s${n:+, $n findings}"
done
