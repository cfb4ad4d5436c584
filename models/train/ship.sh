#!/bin/sh
# Ship the newest weights of a training run: export the .lvcm (fp16), copy
# the training log beside it, and regenerate what depends on the weights
# (the PyTorch parity fixture and, when present, the conformance streams).
#   models/train/ship.sh meanscale
set -eu
arch=${1:?usage: ship.sh ARCH}
cd "$(dirname "$0")/../.."
run=models/train/runs/$arch
/usr/bin/python3 models/train/export.py --run "$run" --out "models/weights/$arch.lvcm"
cp "$run/log.csv" "models/weights/$arch.train.csv"
/usr/bin/python3 models/train/gen_parity.py "models/weights/$arch.lvcm" \
    "tests/models/fixtures/${arch}_parity.lvcm"
if [ -x conformance/regenerate ]; then
  conformance/regenerate
fi
