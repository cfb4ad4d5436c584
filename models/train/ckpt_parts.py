#!/usr/bin/python3
"""Carry a training run's weight averages between machines in files of a
bounded size (a remote trainer may return only small files).

  ckpt_parts.py split RUN OUTDIR [--max-mib 13] [--ema 0.999 ...]
      writes OUTDIR/part-K.pt: the chosen moving averages of RUN/ckpt.pt
      (full precision), split by tensor, with the run's state and args
  ckpt_parts.py join OUTDIR RUN
      writes RUN/ckpt.pt from the parts: its weights are the first average,
      its averages all of them; there is no optimizer state, so train.py
      starts from it as a transfer (--init RUN/ckpt.pt --init-ema D), and
      export.py and evaluate.py read it with --run RUN --ema D.
"""
import argparse
import glob
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import load_checkpoint  # noqa: E402


def split(run, out, max_mib, decays):
    ck = load_checkpoint(os.path.join(run, "ckpt.pt"))
    write_parts(ck, out, max_mib, decays)


def write_parts(ck, out, max_mib, decays=None):
    """ck's averages (all, or those of decays) as OUT/part-K.pt. Each part
    is written elsewhere first, copied in as OUT/part.tmp and renamed, so a
    process killed meanwhile leaves every part whole (possibly parts of two
    saves: join names them; --allow-mixed-steps takes them anyway)."""
    avgs = ck.get("ema", {})
    keys = [repr(float(d)) for d in decays] if decays else sorted(avgs)
    missing = [k for k in keys if k not in avgs]
    if missing:
        raise SystemExit(f"checkpoint has no weight average of decay {', '.join(missing)} "
                         f"(it has: {', '.join(sorted(avgs)) or 'none'})")
    os.makedirs(out, exist_ok=True)
    limit = max_mib * 2 ** 20
    parts, cur, size = [], {}, 0
    for key in keys:
        for name, t in avgs[key].items():
            n = t.numel() * t.element_size()
            if cur and size + n > limit:
                parts.append(cur)
                cur, size = {}, 0
            cur.setdefault(key, {})[name] = t.contiguous()
            size += n
    if cur:
        parts.append(cur)
    with tempfile.TemporaryDirectory() as tmp:
        for i, p in enumerate(parts):
            t = os.path.join(tmp, "part.pt")
            torch.save({"ema": p, "state": ck["state"], "args": ck.get("args", {}),
                        "part": i, "parts": len(parts), "decays": keys}, t)
            shutil.copyfile(t, os.path.join(out, "part.tmp"))
            os.replace(os.path.join(out, "part.tmp"), os.path.join(out, f"part-{i}.pt"))
    print(f"{len(parts)} parts of at most {max_mib} MiB in {out} (averages {', '.join(keys)}, "
          f"step {ck['state']['step']})")


def join(src, run, allow_mixed=False):
    files = sorted(glob.glob(os.path.join(src, "part-*.pt")))
    if not files:
        raise SystemExit(f"{src}: no part-*.pt")
    parts = [load_checkpoint(f) for f in files]
    n = parts[0]["parts"]
    if sorted(p["part"] for p in parts) != list(range(n)):
        raise SystemExit(f"{src}: have parts {sorted(p['part'] for p in parts)} of {n}")
    steps = {p["state"]["step"] for p in parts}
    if len(steps) != 1:
        if not allow_mixed:
            raise SystemExit(f"{src}: parts of different steps {sorted(steps)} "
                             "(--allow-mixed-steps takes them anyway)")
        print(f"warning: parts of steps {sorted(steps)}; the state is the newest's")
        parts.sort(key=lambda p: -p["state"]["step"])
    ema = {}
    for p in parts:
        for key, d in p["ema"].items():
            ema.setdefault(key, {}).update(d)
    keys = parts[0]["decays"]
    sizes = {len(ema[k]) for k in keys}
    if len(sizes) != 1:
        raise SystemExit(f"{src}: averages of unequal size {sizes}")
    os.makedirs(run, exist_ok=True)
    ck = {"model": dict(ema[keys[0]]), "ema": ema, "state": parts[0]["state"],
          "args": parts[0]["args"]}
    tmp = os.path.join(run, "ckpt.pt.tmp")
    torch.save(ck, tmp)
    os.replace(tmp, os.path.join(run, "ckpt.pt"))
    print(f"{run}/ckpt.pt: step {ck['state']['step']}, averages {', '.join(keys)}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("split")
    s.add_argument("run")
    s.add_argument("out")
    s.add_argument("--max-mib", type=float, default=13.0)
    s.add_argument("--ema", type=float, action="append", default=[])
    j = sub.add_parser("join")
    j.add_argument("src")
    j.add_argument("run")
    j.add_argument("--allow-mixed-steps", action="store_true",
                   help="join parts written by different saves (a run stopped mid-save)")
    a = ap.parse_args()
    if a.cmd == "split":
        split(a.run, a.out, a.max_mib, a.ema)
    else:
        join(a.src, a.run, a.allow_mixed_steps)


if __name__ == "__main__":
    main()
