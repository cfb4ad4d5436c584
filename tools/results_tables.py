#!/usr/bin/env python3
"""Print the Kodak tables of doc/results.md from an lvcrd output folder.

    python3 tools/results_tables.py doc/rd_kodak [--default elic]

lvcrd writes summary.md (the BD-rate table and every curve's points); this
reformats the parts doc/results.md shows: the BD-rate table (lvc curves
first, as lvcrd lists them, then the measured codecs by BD-rate vs VTM,
then the published anchors) and the point table of every lvc model. Only the standard library is
used; nothing is computed here that lvcrd did not write.
"""
import argparse
import os
import sys


def read_tables(path):
    """summary.md -> (main table rows as dicts, {curve heading: point rows})."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    main, points, heading, header = [], {}, None, None
    for line in lines:
        if line.startswith("### "):
            heading, header = line[4:].strip(), None
            continue
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        row = dict(zip(header, cells))
        if heading is None:
            main.append(row)
        else:
            points.setdefault(heading, []).append(row)
    return main, points


def pct(s):
    """'+127.2%' -> 127.2 (for sorting); anything else sorts last."""
    try:
        return float(s.replace("%", "").replace("+", ""))
    except ValueError:
        return float("inf")


def minus(s):
    return s.replace("-", "\u2212") if s.startswith("-") else s


def label(name):
    if name.endswith("(anchor)"):
        base = name[: -len("(anchor)")].strip()
        base = {"BPG 8b 444 x265 ycbcr": "BPG 4:4:4"}.get(base, base)
        return f"{base} (published anchor)"
    if name.startswith("lvc "):
        return name
    return f"{name} (measured)" if "(" not in name else name.replace(")", ", measured)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="lvcrd output folder (holds summary.md)")
    ap.add_argument("--default", default="elic", help="model marked (default)")
    a = ap.parse_args()
    path = os.path.join(a.folder, "summary.md")
    if not os.path.isfile(path):
        sys.exit(f"results_tables: {path}: no such file")
    main_rows, points = read_tables(path)
    if not main_rows:
        sys.exit(f"results_tables: {path}: no BD-rate table")
    keys = list(main_rows[0])

    def col(prefix):
        for k in keys:
            if k.startswith(prefix):
                return k
        sys.exit(f"results_tables: {path}: no column '{prefix}...'")

    vtm_p, vtm_m = col("BD-rate PSNR vs VTM"), col("BD-rate MS-SSIM vs VTM")
    bpg_p, mbt_p = col("BD-rate PSNR vs BPG"), col("BD-rate PSNR vs mbt2018")
    lvc = [r for r in main_rows if r["curve"].startswith("lvc ")]
    anchors = [r for r in main_rows if r["curve"].endswith("(anchor)")
               and not r["curve"].startswith("VTM")]
    measured = [r for r in main_rows if r not in lvc and r not in anchors
                and not r["curve"].startswith("VTM")]
    print("| curve | bpp range | PSNR-RGB range (dB) | vs VTM (PSNR) | "
          "vs VTM (MS-SSIM) | vs BPG 4:4:4 (PSNR) | vs mbt2018-mean (PSNR) |")
    print("|---|---|---|---|---|---|---|")
    for group in (lvc, sorted(measured, key=lambda r: pct(r[vtm_p])), anchors):
        for r in group:
            cells = [label(r["curve"]), r["bpp range"], r["PSNR-RGB range (dB)"]]
            cells += [minus(r[k].replace("+0.0%", "0.0%"))
                      for k in (vtm_p, vtm_m, bpg_p, mbt_p)]
            print("| " + " | ".join(cells) + " |")
    for r in lvc:
        name = r["curve"][4:]
        rows = points.get(r["curve"])
        if not rows:
            continue
        print()
        print(f"**{name}**" + (" (default)" if name == a.default else ""))
        print()
        hdr = list(rows[0])
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
        for p in rows:
            print("| " + " | ".join(p[h] for h in hdr) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
