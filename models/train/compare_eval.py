#!/usr/bin/python3
"""BD-rate between evaluate.py outputs (monitoring only: the curves are
entropy ESTIMATES over the rate levels, not bitstreams). The first file is
the reference; for each other file prints its BD-rate against it (PSNR,
cubic fit of log rate over the common PSNR range) and the lowest, middle
(level 6) and top levels.

  /usr/bin/python3 models/train/evaluate.py --run A ... > a.txt
  /usr/bin/python3 models/train/evaluate.py --run B ... --ema 0.999 > b.txt
  /usr/bin/python3 models/train/compare_eval.py a.txt b.txt
"""
import re
import sys

import numpy as np

LEVEL = re.compile(r"level (\d+) lambda [\d.]+: ([\d.]+) bpp\s+([\d.]+) dB")


def load(path):
    rate, psnr = [], []
    with open(path) as f:
        for line in f:
            m = LEVEL.search(line)
            if m:
                rate.append(float(m.group(2)))
                psnr.append(float(m.group(3)))
    if len(rate) < 4:
        sys.exit(f"compare_eval.py: {path}: fewer than 4 levels (not evaluate.py output?)")
    return np.array(rate), np.array(psnr)


def bd_rate(r1, p1, r2, p2):
    """Average rate difference of curve 2 against curve 1, in percent."""
    c1 = np.polyint(np.polyfit(p1, np.log(r1), 3))
    c2 = np.polyint(np.polyfit(p2, np.log(r2), 3))
    lo, hi = max(p1.min(), p2.min()), min(p1.max(), p2.max())
    a1 = np.polyval(c1, hi) - np.polyval(c1, lo)
    a2 = np.polyval(c2, hi) - np.polyval(c2, lo)
    return (np.exp((a2 - a1) / (hi - lo)) - 1) * 100


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    r0, p0 = load(sys.argv[1])
    for path in sys.argv[2:]:
        r, p = load(path)
        mid = min(6, len(r) - 1)
        print(f"{path}: BD-rate {bd_rate(r0, p0, r, p):+.2f}% vs {sys.argv[1]}; "
              f"lowest {r[0]:.3f}/{p[0]:.2f}, level {mid} {r[mid]:.3f}/{p[mid]:.2f}, "
              f"top {r[-1]:.3f}/{p[-1]:.2f} (bpp/dB)")


if __name__ == "__main__":
    main()
