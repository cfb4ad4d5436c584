#!/usr/bin/python3
"""Tiny randomly initialised models of every architecture, for the C tests
of the coding paths (tests/models/fixtures/tiny_<arch>.lvcm). Not trained:
they exercise the code, not the compression.

  /usr/bin/python3 models/train/gen_test_models.py tests/models/fixtures
  /usr/bin/python3 models/train/gen_test_models.py --shared tests/models/fixtures
      (only tiny_meanscale_shared.lvcm, from the tiny_meanscale.lvcm there)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402
import export  # noqa: E402
import lvcm  # noqa: E402


def main():
    if sys.argv[1] == "--shared":
        d = sys.argv[2]
        shared_from(os.path.join(d, "tiny_meanscale.lvcm"), os.path.join(d, "tiny_meanscale_shared.lvcm"))
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in sorted(arch.ARCHS):
        torch.manual_seed(7)
        arch.ElicVR.EP_HIDDEN = 16
        # ELIC needs more than 128 latent channels (slices 16,16,32,64,rest)
        m = arch.build(name, N=8, M=136 if name == "elic" else 16)
        # wider weights than the init so the contexts matter
        with torch.no_grad():
            for p in m.parameters():
                if p.dim() == 4:
                    p.mul_(3.0)
        # int8 float weights: the tiny models keep the loader's int8 path
        # (NAME.qscale) under test
        export.export(m, {}, os.path.join(out, f"tiny_{name}.lvcm"), "int8")
        print(name, os.path.getsize(os.path.join(out, f"tiny_{name}.lvcm")))
        if name == "meanscale":
            shared_from(os.path.join(out, "tiny_meanscale.lvcm"),
                        os.path.join(out, "tiny_meanscale_shared.lvcm"))


def shared_from(src, dst):
    """dst: the model of src as a file sharing src's trunk (doc/model-file.md)."""
    t, meta = lvcm.read(src, resolve_trunk=False)
    export.share_trunk(t, meta, src)
    lvcm.write(dst, t, meta)
    print(os.path.basename(dst), os.path.getsize(dst))


if __name__ == "__main__":
    main()
