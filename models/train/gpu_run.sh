#!/bin/sh
# Train a run on a GPU machine for a fixed time and bring back its weight
# averages in parts small enough to return (doc/training.md, "Training on a
# GPU"). Runs under that machine's python3 (PyTorch with CUDA).
#   models/train/gpu_run.sh OUT MINUTES INIT.lvcm DATA_DIR... -- [train.py args]
# OUT gets part-*.pt (ckpt_parts.py join them here), log.csv and train.out,
# rewritten at every save (each minute), so a run stopped early still returns
# its last minute's weights. --ema is required.
set -u
OUT=$1; MIN=$2; INIT=$3; shift 3
DATA=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do DATA="$DATA --data $1"; shift; done
[ $# -gt 0 ] && shift
PY=${LVC_PY:-python3}
DEV=${LVC_DEVICE:-cuda}
RUN=${LVC_GPU_RUN:-/tmp/lvc-gpu-run}
H=$(awk -v m="$MIN" 'BEGIN{printf "%.4f", m/60}')
export PYTHONUNBUFFERED=1
rm -rf "$RUN"; mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
$PY -c 'import torch, numpy; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "numpy", numpy.__version__)'
# shellcheck disable=SC2086
$PY models/train/train.py --device "$DEV" --downscale 1 $DATA --run "$RUN" --init "$INIT" \
    --hours "$H" --save-every 60 --log-every 100 --parts-dir "$OUT" "$@" 2>&1 | tee "$OUT/train.out"
ls -l "$OUT"
