#!/usr/bin/env python3
"""Would bfloat16 convolutions buy training throughput, and at what cost in
gradient precision? Times full elic training steps (batch 8 of 128x128,
both threads) with the float transforms in float32 and with the inner
convolutions of g_a and g_s (all but the first and last of each, so the
input, the latent y and the reconstruction stay float32; GDN stays
float32) under torch.autocast(bfloat16), the arms alternating; then, on a
real batch and the given weights, the relative deviation of each arm's
gradient from the float32 one, next to that of the float32 gradient of
another batch (the noise training already lives with).
  /usr/bin/python3 models/train/bench_bf16.py --weights models/weights/elic.lvcm \
      --data ../shared/data/train/bsds500/train [--rounds 3]
"""
import argparse, os, random, sys
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch, export, lvcm, train

INNER_A, INNER_S = (2, 4), (0, 2, 4)


class BF16(torch.nn.Module):
    """Runs the wrapped layer under bfloat16 autocast; float32 out."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return self.inner(x).float()


def build(weights, meta, bf16):
    m = arch.build("elic", N=int(meta["N"]), M=int(meta["M"]),
                   lambdas=arch.parse_lambdas(meta.get("lambdas")))
    export.load_lvcm_into(m, weights)
    if bf16:
        for i in INNER_A:
            m.g_a[i] = BF16(m.g_a[i])
        for i in INNER_S:
            m.g_s[i] = BF16(m.g_s[i])
    m.train()
    return m


def grads(m, x, level, seed=0):
    torch.manual_seed(seed)
    m.zero_grad()
    loss, _, _ = train.rd_loss(m, x, level)
    loss.backward()
    return {n.replace(".inner", ""): p.grad.detach().clone()
            for n, p in m.named_parameters() if p.grad is not None}


def rel(ref, g, prefix):
    num = sum(((ref[n] - g[n]) ** 2).sum() for n in ref if n.startswith(prefix))
    den = sum((ref[n] ** 2).sum() for n in ref if n.startswith(prefix))
    return (num / den).sqrt().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True, help="an elic .lvcm holding its transforms")
    ap.add_argument("--data", required=True, help="photos for the gradient comparison")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(2)
    train.tune_malloc(8 * 128 * 128)
    meta = lvcm.read(args.weights)[1]
    if meta.get("arch") != "elic" or meta.get("trunk_sha256"):
        ap.error(f"{args.weights}: want an elic file holding its own transforms")
    imgs, _ = train.load_images(args.data)
    rng = random.Random(1)
    xa = train.random_batch(imgs, 8, (128, 128), rng)
    xb = train.random_batch(imgs, 8, (128, 128), rng)
    levels = len(arch.parse_lambdas(meta.get("lambdas")) or arch.LAMBDAS)
    level = torch.arange(8) * (levels - 1) // 7
    m32, m16 = build(args.weights, meta, False), build(args.weights, meta, True)
    for r in range(args.rounds):
        a = train.step_seconds(m32, torch.optim.Adam(m32.parameters(), lr=1e-5), xa, level, args.steps)
        b = train.step_seconds(m16, torch.optim.Adam(m16.parameters(), lr=1e-5), xa, level, args.steps)
        print(f"round {r + 1}: float32 {a:.3f} s/step, bfloat16 inner convs {b:.3f} s/step "
              f"({a / b:.2f}x)", flush=True)
    # the timed steps moved the weights (Adam): compare gradients at the file's
    m32, m16 = build(args.weights, meta, False), build(args.weights, meta, True)
    g0, g1, g2 = grads(m32, xa, level), grads(m16, xa, level), grads(m32, xb, level)
    print("gradient deviation from float32 (relative L2): part, bfloat16 arm, another batch")
    for prefix in ("g_a.", "g_s.", "h_", "log_", ""):
        print(f"  {prefix or 'all':6s} {rel(g0, g1, prefix):.3f} {rel(g0, g2, prefix):.3f}")


if __name__ == "__main__":
    main()
