/*
 * The simplified attention block of Cheng et al. 2020, composed from the
 * primitive layers (so every backend runs it with its own kernels).
 */
#include <string.h>

#include "common/mem.h"
#include "nn/ops.h"

struct LvcNnAttn {
    int n;
    LvcNnLayer *ru[2][3][3];    /* [branch a/b][unit][conv] */
    LvcNnLayer *bout;           /* conv1x1 N -> N with fused sigmoid */
    /* Temporaries for the last size: two branch states, conv output, two
     * half-width intermediates. */
    LvcTensor tmp[5];
    int th, tw;
};

void lvc_nn_attn_free(LvcNn *nn, LvcNnAttn **pattn)
{
    LvcNnAttn *a;

    if (!pattn || !*pattn)
        return;
    a = *pattn;
    for (int b = 0; b < 2; b++)
        for (int u = 0; u < 3; u++)
            for (int k = 0; k < 3; k++)
                lvc_nn_layer_free(nn, &a->ru[b][u][k]);
    lvc_nn_layer_free(nn, &a->bout);
    for (int i = 0; i < 5; i++)
        lvc_nn_tensor_free(nn, &a->tmp[i]);
    lvc_freep(pattn);
}

int lvc_nn_attn_create(LvcNn *nn, int n, const LvcAttnWeights *w, LvcNnAttn **pattn)
{
    LvcNnAttn *a;
    int ret;

    if (!pattn)
        return LVC_ERR_INVALID_ARG;
    *pattn = NULL;
    if (!nn || !w || n < 2 || n % 2 || n > 4096 || !w->b_out_w)
        return LVC_ERR_INVALID_ARG;
    a = lvc_calloc(1, sizeof(*a));
    if (!a)
        return LVC_ERR_NOMEM;
    a->n = n;
    for (int b = 0; b < 2; b++)
        for (int u = 0; u < 3; u++) {
            /* N -> N/2 (1x1, relu), N/2 -> N/2 (3x3 pad 1, relu), N/2 -> N. */
            static const int k[3] = { 1, 3, 1 };
            const int cin[3] = { n, n / 2, n / 2 }, cout[3] = { n / 2, n / 2, n };
            for (int c = 0; c < 3; c++) {
                LvcConvParams p;
                const float *ww = b ? w->b_w[u][c] : w->a_w[u][c];
                const float *bb = b ? w->b_b[u][c] : w->a_b[u][c];
                lvc_conv_params_init(&p, cin[c], cout[c], k[c], k[c]);
                lvc_conv_params_pad(&p, k[c] / 2, k[c] / 2);
                p.act = c < 2 ? LVC_ACT_RELU : LVC_ACT_NONE;
                if ((ret = lvc_nn_conv_create(nn, &p, ww, bb, &a->ru[b][u][c])) < 0)
                    goto error;
            }
        }
    {
        LvcConvParams p;
        lvc_conv_params_init(&p, n, n, 1, 1);
        p.act = LVC_ACT_SIGMOID;
        if ((ret = lvc_nn_conv_create(nn, &p, w->b_out_w, w->b_out_b, &a->bout)) < 0)
            goto error;
    }
    *pattn = a;
    return 0;

error:
    lvc_nn_attn_free(nn, &a);
    return ret;
}

/* t = relu(t + conv3(conv2(conv1(t)))) using v, u1, u2 as temporaries. */
static int residual_unit(LvcNn *nn, LvcNnLayer *const *l, LvcTensor *t, LvcTensor *v,
                         LvcTensor *u1, LvcTensor *u2)
{
    int ret;
    if ((ret = lvc_nn_forward(nn, l[0], t, u1)) < 0 ||
        (ret = lvc_nn_forward(nn, l[1], u1, u2)) < 0 ||
        (ret = lvc_nn_forward(nn, l[2], u2, v)) < 0 ||
        (ret = lvc_nn_add(nn, t, v, t)) < 0)
        return ret;
    return lvc_nn_act(nn, t, t, LVC_ACT_RELU, 0.0f);
}

int lvc_nn_attn_forward(LvcNn *nn, LvcNnAttn *a, const LvcTensor *x, LvcTensor *y)
{
    LvcTensor *ta = &a->tmp[0], *tb = &a->tmp[1], *v = &a->tmp[2];
    int ret;

    if (!nn || !a || !x || !y || x->dtype != LVC_NN_F32 || x->c != a->n ||
        y->c != a->n || y->h != x->h || y->w != x->w || y->dtype != LVC_NN_F32 ||
        x->data == y->data)
        return LVC_ERR_INVALID_ARG;
    if (a->th != x->h || a->tw != x->w) {
        for (int i = 0; i < 5; i++)
            lvc_nn_tensor_free(nn, &a->tmp[i]);
        a->th = a->tw = 0;
        for (int i = 0; i < 5; i++)
            if ((ret = lvc_nn_tensor_alloc(nn, &a->tmp[i], i < 3 ? a->n : a->n / 2,
                                           x->h, x->w, LVC_NN_F32, 0)) < 0)
                return ret;
        a->th = x->h;
        a->tw = x->w;
    }
    if ((ret = lvc_nn_copy(nn, x, ta)) < 0 || (ret = lvc_nn_copy(nn, x, tb)) < 0)
        return ret;
    for (int u = 0; u < 3; u++) {
        if ((ret = residual_unit(nn, a->ru[0][u], ta, v, &a->tmp[3], &a->tmp[4])) < 0 ||
            (ret = residual_unit(nn, a->ru[1][u], tb, v, &a->tmp[3], &a->tmp[4])) < 0)
            return ret;
    }
    if ((ret = lvc_nn_forward(nn, a->bout, tb, v)) < 0 ||   /* sigmoid(b) */
        (ret = lvc_nn_mul(nn, ta, v, v)) < 0)
        return ret;
    return lvc_nn_add(nn, v, x, y);
}
