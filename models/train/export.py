#!/usr/bin/python3
"""Export a trained lvc model to a .lvcm file (doc/model-file.md), and read
one back into a PyTorch model to resume training.

  /usr/bin/python3 models/train/export.py --run models/train/runs/meanscale \
      --out models/weights/meanscale.lvcm

Float transforms (g_a, g_s, h_a): conv weights in fp16 (with
--float-weights int8: int8 with per-output-channel scales, NAME.qscale,
doc/model-file.md; it costs up to 1 dB on a trained model), biases in
fp16, GDN with its effective (reparametrized) beta/gamma in fp16. The
integer hyper-synthesis is stored as int16 weights, int32 biases and its
fixed-point exponents (doc/integer-nn.md). The factorized prior of z is
stored as integer CDF tables (the escape symbol last), so no float is
involved in the decoder's probabilities.
"""
import argparse
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402
import lvcm  # noqa: E402
from lvclayers import GDN, QConv2d, weight_frac_bits  # noqa: E402

Z_PREC = 16
Z_TAIL = 1e-9
Z_RANGE = 256


def quantize_pmf(pmf, tail, prec):
    """Integer frequencies (sum 2^prec) for pmf + one escape symbol holding
    the tail mass; every symbol at least 1. Deterministic."""
    total = 1 << prec
    p = np.concatenate([pmf, [tail]])
    freq = np.maximum(1, np.round(p / p.sum() * total)).astype(np.int64)
    diff = total - int(freq.sum())
    # give/take the difference from the largest entries, never below 1
    order = np.argsort(-freq, kind="stable")
    i = 0
    while diff != 0:
        j = order[i % len(order)]
        step = 1 if diff > 0 else -1
        if freq[j] + step >= 1:
            freq[j] += step
            diff -= step
        i += 1
    cdf = np.concatenate([[0], np.cumsum(freq)])
    assert cdf[-1] == total and np.all(np.diff(cdf) >= 1)
    return cdf.astype(np.int32)


def z_tables(density, prec=Z_PREC):
    pmf = density.pmf_table(-Z_RANGE, Z_RANGE).numpy()  # (N, 2R+1)
    n = pmf.shape[0]
    cdfs, nsym, offs = [], [], []
    for c in range(n):
        p = pmf[c] / max(pmf[c].sum(), 1e-30)
        cum = np.cumsum(p)
        lo = int(np.searchsorted(cum, Z_TAIL / 2))
        hi = int(np.searchsorted(cum, 1 - Z_TAIL / 2))
        lo, hi = max(0, min(lo, hi)), min(len(p) - 1, max(lo, hi))
        core = p[lo:hi + 1]
        tail = max(1.0 - core.sum(), 1e-12)
        cdf = quantize_pmf(core, tail, prec)
        cdfs.append(cdf)
        nsym.append(len(cdf) - 1)
        offs.append(lo - Z_RANGE)
    K = max(len(c) for c in cdfs)
    table = np.zeros((n, K), dtype=np.int32)
    for c, cdf in enumerate(cdfs):
        table[c, :len(cdf)] = cdf
        table[c, len(cdf):] = cdf[-1]
    return table, np.array(nsym, np.int32), np.array(offs, np.int32)


def qconv_modules(model):
    """(file name, module) of every integer conv: a sub-pixel layer's inner
    conv is stored under the layer's name ("h_s.0", not "h_s.0.q")."""
    out = []
    for name, mod in model.named_modules():
        if isinstance(mod, QConv2d):
            mod.state_prefix = name + "."
            out.append((name[:-2] if name.endswith(".q") else name, mod))
    return out


def qconv_tensors(prefix, q, out):
    w = q.conv.weight.detach()
    if q.mask is not None:
        w = w * q.mask
    fw = weight_frac_bits(w)
    wi = torch.clamp(torch.round(w * (1 << fw)), -32767, 32767).to(torch.int16)
    bi = torch.round(q.conv.bias.detach().double() * (1 << (fw + q.fa_in))).to(torch.int64)
    bi = torch.clamp(bi, -(2 ** 31), 2 ** 31 - 1).to(torch.int32)
    out[prefix + ".w"] = wi.numpy()
    out[prefix + ".b"] = bi.numpy()
    out[prefix + ".fw"] = np.array([fw], np.int32)
    out[prefix + ".fa_in"] = np.array([q.fa_in], np.int32)
    out[prefix + ".fa_out"] = np.array([q.fa_out], np.int32)


def quantize_int8(w):
    """Per-output-channel symmetric int8: (q, qscale) with
    w ~ q * qscale[o], qscale[o] = max|w[o]| / 127 (float32)."""
    w = np.asarray(w, np.float32)
    m = np.abs(w.reshape(w.shape[0], -1)).max(axis=1).astype(np.float32)
    scale = np.where(m > 0, m / np.float32(127), np.float32(1)).astype(np.float32)
    q = np.clip(np.round(w / scale.reshape((-1,) + (1,) * (w.ndim - 1))), -127, 127)
    return q.astype(np.int8), scale


def share_trunk(t, meta, trunk_path):
    """Leave out of t the trunk tensors (lvcm.is_trunk_name) that the file at
    trunk_path holds byte for byte, and name it in meta (doc/model-file.md,
    "Shared trunk"). A trunk tensor that differs is an error: the model was
    not fitted to that trunk."""
    tt, tm = lvcm.read(trunk_path, resolve_trunk=False)
    if tm.get("trunk_sha256"):
        raise ValueError(f"{trunk_path} shares a trunk itself")
    if (tm.get("N"), tm.get("M")) != (meta["N"], meta["M"]):
        raise ValueError(f"{trunk_path}: other widths")
    for k in [k for k in t if lvcm.is_trunk_name(k)]:
        v = tt.get(k)
        if v is None or v.dtype != t[k].dtype or v.shape != t[k].shape or \
                v.tobytes() != np.asarray(t[k]).tobytes():
            raise ValueError(f"{k} differs from {trunk_path}'s: not fitted to that trunk")
        del t[k]
    meta["trunk_sha256"] = lvcm.file_hash(trunk_path)
    meta["trunk"] = os.path.basename(trunk_path)[:-5]


def export(model, state, path, float_weights="fp16", trunk=None):
    model.eval()
    t = {}
    sd = model.state_dict()
    for name, mod in model.named_modules():
        if isinstance(mod, GDN):
            beta, gamma = mod.effective()
            t[name + ".beta"] = beta.detach().numpy().astype(np.float16)
            t[name + ".gamma"] = gamma.detach().numpy().astype(np.float16)
    for k, v in sd.items():
        if k.startswith(("g_a.", "g_s.", "h_a.")) and k.endswith((".weight", ".bias")):
            if float_weights == "int8" and k.endswith(".weight") and v.dim() == 4:
                t[k], t[k + ".qscale"] = quantize_int8(v.numpy())
            else:
                t[k] = v.numpy().astype(np.float16)
    for name, q in qconv_modules(model):
        qconv_tensors(name, q, t)
    t["gain"] = model.log_gain.detach().exp().numpy().astype(np.float32)
    t["inv_gain"] = model.log_inv_gain.detach().exp().numpy().astype(np.float32)
    for name in ("z", "y"):
        density = getattr(model, name + "_density", None)
        if density is None:
            continue
        cdf, nsym, off = z_tables(density)
        t[name + "_cdf"], t[name + "_nsym"], t[name + "_offset"] = cdf, nsym, off
        t[name + "_prec"] = np.array([Z_PREC], np.int32)
    # training-only parameters (ignored by the C side, used to resume)
    for k, v in sd.items():
        if k.startswith(("z_density.", "y_density.")):
            t["train." + k] = v.numpy().astype(np.float32)
    meta = {
        "arch": model.arch,
        "N": str(model.N),
        "M": str(model.M),
        "out_fa": str(arch.OUT_FA),
        "hs_fa": str(arch.HS_FA),
        "lambdas": ",".join(f"{l:g}" for l in model.lambdas),
        "train_steps": str(state.get("step", 0)),
        "train_images": str(state.get("images", 0)),
        "train_cpu_hours": f"{state.get('cpu_s', 0.0) / 3600.0:.3f}",
    }
    if state.get("gpu_s"):
        meta["train_gpu_hours"] = f"{state['gpu_s'] / 3600.0:.4f}"
    if hasattr(model, "slices"):
        meta["slices"] = ",".join(str(k) for k in model.slices)
    if state.get("base"):
        meta["train_init"] = state["base"]
    if state.get("weights"):
        meta["train_weights"] = state["weights"]
    if trunk:
        share_trunk(t, meta, trunk)
    tmp = path + ".tmp"
    lvcm.write(tmp, t, meta)
    os.replace(tmp, path)


def read_train_state(path):
    _, meta = lvcm.read(path)
    return {"step": int(meta.get("train_steps", 0)), "images": int(meta.get("train_images", 0)),
            "cpu_s": float(meta.get("train_cpu_hours", 0.0)) * 3600.0, "wall_s": 0.0,
            "gpu_s": float(meta.get("train_gpu_hours", 0.0)) * 3600.0}


def load_lvcm_into(model, path, lambdas=None):
    """Initialise a PyTorch model from a shipped .lvcm (inverse of export).
    lambdas: the file's rate levels when the model has others (the gains are
    then adapted, arch.adapt_gains)."""
    t, meta = lvcm.read(path)
    sd = model.state_dict()
    new = {}
    for k in sd:
        if k in t and t[k].dtype == np.int8:
            scale = t[k + ".qscale"].astype(np.float32)
            w = t[k].astype(np.float32) * scale.reshape((-1,) + (1,) * (t[k].ndim - 1))
            new[k] = torch.from_numpy(w.astype(np.float32))
        elif k in t:
            new[k] = torch.from_numpy(np.asarray(t[k], np.float32))
        elif "train." + k in t:
            new[k] = torch.from_numpy(np.asarray(t["train." + k], np.float32))
    for name, mod in model.named_modules():
        if isinstance(mod, GDN):
            beta = torch.from_numpy(np.asarray(t[name + ".beta"], np.float32))
            gamma = torch.from_numpy(np.asarray(t[name + ".gamma"], np.float32))
            new[name + ".beta"] = torch.sqrt(torch.clamp(beta + mod.pedestal, min=0))
            new[name + ".gamma"] = torch.sqrt(torch.clamp(gamma + mod.pedestal, min=0))
    for name, q in qconv_modules(model):
        fw = int(t[f"{name}.fw"][0])
        pre = q.state_prefix + "conv."
        new[pre + "weight"] = torch.from_numpy(t[f"{name}.w"].astype(np.float32) / (1 << fw))
        new[pre + "bias"] = torch.from_numpy(t[f"{name}.b"].astype(np.float64) /
                                             (1 << (fw + q.fa_in))).float()
    new["log_gain"] = torch.from_numpy(np.log(t["gain"].astype(np.float32)))
    new["log_inv_gain"] = torch.from_numpy(np.log(t["inv_gain"].astype(np.float32)))
    file_lambdas = arch.parse_lambdas(meta.get("lambdas")) or lambdas or model.lambdas
    arch.adapt_gains(new, file_lambdas, model.lambdas)
    missing = [k for k in sd if k not in new and not k.endswith("mask")]
    if missing:
        raise ValueError(f"{path}: missing tensors {missing[:5]}")
    model.load_state_dict(new, strict=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, help="training run folder (ckpt.pt)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--add-base", default=None,
                    help="checkpoint the run was transferred from, when its cost is not yet "
                         "in the run's state (runs started before transfers carried it)")
    ap.add_argument("--float-weights", choices=("int8", "fp16"), default="fp16",
                    help="storage of the float layers' conv weights (doc/model-file.md: "
                         "int8 costs up to 1 dB on a trained model)")
    ap.add_argument("--trunk", default=None,
                    help="a shipped .lvcm whose g_a, g_s and gains this model shares: they "
                         "are left out and the file names the trunk by its hash")
    ap.add_argument("--ema", type=float, default=None,
                    help="export the run's weight moving average of this decay "
                         "(train.py --ema) instead of its weights")
    args = ap.parse_args()
    from train import load_checkpoint
    ck = load_checkpoint(os.path.join(args.run, "ckpt.pt"))
    if args.add_base:
        base = load_checkpoint(args.add_base)
        for k in ("step", "images", "cpu_s"):
            ck["state"][k] = ck["state"].get(k, 0) + base["state"].get(k, 0)
        ck["state"]["base"] = f"{base.get('args', {}).get('arch', '?')} at step {base['state']['step']}"
    a = ck.get("args", {})
    model = arch.build(a.get("arch", "meanscale"), N=a.get("N", 128), M=a.get("M", 192),
                       lambdas=a.get("lambdas_used"))
    model.load_state_dict(arch.checkpoint_weights(ck, args.ema))
    if args.ema is not None:
        ck["state"]["weights"] = f"moving average of the weights, decay {args.ema}"
    export(model, ck["state"], args.out, args.float_weights, args.trunk)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) at step {ck['state']['step']}")


if __name__ == "__main__":
    main()
