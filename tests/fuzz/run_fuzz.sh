#!/bin/sh
# Run the libFuzzer targets, one at a time.
#
#   sh tests/fuzz/run_fuzz.sh [-t SECONDS] [-b BUILD_DIR] [TARGET...]
#
# Configures BUILD_DIR (default build-fuzz) with clang, ASan+UBSan and
# coverage instrumentation when it does not exist, builds it, and fuzzes
# each TARGET (default: all) for SECONDS (default 60) under nice, with
# 2 GB of RSS at most. New inputs go to BUILD_DIR/fuzz-work/TARGET, never
# into the committed corpus; a crash is written to
# BUILD_DIR/fuzz-work/crash-TARGET-* and makes the script exit 1. Minimize
# one with `FUZZER -minimize_crash=1 -runs=10000 FILE` and commit it as
# tests/fuzz/corpus/TARGET/regress-NAME once the bug is fixed.
set -eu
secs=60
build=build-fuzz
while getopts t:b: opt; do
    case $opt in
    t) secs=$OPTARG ;;
    b) build=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-b BUILD_DIR] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
src=$(cd "$(dirname "$0")/../.." && pwd)
targets=${*:-container rans modelfile png pnm decode ply splat y4m video}

if [ ! -f "$build/build.ninja" ]; then
    CC=clang CFLAGS=-fsanitize=fuzzer-no-link meson setup "$build" "$src" \
        -Dfuzzing=true -Dtests=false -Dapps=false -Dgpu=disabled \
        -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$build" -j 2 >/dev/null
work=$build/fuzz-work
mkdir -p "$work"
status=0
for t in $targets; do
    mkdir -p "$work/$t"
    echo "fuzz_$t: $secs s"
    if ! nice -n 19 "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 \
            -timeout=20 -print_final_stats=1 -artifact_prefix="$work/crash-$t-" \
            "$work/$t" "$src/tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1; then
        echo "fuzz_$t: FAILED, see $work/$t.log" >&2
        status=1
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' \
        "$work/$t.log" || true
done
exit $status
