#!/usr/bin/env python3
"""Greedy rate-distortion ladder for the splat coder's precisions.

Starting from fine precisions, each step lowers by one bit the precision
(position, rotation, scale, opacity, colour, SH) that saves the most bytes
per unit of added render MSE, summed over the given scenes. Every point is
a real stream: lvcenc writes it, lvcdec decodes it and renders it against
the original (lvcdec --ref: 8 orbit views of 256x256). The ladder it prints
is what codec/splat.c's quality mapping was fitted to (doc/splats.md).

usage: tools/splat_tune.py BUILD_DIR SCENE... [--start 18,12,9,8,10,9] [--min-psnr 28]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

NAMES = ["position", "rotation", "scale", "opacity", "color", "sh"]
LOWEST = [6, 2, 1, 1, 1, 1]


def point(build, scene, bits, tmp):
    stream = os.path.join(tmp, "s.lvc")
    args = [os.path.join(build, "apps", "lvcenc"), scene, "-o", stream, "-f", "--quiet"]
    for name, b in zip(NAMES, bits):
        args += ["--%s-bits" % name, str(b)]
    subprocess.run(args, check=True)
    out = subprocess.run([os.path.join(build, "apps", "lvcdec"), stream, "--ref", scene,
                          "--json"], check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    mse = 255.0 ** 2 / 10 ** (r["render_psnr"] / 10)
    return r["bytes"], mse, r["render_psnr"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("scenes", nargs="+")
    ap.add_argument("--start", default="18,12,9,8,10,9")
    ap.add_argument("--min-psnr", type=float, default=28.0)
    a = ap.parse_args()
    bits = [int(x) for x in a.start.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        def evaluate(b):
            res = [point(a.build, s, b, tmp) for s in a.scenes]
            return (sum(r[0] for r in res), sum(r[1] for r in res) / len(res),
                    [r[2] for r in res])
        size, mse, psnrs = evaluate(bits)
        print("bits,bytes,mean_mse," + ",".join("psnr_%s" % os.path.basename(s)
                                                for s in a.scenes))
        print("%s,%d,%.4f,%s" % ("/".join(map(str, bits)), size, mse,
                                 ",".join("%.2f" % p for p in psnrs)), flush=True)
        while min(psnrs) > a.min_psnr:
            best = None
            for k in range(6):
                if bits[k] <= LOWEST[k]:
                    continue
                trial = list(bits)
                trial[k] -= 1
                s2, m2, p2 = evaluate(trial)
                saved = size - s2
                cost = max(m2 - mse, 1e-9)
                score = saved / cost
                if best is None or score > best[0]:
                    best = (score, trial, s2, m2, p2)
            if best is None:
                break
            _, bits, size, mse, psnrs = best
            print("%s,%d,%.4f,%s" % ("/".join(map(str, bits)), size, mse,
                                     ",".join("%.2f" % p for p in psnrs)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
