#!/usr/bin/env python3
"""Where one training step's CPU time goes: the torch profiler's table over
5 elic steps (random batch 8 of 128x128 crops, both threads), then g_a and
g_s forward+backward alone and a full step, in seconds.
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
with profile(activities=[ProfilerActivity.CPU]) as p:
    for _ in range(5): step()
print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
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
