#!/bin/sh
# Train a run on a GPU machine for a fixed time and bring back its weight
# averages in parts small enough to return (doc/training.md, "Training on a
# GPU"). Runs under that machine's python3 (PyTorch with CUDA).
#   sh models/train/gpu_run.sh OUT MINUTES INIT.lvcm DATA_DIR... -- [train.py args]
# OUT gets part-*.pt (ckpt_parts.py join them here), log.csv and train.out,
# rewritten at every save (each minute), so a run stopped early still returns
# its last minute's weights. --ema is required. A run that fails in its first
# 90 seconds is started once more with the integer layers in float32
# (LVC_QCONV_FP32=1, TF32 off) for the minutes left.
set -u
OUT=$1; MIN=$2; INIT=$3; shift 3
DATA=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do DATA="$DATA --data $1"; shift; done
[ $# -gt 0 ] && shift
PY=${LVC_PY:-python3}
DEV=${LVC_DEVICE:-cuda}
RUN=${LVC_GPU_RUN:-/tmp/lvc-gpu-run}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
T0=$(date +%s)
train() {  # $1: minutes
    H=$($PY -c "import sys; print(float(sys.argv[1]) / 60)" "$1"); shift
    rm -rf "$RUN"
    # shellcheck disable=SC2086
    $PY models/train/train.py --device "$DEV" --downscale 1 $DATA --run "$RUN" --init "$INIT" \
        --hours "$H" --save-every 60 --log-every 100 --parts-dir "$OUT" "$@" >>"$OUT/train.out" 2>&1
}
: >"$OUT/train.out"
tail -f "$OUT/train.out" & TAIL=$!
train "$MIN" "$@"; rc=$?
T1=$(date +%s)
if [ $rc -ne 0 ] && [ $((T1 - T0)) -lt 90 ] && ! ls "$OUT"/part-*.pt >/dev/null 2>&1; then
    LEFT=$($PY -c "import sys; print(max(0.5, float(sys.argv[1]) - (int(sys.argv[2]) - int(sys.argv[3])) / 60))" "$MIN" "$T1" "$T0")
    echo "train.py failed (exit $rc) after $((T1 - T0)) s: again with LVC_QCONV_FP32=1 for $LEFT min" >>"$OUT/train.out"
    LVC_QCONV_FP32=1 train "$LEFT" "$@"; rc=$?
fi
sleep 1; kill $TAIL 2>/dev/null
ls -l "$OUT"
exit $rc
