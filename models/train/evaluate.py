#!/usr/bin/python3
"""Quick held-out check of a training run (monitoring only: the figures are
entropy ESTIMATES, not bitstreams; published RD comes from lvcenc/lvcdec
through lvcrd).

  /usr/bin/python3 models/train/evaluate.py --run models/train/runs/meanscale \
      --data ../shared/data/train/bsds500/test --images 8
  /usr/bin/python3 models/train/evaluate.py --weights models/weights/elic.lvcm \
      --data ../shared/data/train/bsds500/test --images 8
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402


def load_image(path, downscale=1):
    """An RGB photo as a 1x3xHxW float tensor in [0, 1]: downscaled (box
    filter, as train.py prepares its data) when asked, then cropped from
    the top left to a multiple of 64 (the hyper grid)."""
    im = Image.open(path).convert("RGB")
    if downscale > 1:
        im = im.reduce(downscale)
    w, h = im.size
    im = im.crop((0, 0, w // 64 * 64, h // 64 * 64))
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255


def level_rd(model, x, level):
    """(bits per pixel, MSE) of x at one rate level, the model in eval mode:
    likelihoods of the rounded symbols (rate_input), 8-bit reconstruction."""
    x_hat, y_lik, z_lik = model(x, torch.tensor([level]))
    bits = -torch.log2(y_lik).sum() - torch.log2(z_lik).sum()
    x8 = torch.floor(x_hat.clamp(0, 1) * 255 + 0.5) / 255
    return float(bits) / (x.shape[2] * x.shape[3]), float(((x8 - x) ** 2).mean())


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", help="training run folder (its ckpt.pt)")
    src.add_argument("--weights", help="a .lvcm holding its own transforms (e.g. the "
                                       "shipped models/weights/elic.lvcm)")
    ap.add_argument("--data", required=True)
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--float-weights", choices=("fp32", "fp16", "int8"), default="fp32",
                    help="evaluate with the float layers stored as export.py would "
                         "(int8 per output channel, or fp16)")
    ap.add_argument("--ema", type=float, default=None,
                    help="evaluate the run's weight moving average of this decay "
                         "(train.py --ema) instead of its weights")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.weights:
        import export
        import lvcm
        meta = lvcm.read(args.weights)[1]
        if meta.get("trunk_sha256"):
            ap.error(f"{args.weights} takes its transforms from another file; "
                     "evaluate that model's training run instead")
        if args.ema is not None:
            ap.error("--ema needs --run")
        model = arch.build(meta["arch"], N=int(meta["N"]), M=int(meta["M"]),
                           lambdas=arch.parse_lambdas(meta.get("lambdas")))
        export.load_lvcm_into(model, args.weights)
        ck = {"state": export.read_train_state(args.weights)}
    else:
        from train import load_checkpoint
        ck = load_checkpoint(os.path.join(args.run, "ckpt.pt"))
        a = ck.get("args", {})
        model = arch.build(a.get("arch", "meanscale"), N=a.get("N", 128), M=a.get("M", 192),
                           lambdas=a.get("lambdas_used"))
        model.load_state_dict(arch.checkpoint_weights(ck, args.ema))
    model.eval()
    if args.float_weights != "fp32":
        import export
        sd = model.state_dict()
        for k, v in sd.items():
            if not k.startswith(("g_a.", "g_s.", "h_a.")):
                continue
            if args.float_weights == "int8" and k.endswith(".weight") and v.dim() == 4:
                q, scale = export.quantize_int8(v.numpy())
                w = q.astype(np.float32) * scale.reshape((-1,) + (1,) * (v.dim() - 1))
                sd[k] = torch.from_numpy(w)
            elif k.endswith((".weight", ".bias")):
                sd[k] = v.half().float()
        model.load_state_dict(sd)
    files = sorted(f for f in os.listdir(args.data) if f.lower().endswith((".jpg", ".png")))
    files = files[: args.images]
    L = len(model.lambdas)
    bpp = np.zeros(L)
    psnr = np.zeros(L)
    with torch.no_grad():
        for f in files:
            x = load_image(os.path.join(args.data, f))
            for lv in range(L):
                b, mse = level_rd(model, x, lv)
                bpp[lv] += b
                psnr[lv] += 10 * np.log10(1 / mse)
    n = len(files)
    which = f", weight average {args.ema}" if args.ema is not None else ""
    print(f"step {ck['state']['step']} cpu_h {ck['state']['cpu_s'] / 3600:.2f} "
          f"({n} images, estimated rate{which})")
    for lv in range(L):
        print(f"  level {lv} lambda {model.lambdas[lv]:.4f}: {bpp[lv] / n:.3f} bpp  "
              f"{psnr[lv] / n:.2f} dB")


if __name__ == "__main__":
    main()
