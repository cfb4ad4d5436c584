#!/usr/bin/python3
"""Encoder-only choices of the elic symbols, measured on held-out images
(monitoring only: entropy ESTIMATES of the real symbols, not bitstreams).
The decoder and the bitstream stay as they are; only which integer the
encoder writes for y - mu changes.

  deadzone: quantizers with a wider zero bin or all thresholds moved
    toward zero, every level; BD-rate of each against plain rounding
      /usr/bin/python3 models/train/diag_encoder.py deadzone \\
          models/weights/elic.lvcm ../shared/data/train/bsds500/test \\
          --images 4 --modes 0,a0.05,a0.1,z0.1,z0.2
    (aT: |v| rounded after subtracting T; zT: |v| < 0.5 + T goes to 0)

  refine: latent refinement (the encoder optimises y for rate +
    lambda * MSE through the decoder, rounding with a straight-through
    gradient, Adam; z stays that of the unrefined y), per level
      /usr/bin/python3 models/train/diag_encoder.py refine \\
          models/weights/elic.lvcm ../shared/data/train/bsds500/test \\
          --images 1 --levels 4 --iters 30 --lr 0.0005
"""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402
import export  # noqa: E402
import lvcm  # noqa: E402
from arch import OUT_FA, checkerboard_anchor_mask  # noqa: E402
from lvclayers import gaussian_likelihood, quantize_act, round_ste  # noqa: E402


def load(path):
    if path.endswith(".pt"):
        ck = torch.load(path)
        a = ck.get("args", {})
        m = arch.build("elic", N=a.get("N", 128), M=a.get("M", 192),
                       lambdas=a.get("lambdas_used"))
        m.load_state_dict(ck["model"])
    else:
        lam = arch.parse_lambdas(lvcm.read(path)[1].get("lambdas"))
        m = arch.build("elic", lambdas=lam)
        export.load_lvcm_into(m, path, lambdas=lam)
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m


def quantizer(mode):
    """v = y - mu -> integer symbol, or a straight-through rounding ("ste")."""
    if mode == "ste":
        return round_ste
    if mode == "0":
        return lambda v: torch.floor(v + 0.5)
    kind, t = mode[0], float(mode[1:])
    if kind not in "az":
        raise ValueError(f"unknown mode {mode}")

    def q(v):
        a = v.abs()
        if kind == "a":
            r = torch.clamp(torch.floor(a + 0.5 - t), min=0)
        else:
            r = torch.floor(a + 0.5)
            r = torch.where(a < 0.5 + t, torch.zeros_like(r), r)
        return torch.sign(v) * r
    return q


def code(m, y, z_hat, inv_gain, q):
    """elic's two checkerboard passes per slice with quantizer q; returns
    the reconstruction and the bits of y and z (as ElicVR.forward)."""
    hyper = m.h_s(z_hat)
    b, _, h, w = y.shape
    anchor = checkerboard_anchor_mask(h, w).to(y)[None, None]
    y_hats, bits, c0 = [], 0.0, 0
    for k, sk in enumerate(m.slices):
        ys = y[:, c0:c0 + sk]
        cc = [m.cc[k - 1](quantize_act(torch.cat(y_hats, 1), OUT_FA))] if k else []
        zero = torch.zeros(b, 2 * sk, h, w)
        o0 = m.ep[k](torch.cat([hyper, zero] + cc, 1))
        s0, m0 = o0[:, :sk], o0[:, sk:]
        sc = m.sc[k](quantize_act((q(ys - m0) + m0) * anchor, OUT_FA))
        o1 = m.ep[k](torch.cat([hyper, sc] + cc, 1))
        s1, m1 = o1[:, :sk], o1[:, sk:]
        scale = anchor * s0 + (1 - anchor) * s1
        mu = anchor * m0 + (1 - anchor) * m1
        yk = q(ys - mu) + mu
        bits = bits - torch.log2(gaussian_likelihood(yk, mu, scale)).sum()
        y_hats.append(yk)
        c0 += sk
    bits = bits - torch.log2(m.z_density.likelihood(z_hat)).sum()
    x_hat = m.g_s(torch.cat(y_hats, 1) * inv_gain[:, :, None, None])
    return x_hat, bits


def images(folder, n):
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".png")))
    for f in files[:n]:
        im = Image.open(os.path.join(folder, f)).convert("RGB")
        w, h = im.size
        im = im.crop((0, 0, w // 64 * 64, h // 64 * 64))
        yield f, torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255


def analyse(m, x, level):
    gain, inv_gain = m.gains(torch.tensor([level]))
    y = m.g_a(x) * gain[:, :, None, None]
    z_hat = torch.floor(m.h_a(y) + 0.5)
    return y, z_hat, inv_gain


def measure(m, x, y, z_hat, inv_gain, q):
    with torch.no_grad():
        x_hat, bits = code(m, y, z_hat, inv_gain, q)
    x8 = torch.floor(x_hat.clamp(0, 1) * 255 + 0.5) / 255
    npx = x.shape[2] * x.shape[3]
    return float(bits) / npx, 10 * np.log10(1 / float(((x8 - x) ** 2).mean()))


def bd_rate(ref, test):
    """BD-rate (cubic fit of log rate over PSNR, overlapping range), %."""
    ref, test = np.array(sorted(ref)), np.array(sorted(test))
    pr = np.polyfit(ref[:, 1], np.log(ref[:, 0]), 3)
    pt = np.polyfit(test[:, 1], np.log(test[:, 0]), 3)
    lo = max(ref[:, 1].min(), test[:, 1].min())
    hi = min(ref[:, 1].max(), test[:, 1].max())
    ir, it = np.polyint(pr), np.polyint(pt)
    d = (np.polyval(it, hi) - np.polyval(it, lo) - np.polyval(ir, hi) + np.polyval(ir, lo))
    return (np.exp(d / (hi - lo)) - 1) * 100


def deadzone(m, args):
    modes = args.modes.split(",")
    levels = range(len(m.lambdas))
    acc = {(lv, md): [0.0, 0.0] for lv in levels for md in modes}
    n = 0
    with torch.no_grad():
        for _, x in images(args.data, args.images):
            n += 1
            for lv in levels:
                y, z_hat, inv_gain = analyse(m, x, lv)
                for md in modes:
                    b, p = measure(m, x, y, z_hat, inv_gain, quantizer(md))
                    acc[(lv, md)][0] += b
                    acc[(lv, md)][1] += p
    curves = {md: [(acc[(lv, md)][0] / n, acc[(lv, md)][1] / n) for lv in levels] for md in modes}
    for md in modes:
        pts = " ".join(f"{b:.3f}/{p:.2f}" for b, p in curves[md])
        print(f"{md:6s} BD-rate vs plain rounding {bd_rate(curves[modes[0]], curves[md]):+6.2f}%  "
              f"(bpp/dB per level: {pts})", flush=True)


def refine(m, args):
    torch.set_grad_enabled(True)
    levels = [int(v) for v in args.levels.split(",")]
    for f, x in images(args.data, args.images):
        npx = x.shape[2] * x.shape[3]
        for lv in levels:
            with torch.no_grad():
                y0, z_hat, inv_gain = analyse(m, x, lv)
            b0, p0 = measure(m, x, y0, z_hat, inv_gain, quantizer("0"))
            y = y0.clone().requires_grad_(True)
            opt = torch.optim.Adam([y], lr=args.lr)
            lam = m.lambdas[lv] * 255.0 ** 2
            for _ in range(args.iters):
                x_hat, bits = code(m, y, z_hat, inv_gain, quantizer("ste"))
                loss = bits / npx + lam * ((x_hat - x) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
            b1, p1 = measure(m, x, y.detach(), z_hat, inv_gain, quantizer("0"))
            print(f"{f} level {lv}: {b0:.4f} bpp {p0:.3f} dB -> {args.iters} iterations "
                  f"{b1:.4f} bpp {p1:.3f} dB", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("deadzone", "refine"))
    ap.add_argument("model", help="elic .lvcm or training checkpoint .pt")
    ap.add_argument("data")
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--modes", default="0,a0.05,a0.1,z0.1,z0.2")
    ap.add_argument("--levels", default="4")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = load(args.model)
    (deadzone if args.what == "deadzone" else refine)(m, args)


if __name__ == "__main__":
    main()
