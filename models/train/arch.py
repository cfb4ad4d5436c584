"""lvc architectures (PyTorch twins of models/*.c).

MeanScaleVR: the mean-scale hyperprior of Minnen et al. 2018 (no
autoregression) with variable rate by gain vectors (Cui et al. 2021):

  y = g_a(x) * gain[q]           (float, encoder only)
  z = h_a(y); z_hat = round(z)   (factorized prior, integer tables)
  (mu, sigma) = h_s(z_hat)       (INTEGER network, doc/integer-nn.md)
  y_hat = round(y - mu) + mu     (mu on a 1/16 grid)
  x_hat = g_s(y_hat * inv_gain[q])  (float)

The scale output selects a Gaussian table by index (entropy/cdf.c); the means
come out of h_s as int16 with MEAN_FA fractional bits.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from lvclayers import (GDN, FactorizedDensity, QConv2d, QSubpel, gaussian_likelihood,
                       quantize_act, round_ste, subpel_conv)

HS_FA = 6        # fractional bits of h_s hidden activations
OUT_FA = 4       # fractional bits of h_s outputs (means and scales)

# Rate points of the variable-rate model (lambda for 255^2 * MSE + bpp).
LAMBDAS = [0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.1800]


class MeanScaleVR(nn.Module):
    arch = "meanscale"

    def __init__(self, N=128, M=192, lambdas=LAMBDAS):
        super().__init__()
        self.N, self.M = N, M
        self.lambdas = list(lambdas)
        L = len(lambdas)
        self.g_a = nn.Sequential(
            nn.Conv2d(3, N, 5, 2, 2), GDN(N),
            nn.Conv2d(N, N, 5, 2, 2), GDN(N),
            nn.Conv2d(N, N, 5, 2, 2), GDN(N),
            nn.Conv2d(N, M, 5, 2, 2),
        )
        self.g_s = nn.Sequential(
            subpel_conv(M, N), GDN(N, inverse=True),
            subpel_conv(N, N), GDN(N, inverse=True),
            subpel_conv(N, N), GDN(N, inverse=True),
            subpel_conv(N, 3),
        )
        self.h_a = nn.Sequential(
            nn.Conv2d(M, N, 3, 1, 1), nn.ReLU(inplace=True),
            nn.Conv2d(N, N, 5, 2, 2), nn.ReLU(inplace=True),
            nn.Conv2d(N, N, 5, 2, 2),
        )
        # Integer hyper-synthesis: z_hat (fa 0) -> 2M outputs at OUT_FA bits.
        self.h_s = nn.Sequential(
            QSubpel(N, N, 3, 2, fa_in=0, fa_out=HS_FA, relu=True),
            QSubpel(N, N * 3 // 2, 3, 2, fa_in=HS_FA, fa_out=HS_FA, relu=True),
            QConv2d(N * 3 // 2, 2 * M, 3, 1, fa_in=HS_FA, fa_out=OUT_FA, relu=False),
        )
        self.z_density = FactorizedDensity(N)
        # gains: log-parametrised, initialised so higher lambda = finer step
        ref = lambdas[L // 2]
        init = torch.tensor([0.5 * math.log(l / ref) for l in lambdas]).view(L, 1).repeat(1, M)
        self.log_gain = nn.Parameter(init.clone())
        self.log_inv_gain = nn.Parameter(-init.clone())

    # Set by train.py --freeze-transforms: the synthesis is skipped (the
    # loss is then the rate alone; the transforms do not change).
    skip_synthesis = False

    def synthesis(self, y_hat, inv_gain):
        if self.skip_synthesis:
            return None
        return self.g_s(y_hat * inv_gain[:, :, None, None])

    def rate_input(self, v, mean=None):
        """What the likelihoods are evaluated at: v plus uniform noise while
        training; in eval mode the decoder's value round(v - mean) + mean
        (rounding half up, as the C side), so eval-mode rates are those of
        the real symbols."""
        if self.training:
            return v + torch.empty_like(v).uniform_(-0.5, 0.5)
        m = 0.0 if mean is None else mean
        return torch.floor(v - m + 0.5) + m

    def gains(self, level):
        """level: LongTensor (B,) of discrete levels, or float tensor for
        interpolation (log-linear between neighbours)."""
        if level.dtype in (torch.int64, torch.int32):
            return self.log_gain[level].exp(), self.log_inv_gain[level].exp()
        lo = torch.clamp(level.floor().long(), 0, len(self.lambdas) - 2)
        t = (level - lo.float()).unsqueeze(1)
        g = (1 - t) * self.log_gain[lo] + t * self.log_gain[lo + 1]
        ig = (1 - t) * self.log_inv_gain[lo] + t * self.log_inv_gain[lo + 1]
        return g.exp(), ig.exp()

    def hyper_synthesis(self, z_hat):
        out = self.h_s(z_hat)
        scale, mean = out[:, : self.M], out[:, self.M:]
        return scale, mean

    def forward(self, x, level):
        gain, inv_gain = self.gains(level)
        y = self.g_a(x) * gain[:, :, None, None]
        z = self.h_a(y)
        # rate of z: additive noise; h_s sees the rounded z (STE)
        z_noisy = self.rate_input(z)
        z_lik = self.z_density.likelihood(z_noisy)
        z_hat = round_ste(z)
        scale, mean = self.hyper_synthesis(z_hat)
        y_noisy = self.rate_input(y, mean)
        y_lik = gaussian_likelihood(y_noisy, mean, scale)
        y_hat = round_ste(y - mean) + mean
        x_hat = self.synthesis(y_hat, inv_gain)
        return x_hat, y_lik, z_lik


class ScaleHyperpriorVR(MeanScaleVR):
    """Scale hyperprior (Balle et al. 2018): h_a sees |y|, h_s predicts only
    the scales; symbols are round(y) with zero-mean Gaussian tables."""
    arch = "hyperprior"

    def __init__(self, N=128, M=192, lambdas=LAMBDAS):
        super().__init__(N, M, lambdas)
        self.h_s[2] = QConv2d(N * 3 // 2, M, 3, 1, fa_in=HS_FA, fa_out=OUT_FA, relu=False)

    def hyper_synthesis(self, z_hat):
        return self.h_s(z_hat), None

    def forward(self, x, level):
        gain, inv_gain = self.gains(level)
        y = self.g_a(x) * gain[:, :, None, None]
        z = self.h_a(torch.abs(y))
        z_noisy = self.rate_input(z)
        z_lik = self.z_density.likelihood(z_noisy)
        scale, _ = self.hyper_synthesis(round_ste(z))
        y_noisy = self.rate_input(y)
        y_lik = gaussian_likelihood(y_noisy, torch.zeros_like(y), scale)
        y_hat = round_ste(y)
        x_hat = self.synthesis(y_hat, inv_gain)
        return x_hat, y_lik, z_lik


class FactorizedVR(MeanScaleVR):
    """Factorized prior (Balle et al. 2018): y coded with one learned
    non-parametric density per channel; no hyperprior."""
    arch = "factorized"

    def __init__(self, N=128, M=192, lambdas=LAMBDAS):
        super().__init__(N, M, lambdas)
        del self.h_a, self.h_s, self.z_density
        self.y_density = FactorizedDensity(M)

    def forward(self, x, level):
        gain, inv_gain = self.gains(level)
        y = self.g_a(x) * gain[:, :, None, None]
        y_noisy = self.rate_input(y)
        y_lik = self.y_density.likelihood(y_noisy)
        y_hat = round_ste(y)
        x_hat = self.synthesis(y_hat, inv_gain)
        return x_hat, y_lik, torch.ones(1, 1, 1, 1, device=x.device)


def checkerboard_anchor_mask(h, w, device=None):
    """1 at anchor positions ((x + y) even), decoded in pass 0."""
    yy, xx = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device),
                            indexing="ij")
    return ((yy + xx) % 2 == 0).float()


class CheckerboardVR(MeanScaleVR):
    """Mean-scale hyperprior with a checkerboard context (He et al. 2021).
    Everything that decides a probability is integer (doc/integer-nn.md):
      hyper = h_s(z_hat)                       2M features, HS_FA bits
      pass 0 (anchors, (x+y) even): params = EP(hyper, 0)
      ctx    = qconv3x3_masked(y_hat at anchors, OUT_FA bits)   M, HS_FA
      pass 1 (the rest):            params = EP(hyper, ctx)
      EP: 1x1 qconvs 3M -> 2M -> 2M (ReLU) -> 2M (scales, means), OUT_FA
    """
    arch = "checkerboard"

    def __init__(self, N=128, M=192, lambdas=LAMBDAS):
        super().__init__(N, M, lambdas)
        self.h_s[2] = QConv2d(N * 3 // 2, 2 * M, 3, 1, fa_in=HS_FA, fa_out=HS_FA, relu=False)
        mask = torch.zeros(1, 1, 3, 3)
        mask[0, 0, 0, 1] = mask[0, 0, 1, 0] = mask[0, 0, 1, 2] = mask[0, 0, 2, 1] = 1
        self.ctx = QConv2d(M, M, 3, 1, fa_in=OUT_FA, fa_out=HS_FA, relu=False, mask=mask)
        self.ep = nn.Sequential(
            QConv2d(3 * M, 2 * M, 1, 1, fa_in=HS_FA, fa_out=HS_FA, relu=True),
            QConv2d(2 * M, 2 * M, 1, 1, fa_in=HS_FA, fa_out=HS_FA, relu=True),
            QConv2d(2 * M, 2 * M, 1, 1, fa_in=HS_FA, fa_out=OUT_FA, relu=False),
        )

    def params(self, hyper, ctx):
        out = self.ep(torch.cat([hyper, ctx], dim=1))
        return out[:, : self.M], out[:, self.M:]

    def forward(self, x, level):
        gain, inv_gain = self.gains(level)
        y = self.g_a(x) * gain[:, :, None, None]
        z = self.h_a(y)
        z_noisy = self.rate_input(z)
        z_lik = self.z_density.likelihood(z_noisy)
        hyper = self.h_s(round_ste(z))
        b, m, h, w = y.shape
        anchor = checkerboard_anchor_mask(h, w, y.device).to(y)[None, None]
        s0, m0 = self.params(hyper, torch.zeros(b, m, h, w, dtype=y.dtype, device=y.device))
        y_hat0 = round_ste(y - m0) + m0
        ctx = self.ctx(quantize_act(y_hat0 * anchor, OUT_FA))
        s1, m1 = self.params(hyper, ctx)
        scale = anchor * s0 + (1 - anchor) * s1
        mean = anchor * m0 + (1 - anchor) * m1
        y_noisy = self.rate_input(y, mean)
        y_lik = gaussian_likelihood(y_noisy, mean, scale)
        y_hat = round_ste(y - mean) + mean
        x_hat = self.synthesis(y_hat, inv_gain)
        return x_hat, y_lik, z_lik


def elic_slices(M):
    """ELIC's uneven channel groups: 16, 16, 32, 64, then the rest."""
    assert M > 128
    return (16, 16, 32, 64, M - 128)


def cross_mask():
    """3x3 taps at the 4 neighbours: at a non-anchor position of a
    checkerboard they are exactly the anchors."""
    mask = torch.zeros(1, 1, 3, 3)
    mask[0, 0, 0, 1] = mask[0, 0, 1, 0] = mask[0, 0, 1, 2] = mask[0, 0, 2, 1] = 1
    return mask


class ElicVR(MeanScaleVR):
    """ELIC (He et al. 2022): unevenly grouped channel slices, each coded in
    two checkerboard passes; slice k's parameters come from the hyper
    features, a spatial context inside the slice (anchors -> the rest) and a
    channel context from the slices before it. All integer:
      hyper   = h_s(z_hat)                                   2M, HS_FA
      cc_k    = qconv3x3(y_hat of slices < k, OUT_FA)        2 s_k, HS_FA
      sc_k    = qconv3x3_cross(y_hat of slice k's anchors)   2 s_k, HS_FA
      (scale, mean)_k = EP_k(hyper, sc_k or 0, cc_k)         1x1 qconvs
    """
    arch = "elic"
    EP_HIDDEN = 128

    def __init__(self, N=128, M=192, lambdas=LAMBDAS):
        super().__init__(N, M, lambdas)
        self.slices = elic_slices(M)
        self.h_s[2] = QConv2d(N * 3 // 2, 2 * M, 3, 1, fa_in=HS_FA, fa_out=HS_FA, relu=False)
        self.sc = nn.ModuleList()
        self.cc = nn.ModuleList()
        self.ep = nn.ModuleList()
        prev = 0
        for k, sk in enumerate(self.slices):
            self.sc.append(QConv2d(sk, 2 * sk, 3, 1, fa_in=OUT_FA, fa_out=HS_FA, relu=False,
                                   mask=cross_mask()))
            if k:
                self.cc.append(QConv2d(prev, 2 * sk, 3, 1, fa_in=OUT_FA, fa_out=HS_FA, relu=False))
            cin = 2 * M + 2 * sk + (2 * sk if k else 0)
            h = self.EP_HIDDEN
            self.ep.append(nn.Sequential(
                QConv2d(cin, h, 1, 1, fa_in=HS_FA, fa_out=HS_FA, relu=True),
                QConv2d(h, h, 1, 1, fa_in=HS_FA, fa_out=HS_FA, relu=True),
                QConv2d(h, 2 * sk, 1, 1, fa_in=HS_FA, fa_out=OUT_FA, relu=False)))
            prev += sk

    def forward(self, x, level):
        gain, inv_gain = self.gains(level)
        y = self.g_a(x) * gain[:, :, None, None]
        z = self.h_a(y)
        z_noisy = self.rate_input(z)
        z_lik = self.z_density.likelihood(z_noisy)
        hyper = self.h_s(round_ste(z))
        b, m, h, w = y.shape
        anchor = checkerboard_anchor_mask(h, w, y.device).to(y)[None, None]
        y_hats, scales, means = [], [], []
        c0 = 0
        for k, sk in enumerate(self.slices):
            ys = y[:, c0:c0 + sk]
            parts = [hyper]
            cc = []
            if k:
                cc = [self.cc[k - 1](quantize_act(torch.cat(y_hats, 1), OUT_FA))]
            zero = torch.zeros(b, 2 * sk, h, w, dtype=y.dtype, device=y.device)
            out0 = self.ep[k](torch.cat(parts + [zero] + cc, 1))
            s0, m0 = out0[:, :sk], out0[:, sk:]
            yh0 = round_ste(ys - m0) + m0
            sc = self.sc[k](quantize_act(yh0 * anchor, OUT_FA))
            out1 = self.ep[k](torch.cat(parts + [sc] + cc, 1))
            s1, m1 = out1[:, :sk], out1[:, sk:]
            sc_all = anchor * s0 + (1 - anchor) * s1
            mu = anchor * m0 + (1 - anchor) * m1
            y_hats.append(round_ste(ys - mu) + mu)
            scales.append(sc_all)
            means.append(mu)
            c0 += sk
        scale = torch.cat(scales, 1)
        mean = torch.cat(means, 1)
        y_noisy = self.rate_input(y, mean)
        y_lik = gaussian_likelihood(y_noisy, mean, scale)
        y_hat = torch.cat(y_hats, 1)
        x_hat = self.synthesis(y_hat, inv_gain)
        return x_hat, y_lik, z_lik


ARCHS = {"meanscale": MeanScaleVR, "checkerboard": CheckerboardVR, "elic": ElicVR, "hyperprior": ScaleHyperpriorVR, "factorized": FactorizedVR}


def build(name, lambdas=None, **kw):
    if name not in ARCHS:
        raise ValueError(f"unknown architecture {name}")
    if lambdas:
        kw["lambdas"] = [float(l) for l in lambdas]
    return ARCHS[name](**kw)


def parse_lambdas(text):
    """'0.0009,0.0018,...' (metadata, command line) -> list of floats."""
    return [float(v) for v in str(text).split(",") if v.strip()] if text else None


def adapt_gains(sd, src_lambdas, dst_lambdas):
    """Rewrite the gain rows of a state dict made for src_lambdas so that it
    fits dst_lambdas: a level present in both keeps its row; a new level's
    log-gains are interpolated (or extrapolated) linearly in log(lambda)
    from the two nearest source levels. Returns True when rows changed."""
    src = [float(l) for l in src_lambdas]
    dst = [float(l) for l in dst_lambdas]
    if src == dst:
        return False
    ls = torch.tensor([math.log(l) for l in src], dtype=torch.float64)
    for key in ("log_gain", "log_inv_gain"):
        old = sd[key].double()
        rows = []
        for l in dst:
            x = math.log(l)
            hit = [i for i, v in enumerate(src) if abs(v - l) <= 1e-12 * l]
            if hit:
                rows.append(old[hit[0]])
                continue
            # nearest bracketing pair (or the two end levels when outside)
            j = int(torch.searchsorted(ls, torch.tensor([x], dtype=torch.float64))[0])
            j = min(max(j, 1), len(src) - 1)
            t = (x - float(ls[j - 1])) / float(ls[j] - ls[j - 1])
            rows.append((1 - t) * old[j - 1] + t * old[j])
        sd[key] = torch.stack(rows).to(sd[key].dtype)
    return True


def checkpoint_weights(ck, ema=None):
    """The state dict of a train.py checkpoint: its weights, or with ema (a
    decay, as given to train.py --ema) their moving average of that decay
    (float tensors; the rest, e.g. masks, from the weights)."""
    if ema is None:
        return ck["model"]
    avgs = ck.get("ema", {})
    key = repr(float(ema))
    if key not in avgs:
        have = ", ".join(sorted(avgs)) or "none"
        raise ValueError(f"checkpoint has no weight average of decay {ema} (it has: {have})")
    sd = dict(ck["model"])
    sd.update(avgs[key])
    return sd
