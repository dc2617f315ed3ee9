#!/bin/sh
# suite.sh - run the default test suite against every mutant of
# catalogue.txt: each mutant must make at least one test fail, so that a
# re-introduced bug of a known class cannot pass the suite unnoticed.
#
# usage: suite.sh SOURCE_DIR [BUILD_DIR]
#   BUILD_DIR (default SOURCE_DIR/build-mutsuite) is configured once, with
#   libxenguest built with XG_MUTANT=N (the XENSIM_MUTANT cache variable)
#   for one mutant after another: only libxenguest is compiled again and
#   everything relinked: about a minute per mutant on 2 cores.
# MUTANTS="3 14" in the environment runs only those. Prints one line per
# mutant with the tests that failed; exits 1 when a mutant failed none.
set -u
src=$(cd "$1" && pwd)
build=${2:-$src/build-mutsuite}
ids=${MUTANTS:-$(sed -n 's/^\([0-9][0-9]*\)|.*/\1/p' "$src/tests/mutants/catalogue.txt")}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
missed=""

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXENSIM_LTO=OFF \
    -DXENSIM_WERROR=ON >/dev/null || exit 2
for n in $ids; do
    name=$(sed -n "s/^$n|\([^|]*\)|.*/\1/p" "$src/tests/mutants/catalogue.txt")
    log=$build/mutant-$n.log
    if ! cmake -DXENSIM_MUTANT="$n" "$build" >/dev/null 2>&1 ||
        ! cmake --build "$build" -j"$jobs" >"$log" 2>&1; then
        echo "$n $name: build failed (see $log)"
        missed="$missed $n"
        continue
    fi
    ctest --test-dir "$build" -LE 'long|tsan' -j"$jobs" --timeout 600 >"$log" 2>&1
    failed=$(sed -n 's/^[[:space:]]*[0-9][0-9]* - \([^ ]*\) .*/\1/p' "$log" | tr '\n' ' ')
    if [ -z "$failed" ]; then
        echo "$n $name: NOT CAUGHT (every test passed)"
        missed="$missed $n"
    else
        echo "$n $name: caught by $failed"
    fi
done
cmake -DXENSIM_MUTANT= "$build" >/dev/null 2>&1
if [ -n "$missed" ]; then
    echo "not caught by the default suite:$missed"
    exit 1
fi
echo "every mutant is caught by the default suite"
