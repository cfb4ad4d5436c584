#!/usr/bin/python3
"""Where a run's quality is lost: PSNR of g_s(g_a(x)) without quantization
("noq") and with the latents rounded ("q") at the lowest, middle and
highest rate level, on the first 3 images of a folder (monitoring only).

  /usr/bin/python3 models/train/diag_unquantized.py models/train/runs/elic/ckpt.pt \
      ../shared/data/train/bsds500/test
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402

LEVELS = (0, 5, 9)


def psnr(a, b):
    return 10 * np.log10(1 / float(((a - b) ** 2).mean()))


def main():
    torch.set_num_threads(1)
    ck = torch.load(sys.argv[1])
    a = ck["args"]
    m = arch.build("elic", N=a.get("N", 128), M=a.get("M", 192), lambdas=a.get("lambdas_used"))
    m.load_state_dict(ck["model"])
    m.eval()
    d = sys.argv[2]
    gains = {lv: m.gains(torch.tensor([lv])) for lv in LEVELS}
    with torch.no_grad():
        for f in sorted(os.listdir(d))[:3]:
            im = Image.open(os.path.join(d, f)).convert("RGB")
            w, h = im.size
            im = im.crop((0, 0, w // 64 * 64, h // 64 * 64))
            x = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)[None].float() / 255
            y = m.g_a(x)  # the same for every level: the gains scale it afterwards
            out = []
            for lv in LEVELS:
                g, ig = gains[lv]
                for mode in ("noq", "q"):
                    yy = y * g[:, :, None, None]
                    if mode == "q":
                        yy = torch.floor(yy + 0.5)
                    xh = m.g_s(yy * ig[:, :, None, None]).clamp(0, 1)
                    out.append(f"L{lv}{mode} {psnr(xh, x):.2f}")
            print(f, " ".join(out), "gainmean",
                  [float(gains[lv][0].mean()) for lv in LEVELS])


if __name__ == "__main__":
    main()
