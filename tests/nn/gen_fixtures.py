#!/usr/bin/python3
"""Generate the PyTorch parity fixtures of tests/nn (run with /usr/bin/python3,
which has Debian's torch and numpy):

    /usr/bin/python3 tests/nn/gen_fixtures.py tests/nn/fixtures

Each fixture is a small .lvcm file (models/train/lvcm.py) holding the input
"x", the parameters, the PyTorch output "y" and metadata "op" plus the
hyperparameters; test_parity.c rebuilds the op with nn/ and compares.
Inputs are seeded, so the files are reproducible on one machine (outputs may
differ in the last bits across torch builds; the C test compares within a
tolerance, except the integer ops, which are exact).
"""
import os
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models", "train"))
import lvcm  # noqa: E402

torch.manual_seed(1234)
torch.set_num_threads(1)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "fixtures")
os.makedirs(OUT, exist_ok=True)


def f32(t):
    return t.detach().numpy().astype(np.float32)


def save(name, tensors, meta):
    lvcm.write(os.path.join(OUT, name + ".lvcm"), tensors, meta)


def rnd(*shape, scale=1.0):
    return torch.randn(*shape) * scale


def conv(name, cin, cout, k, h, w, stride=1, pad=(0, 0, 0, 0), dil=1, groups=1, mask=None,
         act="none"):
    """pad = (top, bottom, left, right); asymmetric padding via F.pad."""
    x = rnd(cin, h, w)
    wt = rnd(cout, cin // groups, k, k, scale=1.0 / np.sqrt(cin // groups * k * k))
    b = rnd(cout, scale=0.1)
    if mask is not None:
        wt = wt * torch.tensor(mask, dtype=torch.float32)
    xp = F.pad(x[None], (pad[2], pad[3], pad[0], pad[1]))
    y = F.conv2d(xp, wt, b, stride=stride, dilation=dil, groups=groups)[0]
    if act == "relu":
        y = F.relu(y)
    elif act == "leaky":
        y = F.leaky_relu(y, 0.125)
    t = {"x": f32(x), "w": f32(wt), "b": f32(b), "y": f32(y)}
    if mask is not None:
        t["mask"] = np.array(mask, np.uint8)
    save(name, t, {"op": "conv", "k": k, "stride": stride, "pad_t": pad[0], "pad_b": pad[1],
                   "pad_l": pad[2], "pad_r": pad[3], "dil": dil, "groups": groups, "act": act})


def convt(name, cin, cout, k, h, w, stride, pad, out_pad, dil=1, groups=1):
    x = rnd(cin, h, w)
    wt = rnd(cin, cout // groups, k, k, scale=1.0 / np.sqrt(cin * k * k / stride ** 2))
    b = rnd(cout, scale=0.1)
    y = F.conv_transpose2d(x[None], wt, b, stride=stride, padding=pad, output_padding=out_pad,
                           groups=groups, dilation=dil)[0]
    save(name, {"x": f32(x), "w": f32(wt), "b": f32(b), "y": f32(y)},
         {"op": "convt", "k": k, "stride": stride, "pad": pad, "out_pad": out_pad, "dil": dil,
          "groups": groups})


def gdn(name, c, h, w, kind):
    """CompressAI GDN: norm = conv1x1(x^2 (or |x|), gamma, beta);
    y = x * rsqrt(norm) (inverse: x * sqrt(norm); simplified: / and *)."""
    x = rnd(c, h, w)
    beta = 1.0 + torch.rand(c)
    gamma = 0.1 * torch.rand(c, c) + 0.05 * torch.eye(c)
    simple = kind in ("gdn_simple", "igdn_simple")
    sq = x.abs() if simple else x * x
    norm = F.conv2d(sq[None], gamma[:, :, None, None], beta)[0]
    if kind == "gdn":
        y = x * torch.rsqrt(norm)
    elif kind == "igdn":
        y = x * torch.sqrt(norm)
    elif kind == "gdn_simple":
        y = x / norm
    else:
        y = x * norm
    save(name, {"x": f32(x), "beta": f32(beta), "gamma": f32(gamma), "y": f32(y)},
         {"op": "gdn", "kind": kind})


def shuffle(name, c, h, w, r, inverse):
    x = rnd(c, h, w)
    y = F.pixel_unshuffle(x[None], r)[0] if inverse else F.pixel_shuffle(x[None], r)[0]
    save(name, {"x": f32(x), "y": f32(y)}, {"op": "unshuffle" if inverse else "shuffle", "r": r})


def upsample(name, c, h, w, r, mode):
    x = rnd(c, h, w)
    if mode == "bilinear":
        y = F.interpolate(x[None], scale_factor=r, mode="bilinear", align_corners=False)[0]
    else:
        y = F.interpolate(x[None], scale_factor=r, mode="nearest")[0]
    save(name, {"x": f32(x), "y": f32(y)}, {"op": "upsample", "r": r, "mode": mode})


def linear(name, rows, fin, fout, act):
    x = rnd(rows, fin)
    wt = rnd(fout, fin, scale=1.0 / np.sqrt(fin))
    b = rnd(fout, scale=0.1)
    y = F.linear(x, wt, b)
    y = {"none": y, "gelu": F.gelu(y), "relu": F.relu(y), "sigmoid": torch.sigmoid(y)}[act]
    save(name, {"x": f32(x), "w": f32(wt), "b": f32(b), "y": f32(y)},
         {"op": "linear", "act": act})


class ResidualUnit(torch.nn.Module):
    """CompressAI's AttentionBlock residual unit."""

    def __init__(self, n):
        super().__init__()
        self.conv = torch.nn.Sequential(
            torch.nn.Conv2d(n, n // 2, 1), torch.nn.ReLU(),
            torch.nn.Conv2d(n // 2, n // 2, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(n // 2, n, 1))

    def forward(self, x):
        return F.relu(self.conv(x) + x)


class AttentionBlock(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.conv_a = torch.nn.Sequential(ResidualUnit(n), ResidualUnit(n), ResidualUnit(n))
        self.conv_b = torch.nn.Sequential(ResidualUnit(n), ResidualUnit(n), ResidualUnit(n),
                                          torch.nn.Conv2d(n, n, 1))

    def forward(self, x):
        return x + self.conv_a(x) * torch.sigmoid(self.conv_b(x))


def attention(name, n, h, w):
    m = AttentionBlock(n)
    x = rnd(1, n, h, w)
    with torch.no_grad():
        y = m(x)
    t = {"x": f32(x[0]), "y": f32(y[0])}
    for k, v in m.state_dict().items():
        t[k] = f32(v)
    save(name, t, {"op": "attn", "n": n})


def qconv(name, cin, cout, k, h, w, stride, pad, groups, fw, fa_in, fa_out, act, wbits,
          mask=None):
    """The normative integer conv (doc/integer-nn.md), computed exactly with
    float64 convolutions of integers (all sums < 2^53)."""
    g = np.random.default_rng(zlib.crc32(name.encode()))
    x = g.integers(-3000, 3001, size=(cin, h, w)).astype(np.int16)
    lim = 127 if wbits == 8 else 2000
    wt = g.integers(-lim, lim + 1, size=(cout, cin // groups, k, k))
    if mask is not None:
        wt = wt * np.array(mask)[None, None]
    wt = wt.astype(np.int8 if wbits == 8 else np.int16)
    b = g.integers(-(1 << 20), 1 << 20, size=cout).astype(np.int32)
    acc = F.conv2d(torch.from_numpy(x.astype(np.float64))[None],
                   torch.from_numpy(wt.astype(np.float64)), None, stride=stride,
                   padding=pad, groups=groups)[0].numpy().astype(np.int64)
    acc += b.astype(np.int64)[:, None, None]
    s = fa_in + fw - fa_out
    yv = (acc + (1 << (s - 1))) >> s if s > 0 else acc
    yv = np.clip(yv, -32768, 32767)
    if act == "relu":
        yv = np.maximum(yv, 0)
    elif act == "leaky":
        yv = np.where(yv < 0, yv >> 3, yv)
    t = {"x": x, "w": wt, "b": b, "y": yv.astype(np.int16)}
    if mask is not None:
        t["mask"] = np.array(mask, np.uint8)
    save(name, t, {"op": "qconv", "k": k, "stride": stride, "pad": pad, "groups": groups,
                   "fw": fw, "fa_in": fa_in, "fa_out": fa_out, "act": act, "wbits": wbits})


def checkerboard(k, anchor_first=True):
    m = np.zeros((k, k), np.uint8)
    for i in range(k):
        for j in range(k):
            m[i, j] = (i + j) % 2 == 1
    return m


def pixelcnn_a(k):
    m = np.ones((k, k), np.uint8)
    m[k // 2, k // 2:] = 0
    m[k // 2 + 1:] = 0
    return m


conv("conv_k3s2", 5, 7, 3, 9, 11, stride=2, pad=(1, 1, 1, 1))
conv("conv_k5s2_relu", 3, 8, 5, 16, 13, stride=2, pad=(2, 2, 2, 2), act="relu")
conv("conv_group_dil", 6, 4, 3, 8, 7, pad=(2, 2, 2, 2), dil=2, groups=2)
conv("conv_depthwise", 6, 6, 5, 7, 9, pad=(2, 2, 2, 2), groups=6, act="leaky")
conv("conv_asym", 4, 5, 4, 6, 7, stride=2, pad=(1, 2, 2, 1))
conv("conv_1x1", 9, 5, 1, 5, 6)
conv("conv_1x1_img", 3, 4, 3, 1, 1, pad=(1, 1, 1, 1))
conv("conv_mask_a", 4, 6, 5, 7, 6, pad=(2, 2, 2, 2), mask=pixelcnn_a(5))
conv("conv_mask_cb", 4, 6, 5, 8, 8, pad=(2, 2, 2, 2), mask=checkerboard(5))
convt("convt_k5s2", 6, 4, 5, 5, 4, stride=2, pad=2, out_pad=1)
convt("convt_k4s2_g2", 4, 6, 4, 3, 5, stride=2, pad=1, out_pad=0, groups=2)
convt("convt_k3s2_d2", 3, 5, 3, 4, 4, stride=2, pad=1, out_pad=1, dil=2)
convt("convt_k3s3", 5, 3, 3, 3, 2, stride=3, pad=0, out_pad=2)
convt("convt_k2s4", 3, 2, 2, 3, 3, stride=4, pad=0, out_pad=1)
convt("convt_1x1", 2, 3, 3, 1, 1, stride=2, pad=1, out_pad=1)
for kind in ("gdn", "igdn", "gdn_simple", "igdn_simple"):
    gdn(kind, 6, 5, 7, kind)
shuffle("shuffle_r2", 12, 3, 5, 2, False)
shuffle("unshuffle_r3", 2, 6, 9, 3, True)
upsample("up_nearest_r2", 3, 4, 5, 2, "nearest")
upsample("up_bilinear_r2", 3, 4, 5, 2, "bilinear")
upsample("up_bilinear_r3", 2, 3, 1, 3, "bilinear")
linear("linear_gelu", 7, 5, 9, "gelu")
linear("linear_sigmoid", 3, 16, 4, "sigmoid")
attention("attn_n8", 8, 5, 6)
qconv("qconv_k3", 5, 7, 3, 6, 7, 1, 1, 1, fw=8, fa_in=0, fa_out=4, act="relu", wbits=8)
qconv("qconv_k5s2_i16", 4, 6, 5, 9, 8, 2, 2, 1, fw=12, fa_in=4, fa_out=2, act="leaky", wbits=16)
qconv("qconv_g2_sat", 4, 4, 3, 5, 5, 1, 1, 2, fw=2, fa_in=0, fa_out=0, act="none", wbits=16)
qconv("qconv_mask_cb", 3, 4, 5, 6, 6, 1, 2, 1, fw=7, fa_in=2, fa_out=3, act="relu", wbits=8,
      mask=checkerboard(5))
print("fixtures written to", OUT)
