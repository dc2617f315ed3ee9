#!/bin/sh
# check_install.sh - install the build tree to a scratch prefix, then build
# host.c against the installed tree with pkg-config (xensim and xensim-core)
# and with find_package(xensim), run each, and check that every build prints
# the same digest and that the core-only programs need neither libuv nor
# jansson. Exits 77 (skipped) without pkg-config.
#
# usage: check_install.sh BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR CC CMAKE [FLAGS]
set -eu
build=$1 src=$2 work=$3 libdir=$4 cc=$5 cmake=$6 flags=${7:-}

if ! command -v pkg-config >/dev/null 2>&1; then
    echo "pkg-config not found: skipped"
    exit 77
fi

fail() {
    echo "check_install: $*" >&2
    exit 1
}

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" ||
    fail "cmake --install failed (see $work/install.log)"
for f in include/xensim/world.h include/xensim/abi/xen.h include/xensim/guest/xg.h \
    "$libdir/libxensim.a" "$libdir/libxensim-core.a" "$libdir/libxenguest.a" \
    "$libdir/pkgconfig/xensim.pc" "$libdir/cmake/xensim/xensim-config.cmake" \
    bin/xensim share/xensim/profiles/haswell-xen44.json share/xensim/scenarios/README.md; do
    [ -e "$prefix/$f" ] || fail "not installed: $f"
done
"$prefix/bin/xensim" --version >/dev/null || fail "installed xensim --version failed"

# The core archive must not reach for libuv or jansson.
if nm -u "$prefix/$libdir/libxensim-core.a" | grep -E ' (uv|json)_' >"$work/core-undef.txt"; then
    fail "libxensim-core.a refers to libuv or jansson: $(head -3 "$work/core-undef.txt")"
fi

PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
export PKG_CONFIG_PATH
LD_LIBRARY_PATH=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

# shellcheck disable=SC2086 # FLAGS and pkg-config output are word lists
build_pc() {
    out=$1 module=$2
    libs=$(pkg-config --libs "$module") || fail "pkg-config --libs $module failed"
    cflags=$(pkg-config --cflags "$module") || fail "pkg-config --cflags $module failed"
    echo "$out: $cc $cflags ... $libs"
    "$cc" -std=c11 $flags $cflags "$src/tests/install/host.c" -o "$work/$out" $libs ||
        fail "building $out with pkg-config $module failed"
}
build_pc host_pc xensim
build_pc host_pc_core xensim-core
case " $(pkg-config --libs --static xensim-core) " in
*uv* | *jansson*) fail "xensim-core.pc names libuv or jansson" ;;
esac

"$cmake" -S "$src/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
    -DHOST_SOURCE="$src/tests/install/host.c" >"$work/consumer.log" 2>&1 ||
    fail "configuring the find_package consumer failed (see $work/consumer.log)"
"$cmake" --build "$work/consumer" >>"$work/consumer.log" 2>&1 ||
    fail "building the find_package consumer failed (see $work/consumer.log)"

expect=
for p in host_pc host_pc_core consumer/host_full consumer/host_core; do
    got=$("$work/$p") || fail "$p failed: $got"
    echo "$p: $got"
    [ -z "$expect" ] || [ "$got" = "$expect" ] || fail "$p printed '$got', expected '$expect'"
    expect=$got
done
for p in host_pc consumer/host_full; do
    ldd "$work/$p" | grep -q 'libxensim\.so\.0 ' || fail "$p is not linked to libxensim.so.0"
done
for p in host_pc_core consumer/host_core; do
    if ldd "$work/$p" | grep -E 'libuv|libjansson'; then
        fail "$p is linked to libuv or jansson"
    fi
done
echo "check_install: ok"
