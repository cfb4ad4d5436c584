#!/usr/bin/python3
"""Parity fixture: PyTorch outputs of a shipped model on a small generated
image, for tests/models (C forward pass vs PyTorch). Regenerate whenever the
weights change (export.py does it):

  /usr/bin/python3 models/train/gen_parity.py models/weights/meanscale.lvcm \
      tests/models/fixtures/meanscale_parity.lvcm

Float parts (g_a, h_a, g_s) are compared within a tolerance; the integer
hyper-synthesis is computed here in exact int64 arithmetic following
doc/integer-nn.md, so the C side must match it bit for bit.
"""
import hashlib
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402
import export  # noqa: E402
import lvcm  # noqa: E402

H, W = 64, 128


def test_image():
    """Deterministic smooth image with edges (no RNG dependence)."""
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    r = 0.5 + 0.4 * np.sin(xx / 7.0) * np.cos(yy / 11.0)
    g = 0.5 + 0.3 * np.cos((xx + yy) / 9.0)
    b = np.where((xx // 16 + yy // 16) % 2 == 0, 0.8, 0.2)
    img = np.stack([r, g, b])
    return (np.round(img * 255) / 255).astype(np.float32)


def qconv_int(x, w, b, fw, fa_in, fa_out, relu):
    """Exact integer conv 3x3, stride 1, zero padding 1 (doc/integer-nn.md)."""
    cin, h, wd = x.shape
    cout = w.shape[0]
    xp = np.zeros((cin, h + 2, wd + 2), np.int64)
    xp[:, 1:-1, 1:-1] = x
    cols = np.empty((cin, 3, 3, h, wd), np.int64)
    for ky in range(3):
        for kx in range(3):
            cols[:, ky, kx] = xp[:, ky:ky + h, kx:kx + wd]
    acc = np.tensordot(w.astype(np.int64), cols, axes=([1, 2, 3], [0, 1, 2]))
    acc += b.astype(np.int64)[:, None, None]
    s = fa_in + fw - fa_out
    y = (acc + (1 << (s - 1))) >> s if s > 0 else acc
    y = np.clip(y, -32768, 32767)
    if relu:
        y = np.maximum(y, 0)
    return y.astype(np.int64)


def pixel_shuffle_np(x, r):
    c, h, w = x.shape
    oc = c // (r * r)
    return x.reshape(oc, r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(oc, h * r, w * r)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    t, meta = lvcm.read(src)
    model = arch.build(meta["arch"], N=int(meta["N"]), M=int(meta["M"]),
                       lambdas=arch.parse_lambdas(meta.get("lambdas")))
    export.load_lvcm_into(model, src)
    model.eval()
    x = torch.from_numpy(test_image())[None]
    level = 0.5 * (len(model.lambdas) - 1)  # quality 50
    with torch.no_grad():
        y = model.g_a(x)[0].numpy()                       # without gain
        gain = np.exp(np.log(t["gain"]).astype(np.float64))
        # gains at quality 50 as the C side computes them (double, log-linear)
        lo = int(np.floor(level))
        lo = min(lo, len(model.lambdas) - 2)
        tt = level - lo
        g = np.exp((1 - tt) * np.log(t["gain"][lo].astype(np.float64)) +
                   tt * np.log(t["gain"][lo + 1].astype(np.float64))).astype(np.float32)
        del gain
        yg = torch.from_numpy(y * g[:, None, None])[None]
        has_hyper = hasattr(model, "h_a")
        if meta["arch"] == "hyperprior":
            yg = yg.abs()  # the scale hyperprior's h_a sees |y|
        z = model.h_a(yg)[0].numpy() if has_hyper else None
    out = {"x": test_image(), "y": y.astype(np.float32), "gain50": g}
    mean = 0.0
    if has_hyper:
        zhat = np.clip(np.floor(z + 0.5), -32768, 32767).astype(np.int64)
        # integer hyper-synthesis
        a = zhat
        for i in range(3):
            w = t[f"h_s.{i}.w"]
            a = qconv_int(a, w, t[f"h_s.{i}.b"], int(t[f"h_s.{i}.fw"][0]),
                          int(t[f"h_s.{i}.fa_in"][0]), int(t[f"h_s.{i}.fa_out"][0]), relu=i < 2)
            if i < 2:
                a = pixel_shuffle_np(a, 2)
        params = a
        out["zhat"] = zhat.astype(np.int32)
        out["params"] = params.astype(np.int32)
        if meta["arch"] == "meanscale":
            out_fa = int(meta["out_fa"])
            M = int(meta["M"])
            mean = params[M:].astype(np.float64) / (1 << out_fa)
    # a deterministic y_hat for the synthesis check: round(y - mean) + mean
    # (mean 0 where the means do not come from h_s alone)
    q = np.floor(y * g[:, None, None] - mean + 0.5)
    yhat = ((q + mean) / g[:, None, None]).astype(np.float32)
    with torch.no_grad():
        xhat = model.g_s(torch.from_numpy(yhat)[None])[0].numpy()
    out["yhat"] = yhat
    out["xhat"] = xhat.astype(np.float32)
    with open(src, "rb") as f:
        wh = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    lvcm.write(dst, out, {"weights_sha256": wh, "model": meta["arch"], "quality": "50"})
    print(f"wrote {dst}: {meta['arch']}, |xhat| mean {np.abs(xhat).mean():.3f}")


if __name__ == "__main__":
    main()
