#!/bin/bash
# launch.sh DIR LIBDIR PRELOAD: start Debian 12's xenstored (xen-utils-4.17)
# as a Unix-socket server at DIR/run/socket, its pid in DIR/xenstored.pid,
# with the stub Xen libraries of LIBDIR and the /proc/xen redirect PRELOAD
# (see README.md). Exit 0 once the socket exists; 1 with a reason if not.
set -eu
dir=${1:?usage: launch.sh DIR LIBDIR PRELOAD}
libdir=${2:?usage: launch.sh DIR LIBDIR PRELOAD}
preload=${3:?usage: launch.sh DIR LIBDIR PRELOAD}
daemon=$dir/pkg/root/usr/lib/xen-4.17/bin/xenstored

mkdir -p "$dir/run" "$dir/pkg"
if [ ! -x "$daemon" ]; then
    (cd "$dir/pkg" && { apt-get download xen-utils-4.17 >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 && apt-get download xen-utils-4.17 >/dev/null 2>&1; }; }) ||
        { echo "launch.sh: cannot download xen-utils-4.17" >&2; exit 1; }
    dpkg -x "$dir"/pkg/xen-utils-4.17_*.deb "$dir/pkg/root"
fi
[ -x "$daemon" ] || { echo "launch.sh: no xenstored in the package" >&2; exit 1; }

# What /proc/xen would hold on a Xen host: the store's event channel and
# the page of its ring (never used over a socket).
echo 1 >"$dir/xsd_port"
head -c 4096 /dev/zero >"$dir/xsd_kva"
rm -f "$dir/run/socket"

XSIM_REFXS_DIR=$dir XENSTORED_RUNDIR=$dir/run XENSTORED_PATH=$dir/run/socket \
    LD_LIBRARY_PATH=$libdir LD_PRELOAD=$preload \
    "$daemon" --no-fork --verbose >"$dir/xenstored.log" 2>&1 &
echo $! >"$dir/xenstored.pid"
for _ in $(seq 100); do
    [ -S "$dir/run/socket" ] && exit 0
    kill -0 "$(cat "$dir/xenstored.pid")" 2>/dev/null || break
    sleep 0.1
done
echo "launch.sh: xenstored did not start: $(tail -n 3 "$dir/xenstored.log")" >&2
exit 1
