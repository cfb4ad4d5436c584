/*
 * Parity with PyTorch: runs every fixture of tests/nn/fixtures (written by
 * gen_fixtures.py, read through the .lvcm loader) on ref and cpu.
 * Float ops: |out - torch| <= 1e-5 * (1 + max|torch|) (the fixtures are small:
 * K <= 150 terms); integer ops: exact.
 * Usage: test_parity FIXTURE_DIR
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/modelfile.h"
#include "nn/nn.h"

static const char *fixture_dir;

static int meta_i(LvcModelFile *mf, const char *k)
{
    int64_t v = 0;
    ck_assert_msg(lvc_modelfile_meta_int(mf, k, &v) == 0, "missing meta %s", k);
    return (int)v;
}

static const float *tf(LvcModelFile *mf, const char *name, const LvcModelTensor **t)
{
    const float *p = NULL;
    *t = lvc_modelfile_find(mf, name);
    ck_assert_msg(*t != NULL, "missing tensor %s", name);
    ck_assert_int_eq(lvc_modelfile_get_f32(mf, name, (*t)->ndim, NULL, &p), 0);
    return p;
}

static LvcNnAct act_of(const char *s)
{
    if (!strcmp(s, "relu")) return LVC_ACT_RELU;
    if (!strcmp(s, "leaky")) return LVC_ACT_LEAKY_RELU;
    if (!strcmp(s, "gelu")) return LVC_ACT_GELU;
    if (!strcmp(s, "sigmoid")) return LVC_ACT_SIGMOID;
    return LVC_ACT_NONE;
}

/* Attention weights from the CompressAI state-dict names. */
static void attn_weights(LvcModelFile *mf, LvcAttnWeights *w)
{
    static const int conv_idx[3] = { 0, 2, 4 };
    char name[96];
    const LvcModelTensor *t;
    for (int br = 0; br < 2; br++)
        for (int u = 0; u < 3; u++)
            for (int c = 0; c < 3; c++) {
                snprintf(name, sizeof(name), "conv_%c.%d.conv.%d.weight", br ? 'b' : 'a', u,
                         conv_idx[c]);
                (br ? w->b_w : w->a_w)[u][c] = tf(mf, name, &t);
                snprintf(name, sizeof(name), "conv_%c.%d.conv.%d.bias", br ? 'b' : 'a', u,
                         conv_idx[c]);
                (br ? w->b_b : w->a_b)[u][c] = tf(mf, name, &t);
            }
    w->b_out_w = tf(mf, "conv_b.3.weight", &t);
    w->b_out_b = tf(mf, "conv_b.3.bias", &t);
}

static void run_fixture(const char *path, LvcBackend be, int threads)
{
    LvcModelFile *mf = NULL;
    LvcNn *nn = NULL;
    LvcNnLayer *l = NULL;
    LvcNnAttn *attn = NULL;
    const LvcModelTensor *tx, *ty, *tw;
    const char *op, *s;
    LvcTensor x, y;
    void *out;
    int ret, is_int;
    LvcNnDType dt;
    int yc, yh, yw;

    ck_assert_msg(lvc_modelfile_open_path(path, &mf) == 0, "cannot open %s", path);
    ck_assert_int_eq(lvc_modelfile_meta_str(mf, "op", &op), 0);
    ck_assert_int_eq(lvc_nn_open(&nn, be, threads), 0);
    is_int = !strcmp(op, "qconv");
    dt = is_int ? LVC_NN_I16 : LVC_NN_F32;
    tx = lvc_modelfile_find(mf, "x");
    ty = lvc_modelfile_find(mf, "y");
    ck_assert(tx && ty);
    if (tx->ndim == 3) {
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, (int)tx->shape[0], (int)tx->shape[1],
                                             (int)tx->shape[2], dt, 0), 0);
        yc = (int)ty->shape[0]; yh = (int)ty->shape[1]; yw = (int)ty->shape[2];
    } else {   /* linear: rows x features */
        ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &x, 1, (int)tx->shape[0], (int)tx->shape[1],
                                             dt, 0), 0);
        yc = 1; yh = (int)ty->shape[0]; yw = (int)ty->shape[1];
    }
    ck_assert_int_eq(lvc_nn_tensor_alloc(nn, &y, yc, yh, yw, dt, 0), 0);
    if (is_int) {
        ck_assert_int_eq(lvc_nn_tensor_write(nn, &x, tx->data), 0);
    } else {
        const float *px;
        ck_assert_int_eq(lvc_modelfile_get_f32(mf, "x", tx->ndim, NULL, &px), 0);
        ck_assert_int_eq(lvc_nn_tensor_write(nn, &x, px), 0);
    }

    if (!strcmp(op, "conv") || !strcmp(op, "convt")) {
        LvcConvParams p;
        const float *w = tf(mf, "w", &tw), *b = tf(mf, "b", &ty);
        int t = !strcmp(op, "convt");
        int g = meta_i(mf, "groups");
        int k = meta_i(mf, "k");
        lvc_conv_params_init(&p, x.c, yc, k, k);
        p.groups = g;
        p.stride_h = p.stride_w = meta_i(mf, "stride");
        p.dil_h = p.dil_w = meta_i(mf, "dil");
        if (t) {
            lvc_conv_params_pad(&p, meta_i(mf, "pad"), meta_i(mf, "pad"));
            p.out_pad_h = p.out_pad_w = meta_i(mf, "out_pad");
            ret = lvc_nn_convt_create(nn, &p, w, b, &l);
        } else {
            const void *mask = NULL;
            p.pad_top = meta_i(mf, "pad_t");
            p.pad_bottom = meta_i(mf, "pad_b");
            p.pad_left = meta_i(mf, "pad_l");
            p.pad_right = meta_i(mf, "pad_r");
            ck_assert_int_eq(lvc_modelfile_meta_str(mf, "act", &s), 0);
            p.act = act_of(s);
            p.act_param = 0.125f;
            if (lvc_modelfile_find(mf, "mask")) {
                int shape[2] = { k, k };
                ck_assert_int_eq(lvc_modelfile_get(mf, "mask", LVC_MT_U8, 2, shape, &mask), 0);
                p.mask = mask;
            }
            ret = lvc_nn_conv_create(nn, &p, w, b, &l);
        }
        ck_assert_int_eq(ret, 0);
        ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), 0);
    } else if (!strcmp(op, "qconv")) {
        LvcQConvParams q;
        const void *w, *b, *mask = NULL;
        int k = meta_i(mf, "k");
        memset(&q, 0, sizeof(q));
        lvc_conv_params_init(&q.conv, x.c, yc, k, k);
        q.conv.stride_h = q.conv.stride_w = meta_i(mf, "stride");
        lvc_conv_params_pad(&q.conv, meta_i(mf, "pad"), meta_i(mf, "pad"));
        q.conv.groups = meta_i(mf, "groups");
        q.wbits = meta_i(mf, "wbits");
        q.fw = meta_i(mf, "fw");
        q.fa_in = meta_i(mf, "fa_in");
        q.fa_out = meta_i(mf, "fa_out");
        ck_assert_int_eq(lvc_modelfile_meta_str(mf, "act", &s), 0);
        q.act = act_of(s);
        q.act_param = 3;
        ck_assert_int_eq(lvc_modelfile_get(mf, "w", q.wbits == 8 ? LVC_MT_I8 : LVC_MT_I16, 4,
                                           NULL, &w), 0);
        ck_assert_int_eq(lvc_modelfile_get(mf, "b", LVC_MT_I32, 1, NULL, &b), 0);
        if (lvc_modelfile_get(mf, "mask", LVC_MT_U8, 2, NULL, &mask) == 0)
            q.conv.mask = mask;
        ck_assert_int_eq(lvc_nn_qconv_create(nn, &q, w, b, &l), 0);
        x.frac = q.fa_in;
        ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), 0);
    } else if (!strcmp(op, "gdn")) {
        static const char *const kinds[] = { "gdn", "igdn", "gdn_simple", "igdn_simple" };
        int kind = -1;
        const float *beta = tf(mf, "beta", &tw), *gamma = tf(mf, "gamma", &tw);
        ck_assert_int_eq(lvc_modelfile_meta_str(mf, "kind", &s), 0);
        for (int i = 0; i < 4; i++)
            if (!strcmp(s, kinds[i]))
                kind = i;
        ck_assert_int_ge(kind, 0);
        ck_assert_int_eq(lvc_nn_gdn_create(nn, (LvcGdnKind)kind, x.c, beta, gamma, &l), 0);
        ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), 0);
    } else if (!strcmp(op, "shuffle")) {
        ck_assert_int_eq(lvc_nn_pixel_shuffle(nn, &x, meta_i(mf, "r"), &y), 0);
    } else if (!strcmp(op, "unshuffle")) {
        ck_assert_int_eq(lvc_nn_pixel_unshuffle(nn, &x, meta_i(mf, "r"), &y), 0);
    } else if (!strcmp(op, "upsample")) {
        ck_assert_int_eq(lvc_modelfile_meta_str(mf, "mode", &s), 0);
        ret = !strcmp(s, "bilinear") ? lvc_nn_upsample_bilinear(nn, &x, meta_i(mf, "r"), &y)
                                     : lvc_nn_upsample_nearest(nn, &x, meta_i(mf, "r"), &y);
        ck_assert_int_eq(ret, 0);
    } else if (!strcmp(op, "linear")) {
        const float *w = tf(mf, "w", &tw), *b = tf(mf, "b", &ty);
        ck_assert_int_eq(lvc_modelfile_meta_str(mf, "act", &s), 0);
        ck_assert_int_eq(lvc_nn_linear_create(nn, x.w, yw, w, b, act_of(s), 0.0f, &l), 0);
        ck_assert_int_eq(lvc_nn_forward(nn, l, &x, &y), 0);
    } else if (!strcmp(op, "attn")) {
        LvcAttnWeights aw;
        attn_weights(mf, &aw);
        ck_assert_int_eq(lvc_nn_attn_create(nn, meta_i(mf, "n"), &aw, &attn), 0);
        ck_assert_int_eq(lvc_nn_attn_forward(nn, attn, &x, &y), 0);
    } else {
        ck_abort_msg("unknown op %s in %s", op, path);
    }

    out = malloc(lvc_tensor_bytes(&y));
    ck_assert_int_eq(lvc_nn_tensor_read(nn, &y, out), 0);
    ty = lvc_modelfile_find(mf, "y");
    ck_assert_uint_eq(ty->nelems, lvc_tensor_elems(&y));
    if (is_int) {
        ck_assert_msg(!memcmp(out, ty->data, ty->nbytes), "%s: integer mismatch (%s)", path,
                      lvc_nn_backend_name(be));
    } else {
        const float *ref;
        double mx = 0, err = 0;
        ck_assert_int_eq(lvc_modelfile_get_f32(mf, "y", ty->ndim, NULL, &ref), 0);
        for (size_t i = 0; i < ty->nelems; i++)
            mx = fmax(mx, fabs(ref[i]));
        for (size_t i = 0; i < ty->nelems; i++)
            err = fmax(err, fabs((double)((float *)out)[i] - ref[i]));
        ck_assert_msg(err <= 1e-5 * (1.0 + mx), "%s (%s): max error %g (max |y| %g)", path,
                      lvc_nn_backend_name(be), err, mx);
    }
    free(out);
    lvc_nn_attn_free(nn, &attn);
    lvc_nn_layer_free(nn, &l);
    lvc_nn_tensor_free(nn, &x);
    lvc_nn_tensor_free(nn, &y);
    lvc_nn_close(&nn);
    lvc_modelfile_close(&mf);
}

START_TEST(test_fixtures)
{
    DIR *d = opendir(fixture_dir);
    struct dirent *e;
    int n = 0;
    ck_assert_msg(d != NULL, "no fixture dir %s", fixture_dir);
    while ((e = readdir(d))) {
        char path[4096];
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".lvcm"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", fixture_dir, e->d_name);
        run_fixture(path, LVC_BACKEND_REF, 1);
        if (lvc_nn_backend_available(LVC_BACKEND_CPU))
            run_fixture(path, LVC_BACKEND_CPU, 2);
        if (lvc_nn_backend_available(LVC_BACKEND_CUDA))
            run_fixture(path, LVC_BACKEND_CUDA, 1);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 20);
    printf("%d PyTorch fixtures matched\n", n);
}
END_TEST

int main(int argc, char **argv)
{
    Suite *s = suite_create("nn_parity");
    TCase *tc = tcase_create("pytorch");
    SRunner *sr;
    int failed;

    fixture_dir = argc > 1 ? argv[1] : "tests/nn/fixtures";
    tcase_add_test(tc, test_fixtures);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
