#!/usr/bin/python3
"""Pixel rate of one elic training step by batch and crop size (random
input, both threads, 6 timed steps after 2; doc/training.md, "Batch and
crop size"). Pause a running training job first.
  /usr/bin/python3 models/train/bench_shapes.py      (from the repository root)
"""
import os, sys, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch, train  # noqa: E402

SHAPES = [(8, 128), (16, 128), (4, 256), (8, 256), (8, 128)]
train.tune_malloc(max(b * c * c for b, c in SHAPES))
torch.set_num_threads(2)
m = arch.build("elic", N=128, M=192, lambdas=[0.00045 * 2 ** i for i in range(10)])
m.train()
opt = torch.optim.Adam(m.parameters(), lr=1e-5)
for b, c in SHAPES:
    x = torch.rand(b, 3, c, c)
    lv = torch.randint(0, 10, (b,))
    dt = train.step_seconds(m, opt, x, lv, 6)
    print(f"batch {b} crop {c}: step {dt:.3f} s, {b * c * c / dt / 1e6:.3f} Mpixel/s", flush=True)
