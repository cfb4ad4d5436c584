#!/usr/bin/env python3
"""Where one training step's CPU time goes: the torch profiler's table over
5 elic steps (random batch 8 of 128x128 crops, both threads), the same time
per operator and input height (so the latent-resolution entropy networks,
height 8, stand apart from the trunk's 32- and 64-pixel layers), then g_a
and g_s forward+backward alone and a full step, in seconds.
  /usr/bin/python3 models/train/profile_step.py     (from the repository root)
"""
import os, sys, time, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch, train
torch.set_num_threads(2)
m = arch.build("elic", N=128, M=192, lambdas=[0.00045*2**i for i in range(10)])
m.train()
opt = torch.optim.Adam(m.parameters(), lr=1e-5)
x = torch.rand(8, 3, 128, 128)
lv = torch.randint(0, 10, (8,))
def step():
    loss, _, _ = train.rd_loss(m, x, lv)
    opt.zero_grad(); loss.backward(); opt.step()
for _ in range(3): step()
from torch.profiler import profile, ProfilerActivity
with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as p:
    for _ in range(5): step()
print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
by = {}
for e in p.key_averages(group_by_input_shape=True):
    shp = e.input_shapes[0] if e.input_shapes else []
    key = (e.key, shp[2] if len(shp) == 4 else "-")
    by[key] = by.get(key, 0.0) + e.self_cpu_time_total / 1e6 / 5
total = sum(by.values())
print("operator, input height: seconds per step, share")
for (name, hgt), t in sorted(by.items(), key=lambda kv: -kv[1])[:20]:
    print("  %-32s %4s %.4f s %5.1f%%" % (name[:32], hgt, t, 100 * t / total))
# module split: time g_a, g_s forward+backward alone
def timeit(f, n=5):
    t=time.time()
    for _ in range(n): f()
    return (time.time()-t)/n
def fa():
    out = m.g_a(x); out.sum().backward()
print("g_a fwd+bwd", timeit(fa))
yy = torch.randn(8, 192, 8, 8)
def fs():
    out = m.g_s(yy); out.sum().backward()
print("g_s fwd+bwd", timeit(fs))
print("full step", timeit(step))
