/*
 * Embedded models. Each shipped .lvcm under models/weights/ is linked into
 * the library with .incbin (see models/meson.build), so the apps need no
 * data files.
 *
 * Start-up cost: the weights hash of each file (the SHA-256 of the whole
 * .lvcm, which streams name it by) is computed at build time into
 * weights_stamp.h; on first use the registry only parses that hex and reads
 * the N/M metadata without hashing 13 MB. The blobs are declared immutable
 * to the model-file loader, which then checks each one's trailer hash once
 * per process, on its first model open, instead of on every open.
 */
#include <pthread.h>
#include <string.h>

#include "models/modelfile.h"
#include "models/registry.h"
#include "weights_stamp.h"

#define EMBED(sym, file)                                                          \
    __asm__(".section .rodata\n.balign 64\n.global " #sym "\n.hidden " #sym "\n" \
            ".type " #sym ", @object\n" #sym ":\n.incbin \"" file "\"\n"         \
            ".global " #sym "_end\n.hidden " #sym "_end\n" #sym "_end:\n"          \
            ".byte 0\n.previous\n");                                              \
    extern const uint8_t sym[];                                                   \
    extern const uint8_t sym##_end[];

#if LVC_EMBED_FACTORIZED
EMBED(lvc_weights_factorized, LVC_WEIGHTS_DIR "/factorized.lvcm")
#endif
#if LVC_EMBED_HYPERPRIOR
EMBED(lvc_weights_hyperprior, LVC_WEIGHTS_DIR "/hyperprior.lvcm")
#endif
#if LVC_EMBED_ELIC
EMBED(lvc_weights_elic, LVC_WEIGHTS_DIR "/elic.lvcm")
#endif
#if LVC_EMBED_CHECKERBOARD
EMBED(lvc_weights_checkerboard, LVC_WEIGHTS_DIR "/checkerboard.lvcm")
#endif
#if LVC_EMBED_MEANSCALE
EMBED(lvc_weights_meanscale, LVC_WEIGHTS_DIR "/meanscale.lvcm")
#endif

#if LVC_EMBED_FACTORIZED
_Static_assert(sizeof(LVC_WEIGHTS_SHA256_FACTORIZED) == 65, "weights_stamp.h");
#endif
#if LVC_EMBED_HYPERPRIOR
_Static_assert(sizeof(LVC_WEIGHTS_SHA256_HYPERPRIOR) == 65, "weights_stamp.h");
#endif
#if LVC_EMBED_ELIC
_Static_assert(sizeof(LVC_WEIGHTS_SHA256_ELIC) == 65, "weights_stamp.h");
#endif
#if LVC_EMBED_CHECKERBOARD
_Static_assert(sizeof(LVC_WEIGHTS_SHA256_CHECKERBOARD) == 65, "weights_stamp.h");
#endif
#if LVC_EMBED_MEANSCALE
_Static_assert(sizeof(LVC_WEIGHTS_SHA256_MEANSCALE) == 65, "weights_stamp.h");
#endif

static LvcRegistryEntry entries[8];
static int num_entries;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int hex_nibble(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* 64 hex digits to 32 bytes; -1 (out untouched) on anything else. */
static int parse_hash(const char *hex, uint8_t out[32])
{
    uint8_t h[32];
    for (int i = 0; i < 32; i++) {
        const int hi = hex_nibble(hex[2 * i]);
        const int lo = hi < 0 ? -1 : hex_nibble(hex[2 * i + 1]);
        if (lo < 0)
            return -1;
        h[i] = (uint8_t)(hi << 4 | lo);
    }
    if (hex[64])
        return -1;
    memcpy(out, h, 32);
    return 0;
}

static void add(const char *name, uint32_t id, LvcArch arch, const char *desc,
                const uint8_t *blob, const uint8_t *end, const char *hash_hex)
{
    LvcRegistryEntry *e = &entries[num_entries];
    e->info.name = name;
    e->info.id = id;
    e->info.description = desc;
    e->arch = arch;
    e->blob = blob;
    e->size = (size_t)(end - blob);
    /* The header is generated with the blob it describes; a malformed one
     * is a build bug, and leaving the model out beats naming it wrongly. */
    if (parse_hash(hash_hex, e->info.weights_hash) < 0)
        return;
    /* weights_stamp.sh checked this file's trailer hash when it stamped the
     * hash above, and the blob is read-only data of this library: hashing
     * 11 MB again at every process start would only repeat the answer. */
    lvc_modelfile_add_static(blob, e->size, 1);
    /* Only the metadata is needed here. */
    LvcModelFile *mf = NULL;
    int64_t N = 0, M = 0;
    if (lvc_modelfile_open_mem_flags(e->blob, e->size, LVC_MODELFILE_NO_VERIFY, &mf) == 0 &&
        lvc_modelfile_meta_int(mf, "N", &N) == 0 && lvc_modelfile_meta_int(mf, "M", &M) == 0) {
        e->info.macs_per_pixel_dec = lvc_model_macs_per_pixel(arch, (int)N, (int)M, 1);
        e->info.macs_per_pixel_enc = lvc_model_macs_per_pixel(arch, (int)N, (int)M, 0);
    }
    lvc_modelfile_close(&mf);
    num_entries++;
}

static void init(void)
{
#if LVC_EMBED_FACTORIZED
    add("factorized", LVC_MODEL_ID_FACTORIZED, LVC_ARCH_FACTORIZED,
        "factorized prior (Balle et al. 2018), variable rate",
        lvc_weights_factorized, lvc_weights_factorized_end, LVC_WEIGHTS_SHA256_FACTORIZED);
#endif
#if LVC_EMBED_HYPERPRIOR
    add("hyperprior", LVC_MODEL_ID_HYPERPRIOR, LVC_ARCH_HYPERPRIOR,
        "scale hyperprior (Balle et al. 2018), variable rate, integer hyper-synthesis",
        lvc_weights_hyperprior, lvc_weights_hyperprior_end, LVC_WEIGHTS_SHA256_HYPERPRIOR);
#endif
#if LVC_EMBED_ELIC
    add("elic", LVC_MODEL_ID_ELIC, LVC_ARCH_ELIC,
        "ELIC (He et al. 2022): uneven channel slices, each in two checkerboard passes, "
        "variable rate, integer context and parameter networks",
        lvc_weights_elic, lvc_weights_elic_end, LVC_WEIGHTS_SHA256_ELIC);
#endif
#if LVC_EMBED_CHECKERBOARD
    add("checkerboard", LVC_MODEL_ID_CHECKERBOARD, LVC_ARCH_CHECKERBOARD,
        "mean-scale hyperprior with a two-pass checkerboard context (He et al. 2021), "
        "variable rate, integer context and parameter networks",
        lvc_weights_checkerboard, lvc_weights_checkerboard_end,
        LVC_WEIGHTS_SHA256_CHECKERBOARD);
#endif
#if LVC_EMBED_MEANSCALE
    add("meanscale", LVC_MODEL_ID_MEANSCALE, LVC_ARCH_MEANSCALE,
        "mean-scale hyperprior (Minnen et al. 2018), variable rate, integer hyper-synthesis",
        lvc_weights_meanscale, lvc_weights_meanscale_end, LVC_WEIGHTS_SHA256_MEANSCALE);
#endif
}

/* The default model: the first present in this order, best measured RD
 * first (doc/results.md: elic, the flagship, leads the shipped models). */
static const char *const default_order[] = { "elic", "checkerboard", "meanscale", "hyperprior",
                                             "factorized" };

const LvcRegistryEntry *lvc_registry_by_name(const char *name)
{
    pthread_once(&once, init);
    if (!name) {
        for (size_t i = 0; i < sizeof(default_order) / sizeof(default_order[0]); i++)
            for (int j = 0; j < num_entries; j++)
                if (!strcmp(entries[j].info.name, default_order[i]))
                    return &entries[j];
        return NULL;
    }
    for (int j = 0; j < num_entries; j++)
        if (!strcmp(entries[j].info.name, name))
            return &entries[j];
    return NULL;
}

const LvcRegistryEntry *lvc_registry_by_id(uint32_t id)
{
    pthread_once(&once, init);
    for (int j = 0; j < num_entries; j++)
        if (entries[j].info.id == id)
            return &entries[j];
    return NULL;
}

const LvcRegistryEntry *lvc_registry_by_hash(const uint8_t hash[32])
{
    pthread_once(&once, init);
    for (int j = 0; hash && j < num_entries; j++)
        if (!memcmp(entries[j].info.weights_hash, hash, 32))
            return &entries[j];
    return NULL;
}

int lvc_model_count(void)
{
    pthread_once(&once, init);
    return num_entries;
}

const LvcModelInfo *lvc_model_info(int index)
{
    pthread_once(&once, init);
    return index >= 0 && index < num_entries ? &entries[index].info : NULL;
}

const LvcModelInfo *lvc_model_find(const char *name)
{
    const LvcRegistryEntry *e = name ? lvc_registry_by_name(name) : NULL;
    return e ? &e->info : NULL;
}

const char *lvc_model_default(void)
{
    const LvcRegistryEntry *e = lvc_registry_by_name(NULL);
    return e ? e->info.name : NULL;
}
