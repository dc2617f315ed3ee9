#!/bin/sh
# check_example.sh - the out-of-tree guest program of examples/minimal-guest
# against the installed tree: install to a scratch prefix, build the example
# with find_package(xensim) and with its Makefile (pkg-config), then with
# the installed xensim:
#   - explore demo.json, 200 schedules under pct:3+time, with each build;
#   - run the example's tick scenario and check the report names the guest
#     and the per-vCPU callback, and its fallback scenario (no per-vCPU
#     vector) and check the global vector was chosen;
#   - a scenario needing a kind the example lacks is refused (exit 2,
#     naming the kind), and so are a .so without the entry symbol and one
#     built for another ABI version (exit 2, naming the problem);
#   - the planted-bug build (-DEXAMPLE_PLANT_BUG=ON) fails explore.
# Exits 77 (skipped) without pkg-config or make.
#
# usage: check_example.sh BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR CC CMAKE [FLAGS]
set -eu
build=$1 src=$2 work=$3 libdir=$4 cc=$5 cmake=$6 flags=${7:-}

for tool in pkg-config make; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool not found: skipped"
        exit 77
    fi
done

fail() {
    echo "check_example: $*" >&2
    exit 1
}

# Run a command, keep its output in $work/$name.out, and check its exit
# status is `want`.
expect_rc() {
    want=$1 name=$2
    shift 2
    set +e
    "$@" >"$work/$name.out" 2>&1
    got=$?
    set -e
    [ "$got" -eq "$want" ] || {
        tail -20 "$work/$name.out" >&2
        fail "$name: exit $got, expected $want: $*"
    }
}

# The output of the last expect_rc named `name` must contain `text`.
expect_text() {
    name=$1 text=$2
    grep -qF -- "$text" "$work/$name.out" || {
        tail -20 "$work/$name.out" >&2
        fail "$name: output does not say '$text'"
    }
}

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
    fail "cmake --install failed (see $work/install.log)"
xensim=$prefix/bin/xensim
scenarios=$prefix/share/xensim/scenarios
example=$src/examples/minimal-guest

PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
export PKG_CONFIG_PATH

# The example includes only what a kernel port would have: the platform,
# Xen's public ABI and the guest-program interface (and scenario.h, for
# struct xsim_report).
if grep -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$example/minimal_guest.c" |
    grep -vE '"xensim/(platform|guestprog|scenario)\.h"|"xensim/abi/[a-z_]+\.h"'; then
    fail "minimal_guest.c includes a header outside the public guest interface"
fi

# 1. find_package(xensim) and xensim::headers (and the planted-bug build).
for variant in cmake planted; do
    plant=OFF
    [ "$variant" = planted ] && plant=ON
    "$cmake" -S "$example" -B "$work/$variant" -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" -DCMAKE_MODULE_LINKER_FLAGS="$flags" \
        -DEXAMPLE_PLANT_BUG=$plant >"$work/$variant.log" 2>&1 ||
        fail "configuring the example ($variant) failed (see $work/$variant.log)"
    "$cmake" --build "$work/$variant" >>"$work/$variant.log" 2>&1 ||
        fail "building the example ($variant) failed (see $work/$variant.log)"
done
so_cmake=$work/cmake/libexample_guest.so
so_planted=$work/planted/libexample_guest.so

# 2. The Makefile with pkg-config, built outside the source tree.
mkdir -p "$work/make"
(cd "$work/make" && make -f "$example/Makefile" CC="$cc" CFLAGS="-O2 $flags") \
    >"$work/make.log" 2>&1 || fail "building the example with make failed (see $work/make.log)"
so_make=$work/make/libexample_guest.so

# Neither build may pull in xensim's libraries, nor leave a call into them
# unresolved: the program reaches xensim only through its platform and env.
for so in "$so_cmake" "$so_make"; do
    [ -f "$so" ] || fail "not built: $so"
    if ldd "$so" | grep -E 'libxensim|libxenguest'; then
        fail "$so is linked to xensim's libraries"
    fi
    if nm -D --undefined-only "$so" | grep -E ' (xg|xsim)_'; then
        fail "$so calls into xensim's libraries"
    fi
    nm -D --defined-only "$so" | grep -q ' xsim_guest_program$' ||
        fail "$so does not export xsim_guest_program"
done

# 3. Explore the demo with each build; run the tick scenario.
for b in cmake make; do
    eval so=\$so_$b
    start=$(date +%s)
    expect_rc 0 "explore-$b" "$xensim" explore "$scenarios/demo.json" --guest "$so" \
        --schedules 200 --policy pct:3+time --out "$work"
    expect_text "explore-$b" "every oracle held"
    echo "explore demo.json, 200 schedules, pct:3+time ($b build):" \
        "$(($(date +%s) - start)) s; $(grep -o '[0-9]* schedules/s' "$work/explore-$b.out" | tail -1)"

    expect_rc 0 "tick-$b" "$xensim" run "$example/tick.json" --guest "$so"
    expect_text "tick-$b" "guest minimal-guest"
    expect_text "tick-$b" "callback percpu-vector"
    expect_text "tick-$b" "timers           pass"
done
expect_rc 0 explore-tick "$xensim" explore "$example/tick.json" --guest "$so_cmake" \
    --schedules 200 --policy pct:3+time --out "$work"
expect_text explore-tick "every oracle held"

expect_rc 0 fallback "$xensim" run "$example/tick-fallback.json" --guest "$so_cmake"
expect_text fallback "callback vector"

# 4. Refusals, each with exit 2 and a message naming the problem.
expect_rc 2 missing-kind "$xensim" run "$scenarios/blk-power-loss.json" --guest "$so_cmake"
expect_text missing-kind "needs block-io, which guest 'minimal-guest' does not implement"

printf 'int not_the_entry = 1;\n' >"$work/nosym.c"
# shellcheck disable=SC2086 # FLAGS is a word list
"$cc" $flags -shared -fPIC -o "$work/nosym.so" "$work/nosym.c" || fail "building nosym.so failed"
expect_rc 2 no-symbol "$xensim" run "$scenarios/demo.json" --guest "$work/nosym.so"
expect_text no-symbol "exports no 'xsim_guest_program'"

cat >"$work/badabi.c" <<'EOF'
#include "xensim/guestprog.h"
static int init(void *s, const struct xsim_guest_env *env) { (void)s; (void)env; return 0; }
static void start(void *s, unsigned int cpu) { (void)s; (void)cpu; }
static void intr(void *s, unsigned int cpu, uint8_t v) { (void)s; (void)cpu; (void)v; }
const struct xsim_guest_program xsim_guest_program = {
    .abi_version = XSIM_GUEST_ABI_VERSION + 1,
    .struct_size = sizeof(struct xsim_guest_program),
    .name = "wrong-abi", .state_size = 8, .init = init, .start = start, .interrupt = intr};
EOF
# shellcheck disable=SC2086,SC2046 # FLAGS and pkg-config output are word lists
"$cc" -std=c11 $flags $(pkg-config --cflags xensim) -shared -fPIC -o "$work/badabi.so" \
    "$work/badabi.c" || fail "building badabi.so failed"
expect_rc 2 wrong-abi "$xensim" run "$scenarios/demo.json" --guest "$work/badabi.so"
expect_text wrong-abi "ABI version"

# 5. The planted bug (a port unmasked before it is on its CPU) is caught.
expect_rc 1 planted "$xensim" explore "$scenarios/demo.json" --guest "$so_planted" \
    --schedules 200 --policy pct:3+time --out "$work"
expect_text planted "no_lost_events"
echo "planted bug: $(grep 'failed' "$work/planted.out" | head -1)"

echo "check_example: ok"
