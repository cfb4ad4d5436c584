#!/usr/bin/python3
"""Rate-distortion training of lvc models on CPU (Debian's python3-torch).

  /usr/bin/python3 models/train/train.py --data ../shared/data/train \
      --run models/train/runs/meanscale [--init models/weights/meanscale.lvcm]

Resumes from RUN/ckpt.pt when present (full precision, optimizer state),
else from --init (a shipped .lvcm), else from scratch. Appends to
RUN/log.csv: step, wall time, CPU-hours, images seen, lambda mix, bpp, PSNR,
loss. Saves RUN/ckpt.pt every --save-every seconds and on SIGTERM/SIGINT.

--ema D1,D2,... keeps exponential moving averages of the weights (Polyak
averaging, one per decay) in the checkpoint next to the weights themselves;
evaluate.py and export.py take them with --ema D. They average out the
step-to-step noise of small-batch Adam without lowering the learning rate.

--device cuda trains on a GPU (a newer PyTorch with CUDA; the code runs on
both). Its wall time is kept as the state's gpu_s (exported as
train_gpu_hours), not as CPU time; crops are cut on the host and copied.
--downscale 1 reads images already downscaled (pack_data.py).
"""
import argparse
import csv
import ctypes
import math
import os
import random
import shutil
import signal
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import arch  # noqa: E402


def load_images(root, downscale=2, min_side=96):
    """All JPEG/PNG photos under root, downscaled (box filter, removes JPEG
    block artefacts), as uint8 CHW tensors."""
    paths = []
    for dp, _, fs in os.walk(root):
        for f in fs:
            if f.lower().endswith((".jpg", ".jpeg", ".png")):
                paths.append(os.path.join(dp, f))
    paths.sort()
    imgs = []
    for p in paths:
        try:
            im = Image.open(p).convert("RGB")
        except Exception:
            continue
        if downscale > 1:
            im = im.reduce(downscale)
        if min(im.size) < min_side:
            continue
        a = torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).contiguous()
        imgs.append(a)
    return imgs, paths


def crop_arg(v):
    """--crop S (square) or HxW; each a multiple of 64 (the hyper grid)."""
    hw = v.lower().split("x")
    if len(hw) not in (1, 2) or not all(t.isdigit() for t in hw):
        raise argparse.ArgumentTypeError(f"crop {v!r}: want S or HxW")
    h, w = int(hw[0]), int(hw[-1])
    if h <= 0 or w <= 0 or h % 64 or w % 64:
        raise argparse.ArgumentTypeError(f"crop {v!r}: sides must be positive multiples of 64")
    return (h, w)


def random_batch(imgs, batch, crop, rng):
    """batch random crops of crop = (H, W): an image whose orientation
    (portrait, landscape) differs from the crop's is transposed; where it
    is still smaller than the crop, its largest crop is resized (bilinear)
    to H x W; random flips."""
    ch, cw = crop
    out = torch.empty(batch, 3, ch, cw, dtype=torch.uint8)
    for i in range(batch):
        im = imgs[rng.randrange(len(imgs))]
        _, h, w = im.shape
        if ch != cw and (h > w) != (ch > cw):
            im = im.transpose(1, 2)
            h, w = w, h
        c_h, c_w = min(ch, h), min(cw, w)
        y0 = rng.randrange(h - c_h + 1)
        x0 = rng.randrange(w - c_w + 1)
        p = im[:, y0:y0 + c_h, x0:x0 + c_w]
        if (c_h, c_w) != (ch, cw):
            p = torch.nn.functional.interpolate(p[None].float(), size=(ch, cw), mode="bilinear",
                                                align_corners=False)[0].round().clamp(0, 255).byte()
        if rng.random() < 0.5:
            p = p.flip(2)
        if rng.random() < 0.5:
            p = p.flip(1)
        out[i] = p
    return out.float() / 255.0


def load_checkpoint(path):
    """torch.load of a train.py checkpoint on the host (PyTorch 2.6 and later
    default to weights_only, which refuses the checkpoint's plain objects)."""
    return torch.load(path, map_location="cpu", weights_only=False)


def rd_loss(model, x, level, lam_all=None, level_w=None):
    """Mean over the batch of bpp + lambda * 255^2 * MSE, each sample at its
    level's lambda; with level_w (L,) each sample's term is weighted by its
    level's weight (train.py --level-weights)."""
    x_hat, y_lik, z_lik = model(x, level)
    b, _, h, w = x.shape
    npix = h * w
    bits = (-torch.log2(y_lik)).sum(dim=(1, 2, 3)) + (-torch.log2(z_lik)).sum(dim=(1, 2, 3))
    bpp = bits / npix
    if x_hat is None:  # frozen transforms: the rate alone
        loss = bpp.mean() if level_w is None else (bpp * level_w[level]).mean()
        return loss, bpp.detach(), torch.full_like(bpp, float("nan"))
    mse = ((x_hat - x) ** 2).mean(dim=(1, 2, 3))
    if lam_all is None:
        lam_all = torch.tensor(model.lambdas, dtype=x.dtype, device=x.device)
    lam = lam_all[level]
    per = bpp + lam * (255.0 ** 2) * mse
    loss = per.mean() if level_w is None else (per * level_w[level]).mean()
    return loss, bpp.detach(), mse.detach()


class LevelWeights:
    """--level-weights inverse-loss: each level's term is divided by a
    running mean of that level's loss (decay 0.99 per step it is drawn in),
    the weights normalised to mean 1 over the levels. The gradient is then
    that of sum_l log(loss_l): a relative gain counts alike at every level,
    as in a BD-rate (log rate), instead of the top levels' losses, about 20
    times the lowest level's, dominating the shared weights. Levels not yet
    seen weigh 1 (the mean)."""

    def __init__(self, L, device, start=None, decay=0.99):
        self.decay = decay
        self.mean = torch.full((L,), float("nan"), dtype=torch.float64, device=device)
        if start:
            self.mean[:] = torch.tensor(start, dtype=torch.float64)

    def weights(self):
        inv = 1.0 / self.mean
        seen = torch.isfinite(inv)
        m = torch.where(seen, inv, torch.zeros_like(inv)).sum() / seen.sum().clamp(min=1)
        w = torch.where(seen, inv / m, torch.ones_like(inv))
        return w.float()

    def update(self, level, per):
        L = self.mean.numel()
        s = torch.zeros(L, dtype=torch.float64, device=per.device).index_add_(0, level, per.double())
        n = torch.bincount(level, minlength=L).double()
        batch_mean = s / n.clamp(min=1)
        fresh = torch.isnan(self.mean)
        upd = torch.where(fresh, batch_mean, self.decay * self.mean + (1 - self.decay) * batch_mean)
        self.mean = torch.where(n > 0, upd, self.mean)

    def state(self):
        return [float(v) for v in self.mean.cpu()]


def tune_malloc(step_pixels=8 * 128 * 128):
    """Keep freed memory in glibc's heap. By default every large activation
    tensor is an mmap of its own, unmapped when freed and page-faulted in
    again on the next step (sys time, zeroing); with the heap kept, a step
    reuses the previous step's pages (elic, batch 8, crop 128, both cores,
    --bench 40, machine otherwise idle, runs alternating: 1.22 / 1.27 ->
    1.74 / 1.69 steps/s, sys time 11.7 / 10.3 -> 2.7 / 3.0 s; jemalloc
    without decay measured alike, but is another dependency)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -2, -3, -4
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)   # glibc's maximum
    libc.mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1)
    libc.mallopt(M_TOP_PAD, 256 << 20)
    # Past batch 8 of 128x128 some activations pass that 32 MiB ceiling and
    # would be mmapped (and faulted in) on every step again: 3-6x slower
    # (doc/training.md, "Batch and crop size"). Then never mmap.
    if step_pixels > 8 * 128 * 128:
        libc.mallopt(M_MMAP_MAX, 0)


def step_seconds(model, opt, x, level, steps, warmup=2):
    """Mean wall seconds of a training step (rd_loss, backward, opt.step)
    on the fixed batch x at levels level, after warmup untimed steps; for
    the throughput scripts (bench_shapes.py, bench_bf16.py)."""
    def step():
        loss, _, _ = rd_loss(model, x, level)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for _ in range(warmup):
        step()
    t = time.time()
    for _ in range(steps):
        step()
    return (time.time() - t) / steps


def cpu_seconds():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


TRANSFORM_PREFIXES = ("g_a.", "g_s.", "log_gain", "log_inv_gain")


def warm_entropy(model, arch_name, N, M, lambdas, path, state):
    """Start the entropy model from a shipped file's (fitted to an earlier
    trunk): every tensor outside the transforms and gains. The file's own
    cost (its totals minus its trunk's) is added to state, so the recorded
    cost stays complete."""
    import export
    import lvcm
    src = arch.build(arch_name, N=N, M=M, lambdas=lambdas)
    export.load_lvcm_into(src, path, lambdas=lambdas)
    own = model.state_dict()
    take = {k: v for k, v in src.state_dict().items()
            if not k.startswith(TRANSFORM_PREFIXES) and k in own and own[k].shape == v.shape}
    model.load_state_dict(take, strict=False)
    total = export.read_train_state(path)
    _, meta = lvcm.read(path)
    base = {"step": 0, "images": 0, "cpu_s": 0.0}
    if meta.get("trunk_sha256"):
        trunk = lvcm.find_trunk(os.path.dirname(os.path.abspath(path)), meta["trunk_sha256"])
        base = export.read_train_state(trunk)
    d = {k: total[k] - base[k] for k in ("step", "images", "cpu_s")}
    for k in d:
        state[k] = state.get(k, 0) + d[k]
    state["base"] += f"; entropy model from {os.path.basename(path)} ({d['step']} own steps)"
    print(f"entropy model: {len(take)} tensors from {path}, its own cost {d['step']} steps, "
          f"{d['cpu_s'] / 3600:.2f} CPU-h", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, action="append", help="image folder (repeatable)")
    ap.add_argument("--run", required=True)
    ap.add_argument("--arch", default="meanscale")
    ap.add_argument("--init", default=None, help="initial weights (.lvcm)")
    ap.add_argument("--N", type=int, default=128)
    ap.add_argument("--M", type=int, default=192)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=crop_arg, default=(128, 128),
                    help="training crop: S (square) or HxW, multiples of 64")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--steps", type=int, default=10 ** 9)
    ap.add_argument("--hours", type=float, default=1e9, help="stop after this wall time")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda to train on a GPU")
    ap.add_argument("--parts-dir", default=None,
                    help="at every save also write the weight averages as parts of at most "
                         "12 MiB and a copy of log.csv there (ckpt_parts.py; for a remote "
                         "trainer that may be stopped at any time)")
    ap.add_argument("--downscale", type=int, default=2,
                    help="box-filter factor applied to the training images when loaded "
                         "(1: images packed already downscaled by pack_data.py)")
    ap.add_argument("--level-weights", choices=("uniform", "inverse-loss"), default="uniform",
                    help="weight of each rate level's term in the loss: uniform (the sum of "
                         "the levels' losses), or inverse-loss (each divided by a running "
                         "mean of its level's loss: the sum of their logarithms)")
    ap.add_argument("--save-every", type=float, default=600.0)
    ap.add_argument("--log-every", type=int, default=25)
    ap.add_argument("--bench", type=int, default=0, help="time N steps and exit")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lambdas", default=None,
                    help="comma-separated rate levels (lambda for 255^2 MSE + bpp); default "
                         "those of the initial weights, else arch.LAMBDAS. New levels start "
                         "from gains interpolated/extrapolated in log(lambda)")
    ap.add_argument("--freeze-transforms", action="store_true",
                    help="train only the entropy model (h_a, h_s, context, priors) on the "
                         "rate; g_a, g_s and the gains stay as initialised")
    ap.add_argument("--warm-entropy", default=None,
                    help="with --freeze-transforms and a transfer --init: a shipped .lvcm of "
                         "this architecture (fitted to an earlier trunk) whose entropy model "
                         "(everything but g_a, g_s and the gains) is the starting point; its "
                         "own training cost is added to this run's")
    ap.add_argument("--ema", default="",
                    help="comma-separated decays of weight moving averages kept in the "
                         "checkpoint (e.g. 0.999,0.9998); empty = none")
    ap.add_argument("--init-ema", type=float, default=None,
                    help="with a transfer --init CHECKPOINT.pt: take its weight moving "
                         "average of this decay instead of its weights")
    args = ap.parse_args()
    session_start = time.time()
    try:
        args.ema_decays = [float(t) for t in args.ema.split(",") if t.strip()]
    except ValueError:
        ap.error(f"--ema {args.ema!r}: want comma-separated decays")
    if any(not 0.0 < d < 1.0 for d in args.ema_decays):
        ap.error("--ema: each decay must lie in (0, 1)")
    if args.init_ema is not None and not (args.init and args.init.endswith(".pt")):
        ap.error("--init-ema needs --init CHECKPOINT.pt")
    if args.warm_entropy and not (args.freeze_transforms and args.init and args.init.endswith(".pt")):
        ap.error("--warm-entropy needs --freeze-transforms and --init CHECKPOINT.pt")

    if args.downscale < 1:
        ap.error("--downscale: want 1 or more")
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: this PyTorch sees no GPU")
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes
        if os.environ.get("LVC_QCONV_FP32") == "1":
            torch.backends.cudnn.allow_tf32 = False
    if args.parts_dir and not args.ema_decays:
        ap.error("--parts-dir writes the weight averages: give --ema")
    tune_malloc(args.batch * args.crop[0] * args.crop[1])
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    os.makedirs(args.run, exist_ok=True)

    ckpt_path = os.path.join(args.run, "ckpt.pt")
    # rate levels: --lambdas, else those of what we start from
    start_lambdas = None
    start_ck = None  # the checkpoint we resume or transfer from, loaded once
    if os.path.exists(ckpt_path):
        start_ck = load_checkpoint(ckpt_path)
    elif args.init and args.init.endswith(".pt"):
        start_ck = load_checkpoint(args.init)
    if start_ck is not None:
        start_lambdas = start_ck["args"].get("lambdas_used")
    elif args.init:
        import lvcm
        start_lambdas = arch.parse_lambdas(lvcm.read(args.init)[1].get("lambdas"))
    start_lambdas = start_lambdas or list(arch.LAMBDAS)
    lambdas = arch.parse_lambdas(args.lambdas) or start_lambdas
    args.lambdas_used = lambdas
    model = arch.build(args.arch, N=args.N, M=args.M, lambdas=lambdas).to(dev)
    if args.freeze_transforms:
        model.skip_synthesis = True
        for name, p in model.named_parameters():
            if name.startswith(("g_a.", "g_s.", "log_gain", "log_inv_gain")):
                p.requires_grad_(False)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr)
    state = {"step": 0, "images": 0, "cpu_s": 0.0, "wall_s": 0.0}
    if os.path.exists(ckpt_path):
        ck = start_ck
        changed = arch.adapt_gains(ck["model"], start_lambdas, lambdas)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        if changed:
            # the gain rows changed shape: their Adam moments start afresh
            for p in (model.log_gain, model.log_inv_gain):
                opt.state.pop(p, None)
            print(f"rate levels {start_lambdas} -> {lambdas}", flush=True)
        state = ck["state"]
        print(f"resumed {ckpt_path} at step {state['step']}", flush=True)
    elif args.init and args.init.endswith(".pt"):
        # transfer from another architecture's checkpoint: every tensor whose
        # name and shape match (g_a, g_s, h_a, gains, ...); steps start at 0
        ck = start_ck
        src = dict(arch.checkpoint_weights(ck, args.init_ema))
        arch.adapt_gains(src, start_lambdas, lambdas)
        own = model.state_dict()
        take = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(take, strict=False)
        # the cost behind this model includes the run it starts from
        state = dict(ck["state"])
        state["base"] = f"{ck.get('args', {}).get('arch', '?')} at step {state['step']}"
        if args.init_ema is not None:
            state["base"] += f" (weight average {args.init_ema})"
        print(f"transferred {len(take)}/{len(own)} tensors from {args.init} "
              f"({state['base']})", flush=True)
        if args.warm_entropy:
            warm_entropy(model, args.arch, args.N, args.M, lambdas, args.warm_entropy, state)
    elif args.init:
        import export
        export.load_lvcm_into(model, args.init, lambdas=start_lambdas)
        state = export.read_train_state(args.init)
        print(f"initialised from {args.init} (step {state['step']})", flush=True)
    for g in opt.param_groups:
        g["lr"] = args.lr

    # weight moving averages: float tensors of the state dict, resumed when
    # the checkpoint has one of the same decay, else started at the weights.
    # Frozen parameters (--freeze-transforms) are left out: averaging a
    # constant is not exact in floating point (v*d + v*(1-d) != v), and the
    # export of a fit checks its transforms bit for bit against the trunk's;
    # checkpoint_weights() takes them from the weights.
    sd_now = model.state_dict()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    float_keys = [k for k, v in sd_now.items() if v.is_floating_point() and k not in frozen]
    old_ema = (start_ck or {}).get("ema", {}) if os.path.exists(ckpt_path) else {}
    ema = {}
    for d in args.ema_decays:
        key = repr(d)
        src = old_ema.get(key)
        if src is not None and all(k in src and src[k].shape == sd_now[k].shape for k in float_keys):
            ema[key] = {k: src[k].to(sd_now[k].device, copy=True) for k in float_keys}
            print(f"ema {key}: resumed", flush=True)
        else:
            ema[key] = {k: sd_now[k].detach().clone() for k in float_keys}
            print(f"ema {key}: started at the current weights", flush=True)
    live = [sd_now[k] for k in float_keys]  # views of the parameters and buffers
    ema_lists = [(float(key), [e[k] for k in float_keys]) for key, e in ema.items()]

    def ema_update():
        with torch.no_grad():
            for d, vals in ema_lists:
                torch._foreach_mul_(vals, d)
                torch._foreach_add_(vals, live, alpha=1.0 - d)

    t0 = time.time()
    imgs = []
    for d in args.data:
        imgs += load_images(d, downscale=args.downscale)[0]
    print(f"{len(imgs)} training images loaded in {time.time() - t0:.1f}s", flush=True)

    stop = {"flag": False}

    def on_signal(sig, frame):
        stop["flag"] = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def save():
        st = dict(state)
        if lw is not None:
            st["level_loss"] = lw.state()
        tmp = ckpt_path + ".tmp"
        host = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        ck = {"model": host, "opt": opt.state_dict(), "state": st, "args": vars(args)}
        # only the averages kept up to date in this run (one left out would
        # go stale behind the weights)
        if ema:
            ck["ema"] = {key: {k: v.cpu() for k, v in e.items()} for key, e in ema.items()}
        torch.save(ck, tmp)
        os.replace(tmp, ckpt_path)
        if args.parts_dir and ema:
            import ckpt_parts
            logf.flush()
            ckpt_parts.write_parts(ck, args.parts_dir, 13.0)
            shutil.copyfile(log_path, os.path.join(args.parts_dir, "log.csv"))

    log_path = os.path.join(args.run, "log.csv")
    if os.path.exists(log_path) and os.path.exists(ckpt_path):
        # a run killed between checkpoints logged steps the checkpoint does
        # not hold; they are trained again from here, so their rows go
        with open(log_path, newline="") as f:
            rows = list(csv.reader(f))
        keep = rows[:1] + [r for r in rows[1:] if r and int(r[0]) <= state["step"]]
        if len(keep) < len(rows):
            with open(log_path + ".tmp", "w", newline="") as f:
                csv.writer(f).writerows(keep)
            os.replace(log_path + ".tmp", log_path)
            print(f"log.csv: {len(rows) - len(keep)} rows past step {state['step']} "
                  "(not in the checkpoint) dropped", flush=True)
    new_log = not os.path.exists(log_path)
    logf = open(log_path, "a", newline="")
    log = csv.writer(logf)
    if new_log:
        log.writerow(["step", "wall_s", "cpu_hours", "images", "lr", "loss", "bpp", "psnr",
                      "bpp_lo", "psnr_lo", "bpp_hi", "psnr_hi"])

    L = len(model.lambdas)
    def new_acc():
        z = torch.zeros(L, dtype=torch.float64, device=dev)
        return {"loss": torch.zeros((), dtype=torch.float64, device=dev), "n": 0,
                "bpp": z.clone(), "mse": z.clone(), "cnt": z.clone()}
    acc = new_acc()
    on_gpu = dev.type != "cpu"
    lam_all = torch.tensor(model.lambdas, dtype=torch.float32, device=dev)
    lw = None
    if args.level_weights == "inverse-loss":
        start = state.get("level_loss")
        lw = LevelWeights(L, dev, start if start and len(start) == L else None)
    start_wall, start_cpu = time.time(), cpu_seconds()
    last_save = time.time()
    saved_step = None
    bench_t = None
    step0 = state["step"]

    def cpu_hours_now():
        # a GPU run's host CPU time is not training CPU time: its cost is
        # its wall time, kept as gpu_s
        extra = 0.0 if on_gpu else cpu_seconds() - start_cpu
        return (state["cpu_s"] + extra) / 3600.0

    def account(now):
        state["wall_s"] += now - start_wall
        if on_gpu:
            state["gpu_s"] = state.get("gpu_s", 0.0) + now - start_wall
        else:
            state["cpu_s"] += cpu_seconds() - start_cpu
    model.train()
    while state["step"] < args.steps and not stop["flag"]:
        if args.bench and state["step"] == step0 + 2:
            bench_t = time.time()
        x = random_batch(imgs, args.batch, args.crop, rng).to(dev, non_blocking=True)
        if on_gpu:  # drawn on the device: no blocking copy
            level = torch.randint(0, L, (args.batch,), device=dev)
        else:
            level = torch.randint(0, L, (args.batch,))
        loss, bpp, mse = rd_loss(model, x, level, lam_all, None if lw is None else lw.weights())
        opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            print(f"step {state['step']}: non-finite loss, batch skipped", flush=True)
            if time.time() - session_start > args.hours * 3600:
                break
            continue
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if ema:
            ema_update()
        state["step"] += 1
        state["images"] += args.batch
        # unweighted, for the log (the rate alone with frozen transforms)
        per = bpp if args.freeze_transforms else bpp + lam_all[level] * (255.0 ** 2) * mse
        if lw is not None:
            lw.update(level, per)
        acc["loss"] += per.mean().double()
        acc["n"] += 1
        acc["bpp"].index_add_(0, level, bpp.double())
        acc["mse"].index_add_(0, level, mse.double())
        acc["cnt"].index_add_(0, level, torch.ones_like(bpp, dtype=torch.float64))
        if args.bench and state["step"] == step0 + 2 + args.bench:
            dt = time.time() - bench_t
            px = args.bench * args.batch * args.crop[0] * args.crop[1]
            print(f"bench: {args.bench} steps in {dt:.1f}s: {args.bench / dt:.2f} steps/s, "
                  f"{args.bench * args.batch / dt:.1f} crops/s, {px / dt / 1e6:.3f} Mpx/s", flush=True)
            return
        now = time.time()
        if state["step"] % args.log_every == 0:
            wall = state["wall_s"] + now - start_wall
            cpu_h = cpu_hours_now()
            a = {k: (v.cpu().numpy() if torch.is_tensor(v) else v) for k, v in acc.items()}
            acc = a
            cnt = np.maximum(acc["cnt"], 1)
            bpp_l = acc["bpp"] / cnt
            psnr_l = 10 * np.log10(1.0 / np.maximum(acc["mse"] / cnt, 1e-10))
            log.writerow([state["step"], f"{wall:.0f}", f"{cpu_h:.3f}", state["images"], args.lr,
                          f"{acc['loss'] / acc['n']:.4f}", f"{bpp_l.mean():.4f}", f"{psnr_l.mean():.2f}",
                          f"{bpp_l[0]:.4f}", f"{psnr_l[0]:.2f}", f"{bpp_l[-1]:.4f}", f"{psnr_l[-1]:.2f}"])
            logf.flush()
            print(f"step {state['step']} loss {acc['loss'] / acc['n']:.4f} "
                  f"lo {bpp_l[0]:.3f}bpp/{psnr_l[0]:.2f}dB hi {bpp_l[-1]:.3f}bpp/{psnr_l[-1]:.2f}dB "
                  f"cpu_h {cpu_h:.2f}", flush=True)
            acc = new_acc()
        out_of_time = now - session_start > args.hours * 3600
        if now - last_save > args.save_every or out_of_time:
            account(now)
            start_wall, start_cpu = now, cpu_seconds()
            save()
            saved_step = state["step"]
            last_save = now
            if out_of_time:
                break
    if saved_step != state["step"]:
        account(time.time())
        save()
    print(f"saved at step {state['step']}", flush=True)


if __name__ == "__main__":
    main()
