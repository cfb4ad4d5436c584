/*
 * lvcrd: PSNR and MS-SSIM. See rd_metrics.h for the exact definitions; the
 * MS-SSIM fixtures in tests/rd were produced by tools/msssim_ref.py, an
 * independent PyTorch transcription of pytorch-msssim.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "lvc/lvc.h"
#include "apps/lvcrd/rd_metrics.h"

#define WIN 11
#define NSCALES 5

static const double msssim_weights[NSCALES] = {
    0.0448, 0.2856, 0.3001, 0.2363, 0.1333
};

double lvcrd_mse_rgb(const uint8_t *a, size_t stride_a, const uint8_t *b,
                     size_t stride_b, int w, int h)
{
    double sum = 0.0;
    if (w <= 0 || h <= 0)
        return 0.0;
    for (int y = 0; y < h; y++) {
        const uint8_t *ra = a + (size_t)y * stride_a;
        const uint8_t *rb = b + (size_t)y * stride_b;
        /* Integer per row: exact, and 3*w*255^2 fits easily in 64 bits. */
        uint64_t row = 0;
        for (int x = 0; x < 3 * w; x++) {
            const int d = (int)ra[x] - (int)rb[x];
            row += (uint64_t)(d * d);
        }
        sum += (double)row;
    }
    return sum / (3.0 * (double)w * (double)h);
}

double lvcrd_mse_y(const uint8_t *a, size_t stride_a, const uint8_t *b,
                   size_t stride_b, int w, int h)
{
    double sum = 0.0;
    if (w <= 0 || h <= 0)
        return 0.0;
    for (int y = 0; y < h; y++) {
        const uint8_t *ra = a + (size_t)y * stride_a;
        const uint8_t *rb = b + (size_t)y * stride_b;
        double row = 0.0;
        for (int x = 0; x < w; x++) {
            /* Difference of the luma values, by linearity the luma of the
             * difference. */
            const double d = 0.299 * ((int)ra[3 * x] - (int)rb[3 * x]) +
                             0.587 * ((int)ra[3 * x + 1] - (int)rb[3 * x + 1]) +
                             0.114 * ((int)ra[3 * x + 2] - (int)rb[3 * x + 2]);
            row += d * d;
        }
        sum += row;
    }
    return sum / ((double)w * (double)h);
}

double lvcrd_psnr_from_mse(double mse)
{
    if (!(mse > 0.0))
        return LVC_RD_PSNR_MAX;
    const double p = 10.0 * log10(255.0 * 255.0 / mse);
    return p > LVC_RD_PSNR_MAX ? LVC_RD_PSNR_MAX : p;
}

double lvcrd_msssim_db(double msssim)
{
    if (!(msssim < 1.0))
        return LVC_RD_PSNR_MAX;
    const double d = -10.0 * log10(1.0 - msssim);
    return d > LVC_RD_PSNR_MAX ? LVC_RD_PSNR_MAX : d;
}

static void gauss_window(double g[WIN])
{
    double sum = 0.0;
    for (int i = 0; i < WIN; i++) {
        const double c = (double)(i - WIN / 2);
        g[i] = exp(-(c * c) / (2.0 * 1.5 * 1.5));
        sum += g[i];
    }
    for (int i = 0; i < WIN; i++)
        g[i] /= sum;
}

/* SSIM and contrast-structure means of one channel at one scale.
 * x, y: w*h planes. tmp: 5 planes of h*ow doubles (horizontally filtered
 * x, y, x^2, y^2, xy). A side shorter than the window is left unfiltered. */
static void ssim_scale(const double *x, const double *y, int w, int h,
                       const double *g, double *tmp, double *ssim, double *cs)
{
    const int fw = w >= WIN, fh = h >= WIN;
    const int ow = fw ? w - WIN + 1 : w;
    const int oh = fh ? h - WIN + 1 : h;
    const size_t plane = (size_t)h * (size_t)ow;
    double *t0 = tmp, *t1 = tmp + plane, *t2 = tmp + 2 * plane;
    double *t3 = tmp + 3 * plane, *t4 = tmp + 4 * plane;
    const double c1 = (0.01 * 255.0) * (0.01 * 255.0);
    const double c2 = (0.03 * 255.0) * (0.03 * 255.0);

    for (int r = 0; r < h; r++) {
        const double *xr = x + (size_t)r * w, *yr = y + (size_t)r * w;
        for (int c = 0; c < ow; c++) {
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
            if (fw) {
                for (int k = 0; k < WIN; k++) {
                    const double a = xr[c + k], b = yr[c + k];
                    s0 += g[k] * a;
                    s1 += g[k] * b;
                    s2 += g[k] * (a * a);
                    s3 += g[k] * (b * b);
                    s4 += g[k] * (a * b);
                }
            } else {
                const double a = xr[c], b = yr[c];
                s0 = a; s1 = b; s2 = a * a; s3 = b * b; s4 = a * b;
            }
            const size_t i = (size_t)r * ow + c;
            t0[i] = s0; t1[i] = s1; t2[i] = s2; t3[i] = s3; t4[i] = s4;
        }
    }

    double sum_ssim = 0.0, sum_cs = 0.0;
    for (int r = 0; r < oh; r++) {
        double row_ssim = 0.0, row_cs = 0.0;
        for (int c = 0; c < ow; c++) {
            double mu1 = 0, mu2 = 0, exx = 0, eyy = 0, exy = 0;
            if (fh) {
                for (int k = 0; k < WIN; k++) {
                    const size_t i = (size_t)(r + k) * ow + c;
                    mu1 += g[k] * t0[i];
                    mu2 += g[k] * t1[i];
                    exx += g[k] * t2[i];
                    eyy += g[k] * t3[i];
                    exy += g[k] * t4[i];
                }
            } else {
                const size_t i = (size_t)r * ow + c;
                mu1 = t0[i]; mu2 = t1[i]; exx = t2[i]; eyy = t3[i]; exy = t4[i];
            }
            const double mu1_sq = mu1 * mu1, mu2_sq = mu2 * mu2, mu12 = mu1 * mu2;
            const double s11 = exx - mu1_sq, s22 = eyy - mu2_sq, s12 = exy - mu12;
            const double csv = (2.0 * s12 + c2) / (s11 + s22 + c2);
            row_cs += csv;
            row_ssim += (2.0 * mu12 + c1) / (mu1_sq + mu2_sq + c1) * csv;
        }
        sum_ssim += row_ssim;
        sum_cs += row_cs;
    }
    const double n = (double)ow * (double)oh;
    *ssim = sum_ssim / n;
    *cs = sum_cs / n;
}

/* torch.nn.functional.avg_pool2d(kernel 2, padding = size % 2,
 * count_include_pad = True): output side floor(s / 2) + (s % 2). */
static void avg_pool(const double *in, int w, int h, double *out, int *ow_out,
                     int *oh_out)
{
    const int pw = w % 2, ph = h % 2;
    const int ow = w / 2 + pw, oh = h / 2 + ph;
    for (int r = 0; r < oh; r++) {
        for (int c = 0; c < ow; c++) {
            double s = 0.0;
            for (int dy = 0; dy < 2; dy++) {
                const int yy = 2 * r - ph + dy;
                if (yy < 0 || yy >= h)
                    continue;
                for (int dx = 0; dx < 2; dx++) {
                    const int xx = 2 * c - pw + dx;
                    if (xx >= 0 && xx < w)
                        s += in[(size_t)yy * w + xx];
                }
            }
            out[(size_t)r * ow + c] = s / 4.0;
        }
    }
    *ow_out = ow;
    *oh_out = oh;
}

int lvcrd_msssim_rgb(const uint8_t *a, size_t stride_a, const uint8_t *b,
                     size_t stride_b, int w, int h, double *out)
{
    if (!a || !b || !out || w <= 0 || h <= 0)
        return LVC_ERR_INVALID_ARG;
    const size_t n = (size_t)w * (size_t)h;
    /* Planes: x, y, pooled x, pooled y, and 5 filter temporaries. */
    if (n > SIZE_MAX / sizeof(double) / 9)
        return LVC_ERR_NOMEM;
    double *mem = malloc(9 * n * sizeof(double));
    if (!mem)
        return LVC_ERR_NOMEM;
    double g[WIN];
    gauss_window(g);

    double total = 0.0;
    for (int ch = 0; ch < 3; ch++) {
        double *x = mem, *y = mem + n, *px = mem + 2 * n, *py = mem + 3 * n;
        double *tmp = mem + 4 * n;
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                x[(size_t)r * w + c] = a[(size_t)r * stride_a + 3 * (size_t)c + ch];
                y[(size_t)r * w + c] = b[(size_t)r * stride_b + 3 * (size_t)c + ch];
            }
        }
        int cw = w, chh = h;
        double value = 1.0;
        for (int s = 0; s < NSCALES; s++) {
            double ssim, cs;
            ssim_scale(x, y, cw, chh, g, tmp, &ssim, &cs);
            const double v = s < NSCALES - 1 ? cs : ssim;
            value *= pow(v > 0.0 ? v : 0.0, msssim_weights[s]);
            if (s < NSCALES - 1) {
                int nw, nh;
                avg_pool(x, cw, chh, px, &nw, &nh);
                avg_pool(y, cw, chh, py, &nw, &nh);
                double *t = x; x = px; px = t;
                t = y; y = py; py = t;
                cw = nw;
                chh = nh;
            }
        }
        total += value;
    }
    free(mem);
    *out = total / 3.0;
    return 0;
}
