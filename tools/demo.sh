#!/bin/sh
# make demo: encode and decode the sample photo with the embedded default
# model and report sizes and quality. Usage: tools/demo.sh BUILD_DIR
set -eu
build=${1:-build}
in=samples/kodim23.png
mkdir -p out
"$build"/apps/lvcenc "$in" -o out/kodim23.lvc -f -q 75
"$build"/apps/lvcdec out/kodim23.lvc -o out/kodim23.png -f --ref "$in"
echo "stream:  out/kodim23.lvc ($(wc -c < out/kodim23.lvc) bytes)"
echo "decoded: out/kodim23.png"
