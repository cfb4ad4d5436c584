#!/usr/bin/python3
"""Print the training cost of every shipped model as a Markdown table
(doc/training.md): steps, images seen and CPU-hours recorded in each
.lvcm's metadata, plus the file size.

  /usr/bin/python3 models/train/summary.py models/weights
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lvcm  # noqa: E402


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else "models/weights"
    print("| model | N | M | steps | images seen | CPU-hours | file size |")
    print("|---|---|---|---|---|---|---|")
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".lvcm"):
            continue
        _, meta = lvcm.read(os.path.join(folder, f))
        size = os.path.getsize(os.path.join(folder, f)) / 1e6
        print(f"| {meta.get('arch', f[:-5])} | {meta.get('N')} | {meta.get('M')} | "
              f"{int(meta.get('train_steps', 0)):,} | {int(meta.get('train_images', 0)):,} | "
              f"{float(meta.get('train_cpu_hours', 0)):.2f} | {size:.1f} MB |")


if __name__ == "__main__":
    main()
