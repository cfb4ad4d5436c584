/*
 * .lvcm loader (doc/model-file.md). Everything is validated in open; the
 * accessors then trust the parsed table.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/mem.h"
#include "common/sha256.h"
#include "models/modelfile.h"

static const uint8_t lvcm_magic[8] = { 'L', 'V', 'C', 'M', 0x0d, 0x0a, 0x1a, 0x0a };

typedef struct MetaEntry {
    char *key, *val;           /* NUL-terminated copies (in mf->meta_buf) */
} MetaEntry;

struct LvcModelFile {
    const uint8_t *buf;
    size_t size;
    void *map;                 /* mmap base when opened from a path */
    size_t map_size;
    uint8_t hash[32];
    int ntensors;
    LvcModelTensor *t;
    float **cache;             /* per-tensor f32 conversions (get_f32) */
    int nmeta;
    MetaEntry *meta;
    char *meta_buf;
    LvcModelFile *base;        /* trunk (borrowed), lvc_modelfile_set_base */
};

size_t lvc_model_dtype_size(LvcModelDType dt)
{
    switch (dt) {
    case LVC_MT_F32: case LVC_MT_I32: case LVC_MT_U32: return 4;
    case LVC_MT_F16: case LVC_MT_I16: case LVC_MT_U16: return 2;
    case LVC_MT_I8:  case LVC_MT_U8:                   return 1;
    }
    return 0;
}

const char *lvc_model_dtype_name(LvcModelDType dt)
{
    static const char *const names[] = { "?", "f32", "f16", "i8", "i16", "i32", "u8",
                                         "u16", "u32" };
    return (unsigned)dt <= LVC_MT_U32 ? names[dt] : "?";
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

float lvc_f16_to_f32(uint16_t h)
{
    const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);                    /* zero, subnormal */
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 1024), e - 25);
    return s ? -v : v;
}

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int key_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        int len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
        else return 0;
        if (n - i < (size_t)len)
            return 0;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += (size_t)len;
    }
    return 1;
}

/* Parse "key=value\n" lines: keys of [A-Za-z0-9_.-], strictly increasing
 * (bytewise), values without NUL or newline, valid UTF-8. */
static int parse_meta(LvcModelFile *mf, const uint8_t *p, size_t n)
{
    int lines = 0, k = 0;
    char *q;

    if (!n)
        return 0;
    if (p[n - 1] != '\n' || !valid_utf8(p, n) || memchr(p, 0, n))
        return LVC_ERR_MODEL_FILE;
    for (size_t i = 0; i < n; i++)
        lines += p[i] == '\n';
    mf->meta_buf = lvc_malloc(n);
    mf->meta = lvc_calloc((size_t)lines, sizeof(*mf->meta));
    if (!mf->meta_buf || !mf->meta)
        return LVC_ERR_NOMEM;
    memcpy(mf->meta_buf, p, n);
    q = mf->meta_buf;
    while (k < lines) {
        char *nl = memchr(q, '\n', n - (size_t)(q - mf->meta_buf));
        char *eq = memchr(q, '=', (size_t)(nl - q));
        if (!eq || eq == q)
            return LVC_ERR_MODEL_FILE;
        for (char *c = q; c < eq; c++)
            if (!key_char((uint8_t)*c))
                return LVC_ERR_MODEL_FILE;
        *eq = 0;
        *nl = 0;
        mf->meta[k].key = q;
        mf->meta[k].val = eq + 1;
        if (k > 0 && strcmp(mf->meta[k - 1].key, q) >= 0)
            return LVC_ERR_MODEL_FILE;
        k++;
        q = nl + 1;
    }
    mf->nmeta = lines;
    return 0;
}

/* Buffers declared immutable by lvc_modelfile_add_static, and whether their
 * hash has been checked already in this process. */
#define MAX_STATIC 16
static struct {
    const uint8_t *buf;
    size_t size;
    int verified;
} statics[MAX_STATIC];
static int num_statics;
static pthread_mutex_t statics_lock = PTHREAD_MUTEX_INITIALIZER;

int lvc_modelfile_add_static(const uint8_t *buf, size_t size, int verified)
{
    int ret = 0;
    if (!buf)
        return LVC_ERR_INVALID_ARG;
    pthread_mutex_lock(&statics_lock);
    for (int i = 0; i < num_statics; i++)
        if (statics[i].buf == buf && statics[i].size == size)
            goto end;
    if (num_statics == MAX_STATIC) {
        ret = LVC_ERR_LIMIT;
        goto end;
    }
    statics[num_statics].buf = buf;
    statics[num_statics].size = size;
    statics[num_statics].verified = !!verified;
    num_statics++;
end:
    pthread_mutex_unlock(&statics_lock);
    return ret;
}

/* Index of the static buffer (buf, size), or -1; *verified tells whether
 * its hash was already checked. */
static int find_static(const uint8_t *buf, size_t size, int *verified)
{
    int idx = -1;
    pthread_mutex_lock(&statics_lock);
    for (int i = 0; i < num_statics; i++)
        if (statics[i].buf == buf && statics[i].size == size) {
            idx = i;
            *verified = statics[i].verified;
            break;
        }
    pthread_mutex_unlock(&statics_lock);
    return idx;
}

static void set_static_verified(int idx)
{
    pthread_mutex_lock(&statics_lock);
    statics[idx].verified = 1;
    pthread_mutex_unlock(&statics_lock);
}

static int parse(LvcModelFile *mf, int verify)
{
    const uint8_t *b = mf->buf;
    const size_t size = mf->size;
    uint64_t file_size, meta_off, meta_size, table_off, data_off, data_size, expect, pos;
    uint32_t count;
    uint8_t digest[32];
    int ret;

    if (size < 8)
        return memcmp(b, lvcm_magic, size) ? LVC_ERR_BAD_MAGIC : LVC_ERR_TRUNCATED;
    if (memcmp(b, lvcm_magic, 8))
        return LVC_ERR_BAD_MAGIC;
    if (size < 12)
        return LVC_ERR_TRUNCATED;
    if (rd32(b + 8) != LVC_MODELFILE_VERSION)
        return LVC_ERR_VERSION;
    if (size < LVC_MODELFILE_HEADER_SIZE)
        return LVC_ERR_TRUNCATED;
    file_size = rd64(b + 16);
    if (file_size < LVC_MODELFILE_HEADER_SIZE + 32)
        return LVC_ERR_MODEL_FILE;
    if (size < file_size)
        return LVC_ERR_TRUNCATED;
    if (size > file_size)
        return LVC_ERR_MODEL_FILE;           /* trailing bytes */

    /* The hash covers everything else, so check it before trusting any
     * field: a flipped byte anywhere is reported as a hash mismatch.
     * Unverified, the trailer is taken as the hash; the structural checks
     * below still keep every access inside the buffer. */
    if (verify) {
        lvc_sha256(b, size - 32, digest);
        if (memcmp(digest, b + size - 32, 32))
            return LVC_ERR_CRC;
    } else {
        memcpy(digest, b + size - 32, 32);
    }
    memcpy(mf->hash, digest, 32);

    /* Canonical layout: header, metadata, table (8-aligned), data
     * (64-aligned), trailer. Every offset is implied, so overlaps and gaps
     * are impossible once they match. */
    if (rd32(b + 12) != LVC_MODELFILE_HEADER_SIZE || rd32(b + 52) != 0)
        return LVC_ERR_MODEL_FILE;
    meta_off = rd64(b + 24);
    meta_size = rd64(b + 32);
    table_off = rd64(b + 40);
    count = rd32(b + 48);
    data_off = rd64(b + 56);
    if (meta_off != LVC_MODELFILE_HEADER_SIZE || meta_size > LVC_MODELFILE_MAX_META ||
        count > LVC_MODELFILE_MAX_TENSORS)
        return LVC_ERR_MODEL_FILE;
    if (table_off != align_up(meta_off + meta_size, 8))
        return LVC_ERR_MODEL_FILE;
    expect = align_up(table_off + (uint64_t)count * LVC_MODELFILE_ENTRY_SIZE,
                      LVC_MODELFILE_ALIGN);
    if (data_off != expect || data_off > file_size - 32)
        return LVC_ERR_MODEL_FILE;
    data_size = file_size - 32 - data_off;
    if (!all_zero(b + meta_off + meta_size, table_off - meta_off - meta_size) ||
        !all_zero(b + table_off + (size_t)count * LVC_MODELFILE_ENTRY_SIZE,
                  data_off - table_off - (size_t)count * LVC_MODELFILE_ENTRY_SIZE))
        return LVC_ERR_MODEL_FILE;

    if ((ret = parse_meta(mf, b + meta_off, (size_t)meta_size)) < 0)
        return ret;

    mf->t = lvc_calloc(count ? count : 1, sizeof(*mf->t));
    mf->cache = lvc_calloc(count ? count : 1, sizeof(*mf->cache));
    if (!mf->t || !mf->cache)
        return LVC_ERR_NOMEM;
    pos = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = b + table_off + (size_t)i * LVC_MODELFILE_ENTRY_SIZE;
        LvcModelTensor *t = &mf->t[i];
        size_t nlen = strnlen((const char *)e, LVC_MODELFILE_NAME_MAX + 1);
        uint64_t off, nbytes, elems = 1, es;

        if (nlen == 0 || nlen > LVC_MODELFILE_NAME_MAX ||
            !all_zero(e + nlen, 88 - nlen) || !valid_utf8(e, nlen))
            return LVC_ERR_MODEL_FILE;
        t->name = (const char *)e;
        if (i > 0 && strcmp(mf->t[i - 1].name, t->name) >= 0)
            return LVC_ERR_MODEL_FILE;       /* unsorted or duplicate */
        t->dtype = (LvcModelDType)rd32(e + 88);
        es = lvc_model_dtype_size(t->dtype);
        t->ndim = (int)rd32(e + 92);
        if (!es || rd32(e + 92) > 4)
            return LVC_ERR_MODEL_FILE;
        for (int d = 0; d < 4; d++) {
            t->shape[d] = rd32(e + 96 + 4 * d);
            if (d < t->ndim) {
                if (t->shape[d] == 0 || elems > UINT64_MAX / t->shape[d])
                    return LVC_ERR_MODEL_FILE;
                elems *= t->shape[d];
            } else if (t->shape[d] != 0) {
                return LVC_ERR_MODEL_FILE;
            }
        }
        off = rd64(e + 112);
        nbytes = rd64(e + 120);
        if (elems > data_size / es || nbytes != elems * es)
            return LVC_ERR_MODEL_FILE;
        /* Data in table order, each at the next 64-byte boundary, padding
         * zero. */
        if (off != pos || off > data_size || nbytes > data_size - off)
            return LVC_ERR_MODEL_FILE;
        pos = align_up(off + nbytes, LVC_MODELFILE_ALIGN);
        if (pos > data_size || !all_zero(b + data_off + off + nbytes, pos - off - nbytes))
            return LVC_ERR_MODEL_FILE;
        t->nelems = elems;
        t->nbytes = (size_t)nbytes;
        t->data = b + data_off + off;
    }
    if (pos != data_size)
        return LVC_ERR_MODEL_FILE;
    mf->ntensors = (int)count;
    return 0;
}

int lvc_modelfile_open_mem_flags(const uint8_t *buf, size_t size, unsigned flags,
                                 LvcModelFile **pmf)
{
    LvcModelFile *mf;
    int ret, verify = 1, verified = 0, sidx = -1;

    if (!pmf)
        return LVC_ERR_INVALID_ARG;
    *pmf = NULL;
    if ((!buf && size) || (flags & ~(unsigned)LVC_MODELFILE_NO_VERIFY))
        return LVC_ERR_INVALID_ARG;
    if (flags & LVC_MODELFILE_NO_VERIFY) {
        verify = 0;
    } else if (buf && (sidx = find_static(buf, size, &verified)) >= 0 && verified) {
        /* Immutable and already checked in this process: hashing 13 MB on
         * every model open would only repeat the same answer. */
        verify = 0;
    }
    mf = lvc_calloc(1, sizeof(*mf));
    if (!mf)
        return LVC_ERR_NOMEM;
    mf->buf = buf ? buf : (const uint8_t *)"";
    mf->size = size;
    if ((ret = parse(mf, verify)) < 0) {
        lvc_modelfile_close(&mf);
        return ret;
    }
    if (verify && sidx >= 0)
        set_static_verified(sidx);
    *pmf = mf;
    return 0;
}

int lvc_modelfile_open_mem(const uint8_t *buf, size_t size, LvcModelFile **pmf)
{
    return lvc_modelfile_open_mem_flags(buf, size, 0, pmf);
}

int lvc_modelfile_open_path(const char *path, LvcModelFile **pmf)
{
    struct stat st;
    void *map = NULL;
    int fd, ret;

    if (!pmf)
        return LVC_ERR_INVALID_ARG;
    *pmf = NULL;
    if (!path)
        return LVC_ERR_INVALID_ARG;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return LVC_ERR_IO;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return LVC_ERR_IO;
    }
    if (st.st_size > 0) {
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return LVC_ERR_IO;
        }
    }
    close(fd);
    ret = lvc_modelfile_open_mem(map, (size_t)st.st_size, pmf);
    if (ret < 0) {
        if (map)
            munmap(map, (size_t)st.st_size);
        return ret;
    }
    (*pmf)->map = map;
    (*pmf)->map_size = (size_t)st.st_size;
    return 0;
}

void lvc_modelfile_close(LvcModelFile **pmf)
{
    LvcModelFile *mf;

    if (!pmf || !*pmf)
        return;
    mf = *pmf;
    if (mf->cache)
        for (int i = 0; i < mf->ntensors; i++)
            lvc_free(mf->cache[i]);
    lvc_free(mf->cache);
    lvc_free(mf->t);
    lvc_free(mf->meta);
    lvc_free(mf->meta_buf);
    if (mf->map)
        munmap(mf->map, mf->map_size);
    lvc_freep(pmf);
}

const uint8_t *lvc_modelfile_hash(const LvcModelFile *mf)
{
    return mf ? mf->hash : NULL;
}

int lvc_modelfile_count(const LvcModelFile *mf)
{
    return mf ? mf->ntensors : 0;
}

const LvcModelTensor *lvc_modelfile_tensor_at(const LvcModelFile *mf, int i)
{
    return mf && i >= 0 && i < mf->ntensors ? &mf->t[i] : NULL;
}

static int find_index(const LvcModelFile *mf, const char *name)
{
    int lo = 0, hi = mf->ntensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(mf->t[mid].name, name);
        if (!c)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int lvc_modelfile_is_trunk_name(const char *name)
{
    return name && (!strncmp(name, "g_a.", 4) || !strncmp(name, "g_s.", 4) ||
                    !strcmp(name, "gain") || !strcmp(name, "inv_gain"));
}

void lvc_modelfile_set_base(LvcModelFile *mf, LvcModelFile *base)
{
    if (mf)
        mf->base = base;
}

const LvcModelTensor *lvc_modelfile_find(const LvcModelFile *mf, const char *name)
{
    int i;
    if (!mf || !name)
        return NULL;
    i = find_index(mf, name);
    if (i < 0 && mf->base && lvc_modelfile_is_trunk_name(name))
        return lvc_modelfile_find(mf->base, name);
    return i < 0 ? NULL : &mf->t[i];
}

static int check_shape(const LvcModelTensor *t, int ndim, const int *shape)
{
    if (t->ndim != ndim)
        return LVC_ERR_MODEL_FILE;
    if (shape)
        for (int d = 0; d < ndim; d++)
            if (shape[d] >= 0 && (uint32_t)shape[d] != t->shape[d])
                return LVC_ERR_MODEL_FILE;
    return 0;
}

int lvc_modelfile_get(const LvcModelFile *mf, const char *name, LvcModelDType dtype,
                      int ndim, const int *shape, const void **data)
{
    const LvcModelTensor *t;
    int ret;

    if (!mf || !name || !data || ndim < 0 || ndim > 4)
        return LVC_ERR_INVALID_ARG;
    t = lvc_modelfile_find(mf, name);
    if (!t || t->dtype != dtype)
        return LVC_ERR_MODEL_FILE;
    if ((ret = check_shape(t, ndim, shape)) < 0)
        return ret;
    *data = t->data;
    return 0;
}

/* An I8 tensor NAME stands for floats with the per-output-channel scales
 * of the F32 tensor NAME.qscale (doc/model-file.md, "Quantized float
 * tensors"): value = (float)q * qscale[index / (nelems / shape[0])]. */
static int qscale_of(const LvcModelFile *mf, const LvcModelTensor *t, const LvcModelTensor **sc)
{
    char name[LVC_MODELFILE_NAME_MAX + 1];
    const int n = snprintf(name, sizeof(name), "%s.qscale", t->name);
    *sc = NULL;
    if (n < 0 || (size_t)n >= sizeof(name) || t->ndim < 1)
        return LVC_ERR_MODEL_FILE;
    const LvcModelTensor *s = lvc_modelfile_find(mf, name);
    if (!s || s->dtype != LVC_MT_F32 || s->ndim != 1 || s->shape[0] != t->shape[0])
        return LVC_ERR_MODEL_FILE;
    const uint8_t *p = s->data;
    for (uint64_t i = 0; i < s->nelems; i++) {
        const uint32_t u = rd32(p + 4 * i);
        float v;
        memcpy(&v, &u, 4);
        if (!isfinite(v))
            return LVC_ERR_MODEL_FILE;
    }
    *sc = s;
    return 0;
}

/* The values of an F32 (unaligned or on a big-endian host), F16 or (with
 * its scales) I8 tensor as floats. */
static void to_f32(const LvcModelTensor *t, const LvcModelTensor *qscale, float *out)
{
    const uint8_t *p = t->data;
    if (t->dtype == LVC_MT_I8) {
        /* one scale per output channel: a run of nelems / shape[0] values */
        const uint64_t per = t->nelems / t->shape[0];
        for (uint32_t o = 0; o < t->shape[0]; o++) {
            const uint32_t u = rd32((const uint8_t *)qscale->data + 4 * (size_t)o);
            float scale;
            memcpy(&scale, &u, 4);
            for (uint64_t i = o * per; i < (o + 1) * per; i++)
                out[i] = (float)(int8_t)p[i] * scale;
        }
        return;
    }
    for (uint64_t i = 0; i < t->nelems; i++) {
        if (t->dtype == LVC_MT_F16) {
            out[i] = lvc_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        } else {
            uint32_t u = rd32(p + 4 * i);
            memcpy(&out[i], &u, 4);
        }
    }
}

/* Check that t can be read as floats; *qscale is set for an I8 tensor. */
static int float_source(const LvcModelFile *mf, const LvcModelTensor *t,
                        const LvcModelTensor **qscale)
{
    *qscale = NULL;
    if (t->dtype == LVC_MT_F32 || t->dtype == LVC_MT_F16)
        return 0;
    if (t->dtype == LVC_MT_I8)
        return qscale_of(mf, t, qscale);
    return LVC_ERR_MODEL_FILE;
}

int lvc_modelfile_check_float(const LvcModelFile *mf, const LvcModelTensor *t)
{
    const LvcModelTensor *qscale;
    if (!mf || !t)
        return LVC_ERR_INVALID_ARG;
    return float_source(mf, t, &qscale);
}

static int in_place_ok(const LvcModelTensor *t)
{
    return t->dtype == LVC_MT_F32 && host_is_le() && ((uintptr_t)t->data & 3) == 0;
}

int lvc_modelfile_get_f32(LvcModelFile *mf, const char *name, int ndim, const int *shape,
                          const float **data)
{
    const LvcModelTensor *t;
    int i, ret;

    if (!mf || !name || !data || ndim < 0 || ndim > 4)
        return LVC_ERR_INVALID_ARG;
    i = find_index(mf, name);
    if (i < 0 && mf->base && lvc_modelfile_is_trunk_name(name))
        return lvc_modelfile_get_f32(mf->base, name, ndim, shape, data);
    if (i < 0)
        return LVC_ERR_MODEL_FILE;
    t = &mf->t[i];
    const LvcModelTensor *qscale;
    if ((ret = float_source(mf, t, &qscale)) < 0)
        return ret;
    if ((ret = check_shape(t, ndim, shape)) < 0)
        return ret;
    if (in_place_ok(t)) {
        *data = t->data;
        return 0;
    }
    if (!mf->cache[i]) {
        mf->cache[i] = lvc_malloc_array((size_t)t->nelems, sizeof(float));
        if (!mf->cache[i])
            return LVC_ERR_NOMEM;
        to_f32(t, qscale, mf->cache[i]);
    }
    *data = mf->cache[i];
    return 0;
}

int lvc_modelfile_tensor(const LvcModelFile *mf, const char *name, LvcModelDType dtype,
                         LvcModelTensor *out)
{
    const LvcModelTensor *t;

    if (!out)
        return LVC_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    if (!mf || !name)
        return LVC_ERR_INVALID_ARG;
    t = lvc_modelfile_find(mf, name);
    if (!t || t->dtype != dtype)
        return LVC_ERR_MODEL_FILE;
    *out = *t;
    out->f32 = NULL;
    out->owned = NULL;
    return 0;
}

int lvc_modelfile_tensor_f32(const LvcModelFile *mf, const char *name, LvcModelTensor *out)
{
    const LvcModelTensor *t;

    if (!out)
        return LVC_ERR_INVALID_ARG;
    memset(out, 0, sizeof(*out));
    if (!mf || !name)
        return LVC_ERR_INVALID_ARG;
    t = lvc_modelfile_find(mf, name);
    const LvcModelTensor *qscale;
    if (!t || float_source(mf, t, &qscale) < 0)
        return LVC_ERR_MODEL_FILE;
    *out = *t;
    out->owned = NULL;
    if (in_place_ok(t)) {
        out->f32 = t->data;
        return 0;
    }
    out->owned = lvc_malloc_array((size_t)t->nelems, sizeof(float));
    if (!out->owned) {
        memset(out, 0, sizeof(*out));
        return LVC_ERR_NOMEM;
    }
    to_f32(t, qscale, out->owned);
    out->f32 = out->owned;
    return 0;
}

void lvc_model_tensor_release(LvcModelTensor *t)
{
    if (!t)
        return;
    lvc_free(t->owned);
    memset(t, 0, sizeof(*t));
}

int lvc_modelfile_scalar_i32(const LvcModelFile *mf, const char *name, int32_t *val)
{
    const LvcModelTensor *t;

    if (!mf || !name || !val)
        return LVC_ERR_INVALID_ARG;
    t = lvc_modelfile_find(mf, name);
    if (!t || t->dtype != LVC_MT_I32 || t->nelems != 1)
        return LVC_ERR_MODEL_FILE;
    *val = (int32_t)rd32(t->data);
    return 0;
}

/* ------------------------------------------------------------ metadata */

static const MetaEntry *meta_find(const LvcModelFile *mf, const char *key)
{
    if (!mf || !key)
        return NULL;
    for (int i = 0; i < mf->nmeta; i++)
        if (!strcmp(mf->meta[i].key, key))
            return &mf->meta[i];
    return NULL;
}

int lvc_modelfile_meta_str(const LvcModelFile *mf, const char *key, const char **val)
{
    const MetaEntry *e = meta_find(mf, key);
    if (!val)
        return LVC_ERR_INVALID_ARG;
    if (!e)
        return LVC_ERR_MODEL_FILE;
    *val = e->val;
    return 0;
}

int lvc_modelfile_meta_int(const LvcModelFile *mf, const char *key, int64_t *val)
{
    const MetaEntry *e = meta_find(mf, key);
    const char *s;
    int neg = 0;
    uint64_t v = 0;

    if (!val)
        return LVC_ERR_INVALID_ARG;
    if (!e)
        return LVC_ERR_MODEL_FILE;
    s = e->val;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!*s)
        return LVC_ERR_MODEL_FILE;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return LVC_ERR_MODEL_FILE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return LVC_ERR_MODEL_FILE;
    *val = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int lvc_modelfile_meta_float(const LvcModelFile *mf, const char *key, double *val)
{
    const MetaEntry *e = meta_find(mf, key);
    char *end;
    double v;

    if (!val)
        return LVC_ERR_INVALID_ARG;
    if (!e)
        return LVC_ERR_MODEL_FILE;
    errno = 0;
    v = strtod(e->val, &end);
    if (end == e->val || *end || errno == ERANGE)
        return LVC_ERR_MODEL_FILE;
    *val = v;
    return 0;
}

int lvc_modelfile_meta_count(const LvcModelFile *mf)
{
    return mf ? mf->nmeta : 0;
}

int lvc_modelfile_meta_entry(const LvcModelFile *mf, int i, const char **key,
                             const char **val)
{
    if (!mf || i < 0 || i >= mf->nmeta || !key || !val)
        return LVC_ERR_INVALID_ARG;
    *key = mf->meta[i].key;
    *val = mf->meta[i].val;
    return 0;
}
