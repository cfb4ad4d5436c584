#!/bin/sh
# Decode every small splat stream of the fuzz corpus with lvcdec and with
# tools/splat_spec_decode.py (an independent decoder written from
# doc/bitstream.md 6.1 and doc/entropy.md) and compare the PLY files byte
# for byte. TAP output; skipped without python3.
# Usage: spec_decode_test.sh LVCDEC SRCDIR
LVCDEC=$1
SRCDIR=$2
if [ -z "$LVCDEC" ] || [ -z "$SRCDIR" ]; then
    echo "usage: $0 LVCDEC SRCDIR" >&2
    exit 2
fi
PY=$(command -v python3 2>/dev/null)
if [ -z "$PY" ]; then
    echo "1..0 # SKIP python3 not found"
    exit 0
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lvc-spec-decode.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir "$TMP/ref" "$TMP/spec"
n=0
for f in "$SRCDIR"/tests/fuzz/corpus/splat/s*.lvc; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    name=$(basename "$f" .lvc)
    if ! "$LVCDEC" "$f" -o "$TMP/ref/$name.ply" --quiet >"$TMP/log" 2>&1; then
        echo "not ok $n - $name # lvcdec failed: $(head -n 1 "$TMP/log")"
    elif ! "$PY" "$SRCDIR/tools/splat_spec_decode.py" "$f" "$TMP/spec/$name.ply" \
            >"$TMP/log" 2>&1; then
        echo "not ok $n - $name # splat_spec_decode.py failed: $(head -n 1 "$TMP/log")"
    elif ! cmp "$TMP/ref/$name.ply" "$TMP/spec/$name.ply" >"$TMP/log" 2>&1; then
        echo "not ok $n - $name # $(head -n 1 "$TMP/log")"
    else
        echo "ok $n - $name"
    fi
done
if [ "$n" -eq 0 ]; then
    echo "1..0 # SKIP no corpus streams under $SRCDIR/tests/fuzz/corpus/splat"
    exit 0
fi
echo "1..$n"
