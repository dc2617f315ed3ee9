#!/bin/sh
# rates.sh - how often each policy of catalogue.txt finds each mutant:
# failing schedules among seeds 1..N (explore --keep-going), the real
# guest's count beside it. Where measure.sh says how soon a bug is found
# (one sample), this says how likely a schedule is to find it, which is
# what comparing policies needs. Prints a markdown table.
#
# usage: rates.sh BUILD_DIR SOURCE_DIR [N]     (N defaults to 100)
# MUTANTS="3 16" in the environment measures only those rows; JOBS=J the
# worker processes (default 2).
set -u
build=$1 src=$2 n=${3:-100} jobs=${JOBS:-2}
cat=$src/tests/mutants/catalogue.txt
work=${TMPDIR:-/tmp}/xensim-rates.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM

# Failing schedules among seeds 1..n, or "error".
failures() { # prog scenario policy
    case $2 in */*) scn=$src/$2 ;; *) scn=$src/sim/scenarios/$2.json ;; esac
    out=$("$1" explore "$scn" --schedules "$n" --seed 1 --policy "$3" --keep-going \
        --jobs "$jobs" --json --out "$work" 2>/dev/null)
    case $out in
    *'"result":"held"'* | *'"result":"failed"'*)
        printf '%s\n' "$out" | sed -n 's/.*"failures":\([0-9]*\).*/\1/p'
        ;;
    *) echo error ;;
    esac
}

# The real guest's count for one scenario and policy, measured once.
clean_failures() { # scenario policy
    key=$(printf '%s_%s' "$1" "$2" | tr -c 'A-Za-z0-9_.-' '_')
    [ -f "$work/clean.$key" ] || failures "$build/xensim" "$1" "$2" >"$work/clean.$key"
    cat "$work/clean.$key"
}

echo "| # | bug | scenario | failing schedules of $n (seeds 1-$n), per policy | clean guest |"
echo "|---|---|---|---|---|"
grep '^[0-9]' "$cat" | while IFS='|' read -r id name origin scenario policies budget oracle; do
    case " ${MUTANTS:-$id} " in *" $id "*) ;; *) continue ;; esac
    prog=$build/mutants/xensim-mutant-$id
    if [ ! -x "$prog" ]; then
        echo "rates.sh: $prog missing (cmake --build $build --target mutants)" >&2
        exit 2
    fi
    cells="" clean=""
    for p in $(echo "$policies" | tr ',' ' '); do
        # dfs enumerates one space: its count is not a rate over seeds.
        case $p in dfs:*) continue ;; esac
        cells="$cells${cells:+, }$p: $(failures "$prog" "$scenario" "$p")"
        c=$(clean_failures "$scenario" "$p")
        [ "$c" = 0 ] || clean="$clean${clean:+, }$p: $c"
    done
    echo "| $id | $name | $scenario | $cells | ${clean:-holds} |"
done
