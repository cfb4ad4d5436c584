#!/usr/bin/python3
"""Generalization check: the loss (bpp + lambda * 255^2 * MSE; entropy
estimates and 8-bit reconstructions, as evaluate.py measures) of a model
on images it was trained on against images it never saw, from one
distribution. BSDS500's train and val splits are in the
training set (the `--data` folders of doc/training.md), its test split is
not; every image is prepared as train.py prepares it (downscaled by 2, box
filter), then cropped to a multiple of 64 from the top left.

  /usr/bin/python3 models/train/diag_gap.py --weights models/weights/elic.lvcm \
      --bsds ../shared/data/train/bsds500 --images 40

A model that had memorized its training set would code train and val
clearly better than test; one limited by its training (too few steps for
its size) codes val and test alike."""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402
import export  # noqa: E402
import lvcm  # noqa: E402
from evaluate import level_rd, load_image  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="a .lvcm holding its own transforms")
    ap.add_argument("--bsds", required=True, help="the BSDS500 folder (train/, val/, test/)")
    ap.add_argument("--images", type=int, default=40, help="first N images of each split")
    ap.add_argument("--downscale", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    meta = lvcm.read(args.weights)[1]
    if meta.get("trunk_sha256"):
        ap.error(f"{args.weights} takes its transforms from another file")
    model = arch.build(meta["arch"], N=int(meta["N"]), M=int(meta["M"]),
                       lambdas=arch.parse_lambdas(meta.get("lambdas")))
    export.load_lvcm_into(model, args.weights)
    model.eval()
    L = len(model.lambdas)
    rows = {}
    for split in ("train", "val", "test"):
        d = os.path.join(args.bsds, split)
        files = sorted(f for f in os.listdir(d) if f.lower().endswith((".jpg", ".png")))
        files = files[: args.images]
        loss = np.zeros(L)
        bpp = np.zeros(L)
        psnr = np.zeros(L)
        with torch.no_grad():
            for f in files:
                x = load_image(os.path.join(d, f), args.downscale)
                for lv in range(L):
                    b, mse = level_rd(model, x, lv)
                    bpp[lv] += b
                    psnr[lv] += 10 * np.log10(1 / mse)
                    loss[lv] += b + model.lambdas[lv] * 255 ** 2 * mse
        n = len(files)
        rows[split] = loss / n
        print(f"{split:5s} ({n} images) loss " + " ".join(f"{v:.3f}" for v in loss / n))
        print(f"{'':5s} bpp  " + " ".join(f"{v:.3f}" for v in bpp / n))
        print(f"{'':5s} dB   " + " ".join(f"{v:.2f}" for v in psnr / n), flush=True)
    for split in ("train", "val"):
        rel = 100 * (rows[split] / rows["test"] - 1)
        print(f"{split} vs test, loss per level: " + " ".join(f"{v:+.1f}%" for v in rel))


if __name__ == "__main__":
    main()
