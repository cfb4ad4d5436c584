#!/usr/bin/python3
"""BD-rate against training CPU-hours, as an SVG.

    tools/progress_svg.py doc/rd_progress.csv doc/rd_progress.svg

The CSV has a header and rows `model,step,cpu_hours,bd_vtm_psnr[,note]`:
one row per shipped version of a model, its Kodak BD-rate (PSNR, percent,
against VTM) as lvcrd measured it from real bitstreams. A BD-rate that could
not be computed (no PSNR overlap with VTM) is `n/a`: the row is drawn as a
hollow marker above the plot area. Reference lines: the published BD-rates
of BPG 4:4:4 (+22.0 %) and mbt2018-mean (+21.3 %) against VTM, and 0 %.
No plotting library is needed (none is in the training environment).
"""
import csv
import math
import sys

REFS = [("BPG 4:4:4", 22.0), ("VTM", 0.0)]
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: progress_svg.py IN.csv OUT.svg")
    rows = []
    with open(sys.argv[1], newline="") as f:
        for r in csv.DictReader(f):
            bd = r["bd_vtm_psnr"].strip()
            rows.append((r["model"], int(r["step"]), float(r["cpu_hours"]),
                         None if bd in ("", "n/a") else float(bd)))
    if not rows:
        sys.exit("progress_svg.py: no rows")
    W, H, L, R, T, B = 640, 400, 70, 150, 30, 50
    xmax = max(r[2] for r in rows) * 1.15 or 1.0
    vals = [r[3] for r in rows if r[3] is not None] + [v for _, v in REFS]
    # log scale of (100 + BD-rate): the rate ratio against VTM
    ymin = math.log10(max(1.0, 100 + min(vals)) * 0.8)
    ymax = math.log10((100 + max(vals)) * 1.6)

    def px(x):
        return L + (W - L - R) * x / xmax

    def py(v):
        return T + (H - T - B) * (ymax - math.log10(100 + v)) / (ymax - ymin)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>',
           f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">'
           f'training CPU-hours (2-core machine)</text>',
           f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" '
           f'transform="rotate(-90 16 {(T + H - B) / 2})">BD-rate vs VTM, Kodak, PSNR</text>']
    step = 0.5 if xmax <= 5 else (1 if xmax <= 10 else 5)
    x = 0.0
    while x <= xmax + 1e-9:
        out.append(f'<line x1="{px(x):.1f}" y1="{H - B}" x2="{px(x):.1f}" y2="{H - B + 5}" '
                   f'stroke="black"/><text x="{px(x):.1f}" y="{H - B + 18}" '
                   f'text-anchor="middle">{x:g}</text>')
        x += step
    for v in (-20, 0, 50, 100, 200, 500, 1000, 2000, 5000):
        if ymin <= math.log10(100 + v) <= ymax:
            out.append(f'<line x1="{L - 5}" y1="{py(v):.1f}" x2="{W - R}" y2="{py(v):.1f}" '
                       f'stroke="#ddd"/><text x="{L - 8}" y="{py(v) + 4:.1f}" '
                       f'text-anchor="end">{v:+d}%</text>')
    for name, v in REFS:
        out.append(f'<line x1="{L}" y1="{py(v):.1f}" x2="{W - R}" y2="{py(v):.1f}" '
                   f'stroke="#888" stroke-dasharray="4 3"/><text x="{W - R + 4}" '
                   f'y="{py(v) + 4:.1f}" fill="#555">{name} {v:+.1f}%</text>')
    models = sorted({r[0] for r in rows}, key=lambda m: [r[0] for r in rows].index(m))
    for i, m in enumerate(models):
        c = COLORS[i % len(COLORS)]
        pts = sorted((r for r in rows if r[0] == m), key=lambda r: r[2])
        line = [(px(r[2]), py(r[3])) for r in pts if r[3] is not None]
        if len(line) > 1:
            out.append('<polyline fill="none" stroke="%s" points="%s"/>' %
                       (c, " ".join(f"{a:.1f},{b:.1f}" for a, b in line)))
        for r in pts:
            if r[3] is None:
                out.append(f'<circle cx="{px(r[2]):.1f}" cy="{T + 6}" r="4" fill="white" '
                           f'stroke="{c}"/>')
            else:
                out.append(f'<circle cx="{px(r[2]):.1f}" cy="{py(r[3]):.1f}" r="4" fill="{c}"/>'
                           f'<text x="{px(r[2]) + 6:.1f}" y="{py(r[3]) - 6:.1f}" fill="{c}">'
                           f'{r[3]:+.0f}%</text>')
        out.append(f'<text x="{W - R + 4}" y="{T + 14 + 16 * i}" fill="{c}">{m}</text>')
    out.append(f'<text x="{W - R + 4}" y="{T + 14 + 16 * len(models)}" fill="#555">'
               f'hollow: no overlap</text></svg>')
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
