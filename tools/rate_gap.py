#!/usr/bin/env python3
"""Where on the curve a codec loses: at each point of a curve, the rate it
needs against the rate each reference needs for the same quality.

    python3 tools/rate_gap.py doc/rd_kodak/lvc-elic.json \
        ../shared/anchors/kodak/vtm.json ../shared/anchors/kodak/bpg_444_x265_ycbcr.json

Curves are CompressAI-style JSON (results: bpp, psnr-rgb or ms-ssim-rgb),
as lvcrd writes them and as the anchors are stored. A reference's rate at
a quality is interpolated linearly in log(bpp) between its two nearest
points (no extrapolation: "--" outside its range). The BD-rate (lvcrd)
averages these ratios over the common range; this shows how they vary
along it. Only the standard library is used.
"""
import argparse
import json
import math
import os
import sys


def curve(path, metric):
    with open(path, encoding="utf-8") as f:
        res = json.load(f)["results"]
    keys = [metric, "psnr"] if metric == "psnr-rgb" else [metric]
    for k in keys:
        if k in res:
            pts = sorted(zip(res[k], res["bpp"]))
            return [(float(q), float(b)) for q, b in pts]
    raise KeyError(f"{path}: no '{metric}' in results")


def rate_at(pts, q):
    """log-linear interpolation of the rate at quality q, None outside."""
    for (q0, b0), (q1, b1) in zip(pts, pts[1:]):
        if q0 <= q <= q1 and q1 > q0 and b0 > 0 and b1 > 0:
            t = (q - q0) / (q1 - q0)
            return math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0)))
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("curve", help="the curve to examine")
    ap.add_argument("refs", nargs="+", help="reference curves")
    ap.add_argument("--metric", default="psnr-rgb", choices=("psnr-rgb", "ms-ssim-rgb"))
    args = ap.parse_args()
    try:
        mine = curve(args.curve, args.metric)
        refs = [(os.path.splitext(os.path.basename(p))[0], curve(p, args.metric))
                for p in args.refs]
    except (OSError, ValueError, KeyError) as e:
        print(f"rate_gap: {e}", file=sys.stderr)
        return 1
    unit = "dB" if args.metric == "psnr-rgb" else ""
    print("| bpp | " + args.metric + " | " + " | ".join(n for n, _ in refs) + " |")
    print("|---|---|" + "---|" * len(refs))
    for q, b in mine:
        cells = []
        for _, pts in refs:
            r = rate_at(pts, q)
            cells.append("--" if r is None else f"{100 * (b / r - 1):+.0f}%")
        print(f"| {b:.4f} | {q:.{2 if unit else 4}f}{(' ' + unit) if unit else ''} | "
              + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
