#!/bin/sh
# Ship the newest weights of a training run: export the .lvcm (fp16 float
# layers, doc/model-file.md), extend the training log beside it, and
# regenerate what depends on the weights (the PyTorch parity fixture and,
# when present, the conformance streams).
#   models/train/ship.sh meanscale
# LVC_SHIP_NO_CONFORMANCE=1 skips the conformance regeneration (when
# several models are shipped in a row: regenerate once after the last).
# LVC_SHIP_TRUNK=elic ships a model fitted to elic's frozen transforms as a
# file sharing elic's trunk (export.py --trunk; ship elic first).
# LVC_SHIP_EMA=D ships the run's weight moving average of decay D
# (train.py --ema) instead of its weights.
set -eu
arch=${1:?usage: ship.sh ARCH}
cd "$(dirname "$0")/../.."
run=models/train/runs/$arch
trunk=${LVC_SHIP_TRUNK:-}
ema=${LVC_SHIP_EMA:-}
/usr/bin/python3 models/train/export.py --run "$run" --out "models/weights/$arch.lvcm" \
    ${trunk:+--trunk "models/weights/$trunk.lvcm"} ${ema:+--ema "$ema"}
# The shipped log keeps the whole history: rows of the run past the last
# step already recorded are appended (a run resumed from shipped weights
# starts a new log.csv).
# A continuation export (models/train/resume/ARCH.*, committed when a
# session ended without a ship) contributes its rows first; the shipped
# weights supersede it, so it is removed.
log=models/weights/$arch.train.csv
resume=models/train/resume/$arch
for src in "$resume.train.csv" "$run/log.csv"; do
  [ -f "$src" ] || continue
  if [ -f "$log" ]; then
    last=$(tail -n 1 "$log" | cut -d, -f1)
    case $last in ''|*[!0-9]*) last=-1 ;; esac
    awk -F, -v last="$last" 'NR > 1 && $1 + 0 > last' "$src" >> "$log"
  else
    cp "$src" "$log"
  fi
done
if [ -f "$resume.lvcm" ] || [ -f "$resume.train.csv" ]; then
  rm -f "$resume.lvcm" "$resume.train.csv"
  echo "ship.sh: $resume.lvcm superseded by models/weights/$arch.lvcm (removed)"
fi
/usr/bin/python3 models/train/gen_parity.py "models/weights/$arch.lvcm" \
    "tests/models/fixtures/${arch}_parity.lvcm"
# the build embeds the new weights (reconfigure: the file may be new)
if [ -d build ]; then
  # (quiet unless it fails; ninja reports errors on stdout)
  out=$(meson setup --reconfigure build 2>&1 && ninja -C build 2>&1) || {
    printf '%s\n' "$out" | tail -n 30 >&2
    echo "ship.sh: rebuilding build/ failed (another ninja running in it?)" >&2
    exit 1
  }
fi
if [ -x conformance/regenerate ] && [ "${LVC_SHIP_NO_CONFORMANCE:-0}" = 0 ]; then
  conformance/regenerate
fi
