#!/usr/bin/python3
"""Encoder-side rounding of elic's latents, measured (monitoring only: the
figures are entropy ESTIMATES, as evaluate.py's, whose output format this
prints, so compare_eval.py takes it). The decoder does not care how the
encoder chose each symbol q, so a rounding that trades rate for
distortion better than round-to-nearest would be a free encoder gain.

  --rounding nearest     round(y - mu), what lvcenc does
  --rounding deadzone:D  sign(r) * floor(|r| + 0.5 - D), r = y - mu
  --rounding rdoq:A      per symbol, of floor(r) and floor(r) + 1 the one
                         with the lower  bits(q) + A * lambda * 255^2 / 3 *
                         inv_gain_c^2 * (r - q)^2  (the training loss's
                         trade-off, with unit synthesis energy per channel)

The contexts of later symbols see the symbols chosen, as in the C encoder.

  /usr/bin/python3 models/train/diag_rounding.py --rounding nearest > a.txt
  /usr/bin/python3 models/train/diag_rounding.py --rounding rdoq:0.5 > b.txt
  /usr/bin/python3 models/train/compare_eval.py a.txt b.txt
"""
import argparse
import math
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402
import export  # noqa: E402
import lvcm  # noqa: E402
from lvclayers import quantize_act  # noqa: E402


def bits_of(q, s):
    """-log2 P(q) under the Gaussian of scale s (unit bins around the mean)."""
    s = torch.clamp(s, min=0.11)
    c = 1.0 / math.sqrt(2.0)
    p = 0.5 * (torch.erfc(-c * (q + 0.5) / s) - torch.erfc(-c * (q - 0.5) / s))
    return -torch.log2(torch.clamp(p, min=1e-9))


class Rounder:
    def __init__(self, spec, model):
        self.kind, _, par = spec.partition(":")
        if self.kind not in ("nearest", "deadzone", "rdoq"):
            raise SystemExit(f"diag_rounding.py: unknown rounding '{spec}'")
        self.par = float(par) if par else 0.0
        self.model = model

    def __call__(self, r, s, lv, inv_gain):
        if self.kind == "nearest":
            return torch.floor(r + 0.5)
        if self.kind == "deadzone":
            return torch.sign(r) * torch.floor(torch.abs(r) + 0.5 - self.par)
        k = self.par * self.model.lambdas[lv] * 255.0 ** 2 / 3.0 * inv_gain ** 2
        lo = torch.floor(r)
        hi = lo + 1
        j_lo = bits_of(lo, s) + k * (r - lo) ** 2
        j_hi = bits_of(hi, s) + k * (r - hi) ** 2
        return torch.where(j_hi < j_lo, hi, lo)


def code(model, rounder, x, lv):
    """elic's eval forward with the latents rounded by rounder; returns the
    reconstruction and the estimated bits."""
    gain, inv_gain = model.gains(torch.tensor([lv]))
    y = model.g_a(x) * gain[:, :, None, None]
    zq = torch.floor(model.h_a(y) + 0.5)
    bits = -torch.log2(model.z_density.likelihood(zq)).sum()
    hyper = model.h_s(zq)
    b, _, h, w = y.shape
    anchor = arch.checkerboard_anchor_mask(h, w).to(y)[None, None]
    y_hats = []
    c0 = 0
    for k, sk in enumerate(model.slices):
        ys = y[:, c0:c0 + sk]
        ig = inv_gain[0, c0:c0 + sk][None, :, None, None]
        cc = [model.cc[k - 1](quantize_act(torch.cat(y_hats, 1), arch.OUT_FA))] if k else []
        out0 = model.ep[k](torch.cat([hyper, torch.zeros(b, 2 * sk, h, w)] + cc, 1))
        s0, m0 = out0[:, :sk], out0[:, sk:]
        q0 = rounder(ys - m0, s0, lv, ig)
        sc = model.sc[k](quantize_act((q0 + m0) * anchor, arch.OUT_FA))
        out1 = model.ep[k](torch.cat([hyper, sc] + cc, 1))
        s1, m1 = out1[:, :sk], out1[:, sk:]
        q1 = rounder(ys - m1, s1, lv, ig)
        q = anchor * q0 + (1 - anchor) * q1
        bits = bits + bits_of(q, anchor * s0 + (1 - anchor) * s1).sum()
        y_hats.append(q + anchor * m0 + (1 - anchor) * m1)
        c0 += sk
    x_hat = model.g_s(torch.cat(y_hats, 1) * inv_gain[:, :, None, None])
    return x_hat, float(bits)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default="models/weights/elic.lvcm")
    ap.add_argument("--data", default="../shared/data/train/bsds500/test")
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--skip", type=int, default=0, help="images to skip first")
    ap.add_argument("--rounding", default="nearest")
    args = ap.parse_args()
    torch.set_num_threads(1)
    meta = lvcm.read(args.weights)[1]
    if meta.get("arch") != "elic":
        ap.error("diag_rounding.py measures elic models only")
    model = arch.build("elic", N=int(meta["N"]), M=int(meta["M"]),
                       lambdas=arch.parse_lambdas(meta.get("lambdas")))
    export.load_lvcm_into(model, args.weights)
    model.eval()
    rounder = Rounder(args.rounding, model)
    files = sorted(f for f in os.listdir(args.data) if f.lower().endswith((".jpg", ".png")))
    files = files[args.skip:args.skip + args.images]
    L = len(model.lambdas)
    bpp = np.zeros(L)
    psnr = np.zeros(L)
    with torch.no_grad():
        for f in files:
            im = Image.open(os.path.join(args.data, f)).convert("RGB")
            w, h = im.size
            im = im.crop((0, 0, w // 64 * 64, h // 64 * 64))
            x = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255
            for lv in range(L):
                x_hat, bits = code(model, rounder, x, lv)
                bpp[lv] += bits / (x.shape[2] * x.shape[3])
                x8 = torch.floor(x_hat.clamp(0, 1) * 255 + 0.5) / 255
                psnr[lv] += 10 * np.log10(1 / float(((x8 - x) ** 2).mean()))
    n = len(files)
    print(f"step 0 cpu_h 0 ({n} images, estimated rate, rounding {args.rounding})")
    for lv in range(L):
        print(f"  level {lv} lambda {model.lambdas[lv]:.4f}: {bpp[lv] / n:.3f} bpp  "
              f"{psnr[lv] / n:.2f} dB")


if __name__ == "__main__":
    main()
