#!/bin/sh
# measure.sh - explore every mutant of catalogue.txt with its scenario and
# policies, and the real guest with the same ones, and print the table of
# schedules to the first failure (markdown, as docs/mutants.md holds it).
#
# usage: measure.sh BUILD_DIR SOURCE_DIR [--check] [--write] [--rates=N]
#   --check: exit 1 when a mutant is not found within its budget by any of
#   its policies (unless the catalogue expects none) or when the real guest
#   fails any of them.
#   --write: also put the table into README.md and docs/mutants.md, between
#   their "mutant table" markers.
#   --rates=N: count instead the failing schedules among seeds 1..N under
#   each policy (explore --keep-going), how likely a schedule is to find
#   the bug rather than how soon one did (one sample); dfs policies are left
#   out (one enumeration, not a sample). With --check, the real guest must
#   hold in every one.
# MUTANTS="3 17" in the environment measures only those rows. The real
# guest runs once per scenario, policy and budget, whichever rows share it
# (its schedules are the same ones: fixed seeds from 1).
set -u
build=$1 src=$2 check="" write="" rates=""
shift 2
for a in "$@"; do
    case $a in
    --check) check=1 ;;
    --write) write=1 ;;
    --rates=[1-9]*) rates=${a#--rates=} ;;
    *) echo "measure.sh: unknown option $a" >&2 && exit 2 ;;
    esac
done
if [ -n "$rates" ] && [ -n "$write" ]; then
    echo "measure.sh: --write puts the first-failure table; not with --rates" >&2
    exit 2
fi
cat=$src/tests/mutants/catalogue.txt
work=${TMPDIR:-/tmp}/xensim-mutants.$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT INT TERM
bad=0

# Schedules until the first failure ("-" when every one held), or "error".
first_failure() { # prog scenario policy budget
    case $2 in */*) scn=$src/$2 ;; *) scn=$src/sim/scenarios/$2.json ;; esac
    out=$("$1" explore "$scn" --schedules "$4" --policy "$3" --jobs 2 \
        --json --out "$work" 2>/dev/null)
    case $out in
    *'"result":"held"'*) echo - ;;
    *'"result":"failed"'*)
        first=$(printf '%s\n' "$out" | sed -n 's/.*"first_seed":\([0-9]*\).*/\1/p')
        seed=$(printf '%s\n' "$out" | sed -n 's/.*"failed_seed":\([0-9]*\).*/\1/p')
        echo $((seed - first + 1))
        ;;
    *) echo error ;;
    esac
}

# Failing schedules among seeds 1..N ("-" when every one held), or "error".
failures() { # prog scenario policy N
    case $2 in */*) scn=$src/$2 ;; *) scn=$src/sim/scenarios/$2.json ;; esac
    out=$("$1" explore "$scn" --schedules "$4" --seed 1 --policy "$3" --keep-going --jobs 2 \
        --json --out "$work" 2>/dev/null)
    case $out in
    *'"result":"held"'*) echo - ;;
    *'"result":"failed"'*) printf '%s\n' "$out" | sed -n 's/.*"failures":\([0-9]*\).*/\1/p' ;;
    *) echo error ;;
    esac
}

# One cell: the first failure, or under --rates the count.
cell() { # prog scenario policy budget
    if [ -n "$rates" ]; then failures "$1" "$2" "$3" "$rates"; else first_failure "$@"; fi
}

# The real guest's result for one scenario, policy and budget, measured once.
clean_result() { # scenario policy budget
    key=$(printf '%s_%s_%s' "$1" "$2" "$3" | tr -c 'A-Za-z0-9_.-' '_')
    if [ ! -f "$work/clean.$key" ]; then
        cell "$build/xensim" "$1" "$2" "$3" >"$work/clean.$key"
    fi
    cat "$work/clean.$key"
}

{
if [ -n "$rates" ]; then
    echo "| # | bug | scenario | failing schedules of $rates (seeds 1-$rates), per policy | clean guest |"
    echo "|---|---|---|---|---|"
else
    echo "| # | bug | origin | scenario | schedules to the first failure (budget) | clean guest | caught by |"
    echo "|---|---|---|---|---|---|---|"
fi
grep '^[0-9]' "$cat" | while IFS='|' read -r id name origin scenario policies budget oracle; do
    case " ${MUTANTS:-$id} " in *" $id "*) ;; *) continue ;; esac
    prog=$build/mutants/xensim-mutant-$id
    if [ ! -x "$prog" ]; then
        # (the loop runs in a subshell: the verdict goes through a file)
        echo "measure.sh: $prog missing (cmake --build $build --target mutants)" >&2
        echo 2 >"$work/bad"
        break
    fi
    found=no
    cells="" clean=""
    for p in $(echo "$policies" | tr ',' ' '); do
        case $rates:$p in [0-9]*:dfs:*) continue ;; esac
        r=$(cell "$prog" "$scenario" "$p" "$budget")
        c=$(clean_result "$scenario" "$p" "$budget")
        cells="$cells${cells:+, }$p: $r"
        [ "$c" = - ] || clean="$clean${clean:+, }$p: $c"
        case $r in - | error) ;; *) found=yes ;; esac
        if [ "$c" != - ] && [ -n "$check" ]; then
            echo "measure.sh: the real guest fails $scenario under $p ($c)" >&2
            echo 1 >"$work/bad"
        fi
    done
    if [ -n "$rates" ]; then
        echo "| $id | $name | $scenario | $cells | ${clean:-holds} |"
        continue
    fi
    echo "| $id | $name | $origin | $scenario | $cells ($budget) | ${clean:-holds} | $oracle |"
    if [ -n "$check" ] && [ $found = no ]; then
        case $oracle in
        *"none expected"*) ;;
        *)
            echo "measure.sh: mutant $id ($name) not found within $budget schedules" >&2
            echo 1 >"$work/bad"
            ;;
        esac
    fi
done
} | tee "$work/table"
[ -f "$work/bad" ] && bad=$(cat "$work/bad")
if [ -n "$write" ] && [ -z "${MUTANTS:-}" ]; then
    for f in "$src/README.md" "$src/docs/mutants.md"; do
        awk -v tf="$work/table" '
            /<!-- mutant table:/ { print; while ((getline l < tf) > 0) print l; skip = 1; next }
            /<!-- end of the mutant table -->/ { skip = 0 }
            !skip { print }' "$f" >"$work/doc" && cat "$work/doc" >"$f"
    done
fi
exit "$bad"
