"""Layers shared by every lvc architecture, with the semantics of the C side.

Float layers (g_a, g_s) follow PyTorch layouts so a state dict exports as is.
Integer layers (hyper-synthesis, context and parameter networks) emulate the
fixed-point arithmetic of doc/integer-nn.md with fake quantization and
straight-through gradients:

  x_int   int16 activations, value = x_int / 2**fa
  w_int   int16 weights,     value = w_int / 2**fw   (fw per layer, from max|w|)
  b_int   int32 bias at fa_in + fw fractional bits
  acc     = b_int + sum(x_int * w_int)              (exact, int64)
  y_int   = sat16(floor((acc + 2**(s-1)) / 2**s)),  s = fa_in + fw - fa_out
  ReLU    = max(y_int, 0)
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

INT16_MAX = 32767
INT16_MIN = -32768
W_MAX = 32767          # int16 weights
FW_MAX = 15            # at most 15 fractional bits for weights
# On a GPU the integer layers convolve in float64 (exact integer sums);
# LVC_QCONV_FP32=1 falls back to float32 (train.py then turns TF32 off).
QCONV_FP64 = os.environ.get("LVC_QCONV_FP32", "") != "1"


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


class _FloorHalfUpSTE(torch.autograd.Function):
    """floor(x + 0.5): the C side's round-half-up shift."""
    @staticmethod
    def forward(ctx, x):
        return torch.floor(x + 0.5)

    @staticmethod
    def backward(ctx, g):
        return g


def round_ste(x):
    return _RoundSTE.apply(x)


def round_half_up_ste(x):
    return _FloorHalfUpSTE.apply(x)


def weight_frac_bits(w):
    """Fractional bits of an int16 weight grid that holds max|w|."""
    m = float(w.detach().abs().max())
    if m <= 0.0:
        return FW_MAX
    fw = int(math.floor(math.log2(W_MAX / m)))
    return max(0, min(FW_MAX, fw))


def quantize_act(x, fa):
    """Fake-quantize an activation to int16 at fa fractional bits."""
    s = float(1 << fa)
    q = round_half_up_ste(x * s)
    q = torch.clamp(q, INT16_MIN, INT16_MAX)
    return q / s


class QConv2d(nn.Module):
    """Integer convolution (fake-quantized). fa_in/fa_out are fixed design
    choices of the network; fw is derived from the weights at export."""

    def __init__(self, cin, cout, k, stride=1, fa_in=0, fa_out=6, relu=False, mask=None):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)
        self.fa_in, self.fa_out, self.relu = fa_in, fa_out, relu
        self.k, self.stride = k, stride
        if mask is not None:
            self.register_buffer("mask", mask)
        else:
            self.mask = None

    def qweights(self):
        w = self.conv.weight
        if self.mask is not None:
            w = w * self.mask
        fw = weight_frac_bits(w)
        sw = float(1 << fw)
        wq = torch.clamp(round_ste(w * sw), -W_MAX, W_MAX) / sw
        sb = float(1 << (fw + self.fa_in))
        bq = round_ste(self.conv.bias * sb) / sb
        return wq, bq, fw

    def qweights_device(self):
        """qweights() with the weight grid computed on the weights' device:
        the same grid (float64, as the Python float of qweights()), but no
        host round trip per layer, which would stall a GPU step."""
        w = self.conv.weight
        if self.mask is not None:
            w = w * self.mask
        m = w.detach().abs().amax().double()
        fw = torch.floor(torch.log2(W_MAX / m)).clamp(0, FW_MAX)  # m = 0: inf -> FW_MAX
        sw = torch.exp2(fw).to(w.dtype)
        wq = torch.clamp(round_ste(w * sw), -W_MAX, W_MAX) / sw
        sb = torch.exp2(fw + self.fa_in).to(w.dtype)
        bq = round_ste(self.conv.bias * sb) / sb
        return wq, bq

    def forward(self, x):
        # x is already on the fa_in grid
        if x.is_cuda:
            # in float64: the integer products and sums are then exact, as
            # on the C side (a GPU's float32 convolution may run in TF32)
            wq, bq = self.qweights_device()
            if QCONV_FP64:
                y = F.conv2d(x.double(), wq.double(), bq.double(), stride=self.stride,
                             padding=self.k // 2)
                y = quantize_act(y, self.fa_out).to(x.dtype)
            else:
                y = quantize_act(F.conv2d(x, wq, bq, stride=self.stride, padding=self.k // 2),
                                 self.fa_out)
        else:
            wq, bq, _ = self.qweights()
            y = F.conv2d(x, wq, bq, stride=self.stride, padding=self.k // 2)
            y = quantize_act(y, self.fa_out)
        if self.relu:
            y = F.relu(y)
        return y


class QSubpel(nn.Module):
    """Integer sub-pixel upsampling: qconv k x k to cout*r*r, pixel shuffle."""

    def __init__(self, cin, cout, k=3, r=2, fa_in=0, fa_out=6, relu=True):
        super().__init__()
        self.q = QConv2d(cin, cout * r * r, k, 1, fa_in, fa_out, relu)
        self.r = r

    def forward(self, x):
        return F.pixel_shuffle(self.q(x), self.r)


class LowerBound(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x)
        ctx.bound = bound
        return torch.clamp(x, min=bound)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        pass_through = (x >= ctx.bound) | (g < 0)
        return pass_through.type(g.dtype) * g, None


class GDN(nn.Module):
    """GDN / IGDN (Balle et al.): y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)
    (inverse: multiply). Non-negative reparametrization as in CompressAI."""

    def __init__(self, c, inverse=False, beta_min=1e-6, gamma_init=0.1):
        super().__init__()
        self.inverse = inverse
        self.pedestal = 2.0 ** -18
        self.beta_bound = math.sqrt(beta_min + self.pedestal)
        self.gamma_bound = math.sqrt(self.pedestal)
        self.beta = nn.Parameter(torch.sqrt(torch.ones(c) + self.pedestal))
        self.gamma = nn.Parameter(torch.sqrt(gamma_init * torch.eye(c) + self.pedestal))

    def effective(self):
        beta = LowerBound.apply(self.beta, self.beta_bound) ** 2 - self.pedestal
        gamma = LowerBound.apply(self.gamma, self.gamma_bound) ** 2 - self.pedestal
        return beta, gamma

    def forward(self, x):
        beta, gamma = self.effective()
        c = x.shape[1]
        norm = F.conv2d(x * x, gamma.view(c, c, 1, 1), beta)
        norm = torch.sqrt(norm)
        return x * norm if self.inverse else x / norm


def subpel_conv(cin, cout, k=3, r=2):
    return nn.Sequential(nn.Conv2d(cin, cout * r * r, k, padding=k // 2), nn.PixelShuffle(r))


class FactorizedDensity(nn.Module):
    """Non-parametric factorized density of Balle et al. 2018 (the
    EntropyBottleneck of CompressAI without medians): per channel, a small
    monotone network gives the CDF; likelihood of the unit interval."""

    def __init__(self, c, filters=(3, 3, 3), init_scale=10.0):
        super().__init__()
        self.c = c
        f = (1,) + tuple(filters) + (1,)
        scale = init_scale ** (1.0 / (len(filters) + 1))
        self.matrices, self.biases, self.factors = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for i in range(len(filters) + 1):
            init = math.log(math.expm1(1.0 / scale / f[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((c, f[i + 1], f[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(c, f[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(c, f[i + 1], 1)))

    def logits_cdf(self, x):
        # x: (c, 1, n)
        logits = x
        for i in range(len(self.matrices)):
            logits = torch.matmul(F.softplus(self.matrices[i]), logits) + self.biases[i]
            if i < len(self.factors):
                logits = logits + torch.tanh(self.factors[i]) * torch.tanh(logits)
        return logits

    def likelihood(self, z):
        # z: (B, c, H, W)
        b, c, h, w = z.shape
        v = z.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lower = self.logits_cdf(v - 0.5)
        upper = self.logits_cdf(v + 0.5)
        sign = -torch.sign(lower + upper).detach()
        lik = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        lik = LowerBound.apply(lik, 1e-9)
        return lik.reshape(c, b, h, w).permute(1, 0, 2, 3)

    @torch.no_grad()
    def pmf_table(self, lo, hi):
        """pmf of each channel on the integers lo..hi: (c, hi-lo+1) float64."""
        v = torch.arange(lo, hi + 1, dtype=torch.float32).view(1, 1, -1).repeat(self.c, 1, 1)
        lower = self.logits_cdf(v - 0.5)
        upper = self.logits_cdf(v + 0.5)
        sign = -torch.sign(lower + upper)
        pmf = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        return pmf.view(self.c, -1).double()


def gaussian_likelihood(y, mu, sigma):
    """P(round(y) | mu, sigma) for the unit bin around y (symmetric form)."""
    sigma = LowerBound.apply(sigma, 0.11)
    v = torch.abs(y - mu)
    upper = (0.5 - v) / sigma
    lower = (-0.5 - v) / sigma
    c = 1.0 / math.sqrt(2.0)
    lik = 0.5 * (torch.erfc(-c * upper) - torch.erfc(-c * lower))
    return LowerBound.apply(lik, 1e-9)
