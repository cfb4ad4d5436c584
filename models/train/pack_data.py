#!/usr/bin/python3
"""Pack training images for a trainer on another machine: each image is
downscaled exactly as train.py loads it (box filter by --downscale) and
written as a JPEG of quality --quality without chroma subsampling, so the
set travels at about a third of the source size. train.py reads the packed
folders with --downscale 1.

  /usr/bin/python3 models/train/pack_data.py --out .gpudata \\
      --data ../shared/data/train/imagenet_sample --data ../shared/data/train/bsds500/train

Each --data folder becomes OUT/<its name>; the report gives the count, the
bytes and the PSNR of the packed images against the downscaled ones.
"""
import argparse
import io
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import load_images  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, action="append", help="image folder (repeatable)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--downscale", type=int, default=2)
    ap.add_argument("--quality", type=int, default=95)
    args = ap.parse_args()
    if not 1 <= args.quality <= 100:
        ap.error("--quality: want 1..100")
    total_bytes, total_n, se, npx = 0, 0, 0.0, 0
    for d in args.data:
        name = os.path.basename(os.path.normpath(d))
        parent = os.path.basename(os.path.dirname(os.path.normpath(d)))
        dst = os.path.join(args.out, f"{parent}_{name}" if parent else name)
        os.makedirs(dst, exist_ok=True)
        imgs, _ = load_images(d, downscale=args.downscale)
        for i, t in enumerate(imgs):
            a = t.permute(1, 2, 0).numpy()
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, format="JPEG", quality=args.quality, subsampling=0)
            data = buf.getvalue()
            back = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float64)
            se += float(((back - a) ** 2).sum())
            npx += a.size
            with open(os.path.join(dst, f"{i:05d}.jpg"), "wb") as f:
                f.write(data)
            total_bytes += len(data)
        total_n += len(imgs)
        print(f"{d}: {len(imgs)} images -> {dst}", flush=True)
    psnr = 10 * np.log10(255.0 ** 2 / max(se / max(npx, 1), 1e-12))
    print(f"{total_n} images, {total_bytes / 1e6:.1f} MB, PSNR of the packing {psnr:.2f} dB")


if __name__ == "__main__":
    main()
