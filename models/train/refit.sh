#!/bin/sh
# Ship the elic run and the zoo fitted to it, in one go: the four other
# models' entropy models are refitted to the elic run's current transforms
# (each starting from its shipped file's entropy model, fitted to the
# previous trunk: train.py --warm-entropy), in parallel, one thread each;
# elic is shipped as soon as the fits have read the previous trunk; then
# the four are shipped as files sharing the new elic's trunk, and the
# conformance streams and the fuzz seed corpus are regenerated.
#   models/train/refit.sh [HOURS]      (wall time of the fits, default 0.2)
# Training crops per model: LVC_REFIT_CROPS, space-separated ARCH=CROP:BATCH
# (CROP as train.py --crop takes it); by default the models with a
# hyperprior fit on 192x256 crops (a 3x4 grid of z instead of 2x2: on
# held-out images -17..-21% bpp for hyperprior and checkerboard after 15
# minutes, doc/training.md "Crop size for the entropy models"), factorized
# on 128x128.
# LVC_SHIP_EMA=D ships elic's weight moving average of decay D (train.py
# --ema) and fits the four to it.
# LVC_REFIT_EMA=D (default 0.998; empty for none) keeps a moving average of
# each fit's weights and ships it instead of the last weights (on held-out
# images -2.6% bpp for hyperprior after 15 minutes, doc/training.md
# "Weight averaging for the entropy-model fits").
# Stop the elic run first (SIGTERM saves its checkpoint). Previous fit run
# folders are kept as runs/ARCH.YYYYmmdd-HHMM.
set -eu
cd "$(dirname "$0")/../.."
hours=${1:-0.2}
S=${LVC_TRAIN_DATA:-../shared/data/train}
archs="checkerboard hyperprior factorized meanscale"
runs=models/train/runs
stamp=$(date +%Y%m%d-%H%M)
[ -f $runs/elic/ckpt.pt ] || { echo "refit.sh: no $runs/elic/ckpt.pt" >&2; exit 1; }
# the ships rebuild build/ and the conformance streams are encoded with it:
# it must exist, and nothing else may build in it until this has finished
[ -f build/build.ninja ] || {
  echo "refit.sh: no build/ (meson setup build && ninja -C build first)" >&2; exit 1; }
if pgrep -f "train.py.*--run $runs/elic( |\$)" >/dev/null; then
  echo "refit.sh: the elic run is still training; stop it first (kill -TERM)" >&2
  exit 1
fi
fit_ema=${LVC_REFIT_EMA-0.998}
crops=${LVC_REFIT_CROPS:-"hyperprior=192x256:2 meanscale=192x256:2 checkerboard=192x256:2 factorized=128:8"}
crop_of() {
  for c in $crops; do
    case $c in "$1="*) echo "${c#*=}"; return ;; esac
  done
  echo 128:8
}
pids=""
for a in $archs; do
  cb=$(crop_of $a)
  if [ -d $runs/$a ]; then mv $runs/$a $runs/$a.$stamp; fi
  mkdir -p $runs/$a
  nice -n 10 /usr/bin/python3 models/train/train.py --arch $a \
      --data $S/imagenet_sample --data $S/bsds500/train --data $S/bsds500/val \
      --freeze-transforms --lr 1e-3 --threads 1 --hours "$hours" --save-every 300 \
      --crop "${cb%:*}" --batch "${cb#*:}" \
      --run $runs/$a --init $runs/elic/ckpt.pt ${LVC_SHIP_EMA:+--init-ema "$LVC_SHIP_EMA"} \
      --warm-entropy models/weights/$a.lvcm ${fit_ema:+--ema "$fit_ema"} \
      > $runs/$a.out 2>&1 &
  pids="$pids $!"
done
# The warm start reads models/weights/ARCH.lvcm, which names the shipped
# elic as its trunk: ship the new elic only after every fit has read it.
set -- $pids
for a in $archs; do
  while ! grep -q "training images loaded" $runs/$a.out; do
    if ! kill -0 "$1" 2>/dev/null; then
      cat $runs/$a.out >&2
      echo "refit.sh: the $a fit stopped before it started training" >&2
      exit 1
    fi
    sleep 5
  done
  shift
done
LVC_SHIP_NO_CONFORMANCE=1 LVC_SHIP_EMA=${LVC_SHIP_EMA:-} sh models/train/ship.sh elic || {
  echo "refit.sh: shipping elic failed; the fits ($pids) go on: ship them" \
       "when they end (ship.sh with LVC_SHIP_TRUNK=elic), then regenerate" >&2
  exit 1
}
fail=0
for p in $pids; do wait "$p" || fail=1; done
[ $fail = 0 ] || { echo "refit.sh: a fit failed (see $runs/*.out)" >&2; exit 1; }
for a in $archs; do
  LVC_SHIP_EMA=$fit_ema LVC_SHIP_TRUNK=elic LVC_SHIP_NO_CONFORMANCE=1 sh models/train/ship.sh $a
done
conformance/regenerate
/usr/bin/python3 tests/fuzz/make_corpus.py build
/usr/bin/python3 models/train/summary.py models/weights
