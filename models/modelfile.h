/*
 * .lvcm model files: a versioned container of named tensors plus key=value
 * metadata, closed by a SHA-256 of everything before it (the weights hash
 * that streams refer to). Normative description: doc/model-file.md; the
 * writer is models/train/lvcm.py.
 *
 * The loader validates the whole file before returning it (bounds, counts,
 * canonical layout, alignment, dtype/shape/size consistency, sorted unique
 * names, metadata syntax, hash) and never reads outside the buffer.
 *
 * Tensor data is little-endian; pointers returned by lvc_modelfile_get()
 * point into the file memory (aligned to 64 bytes relative to the start of
 * the file).
 *
 * Thread safety: an open file may be read from several threads, except
 * lvc_modelfile_get_f32(), which fills a cache and must be called from one
 * thread at a time (normally while a model is being built).
 */
#ifndef LVC_MODELS_MODELFILE_H
#define LVC_MODELS_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"

#define LVC_MODELFILE_VERSION     1
#define LVC_MODELFILE_HEADER_SIZE 64
#define LVC_MODELFILE_ENTRY_SIZE  128
#define LVC_MODELFILE_NAME_MAX    87      /* bytes, excluding the NUL */
#define LVC_MODELFILE_MAX_TENSORS 65536
#define LVC_MODELFILE_MAX_META    (1 << 20)
#define LVC_MODELFILE_ALIGN       64

/* Element types (the dtype codes stored in the file). */
typedef enum LvcModelDType {
    LVC_MT_F32 = 1,
    LVC_MT_F16 = 2,
    LVC_MT_I8  = 3,
    LVC_MT_I16 = 4,
    LVC_MT_I32 = 5,
    LVC_MT_U8  = 6,
    LVC_MT_U16 = 7,
    LVC_MT_U32 = 8,
} LvcModelDType;

/* Bytes per element (0 for an unknown dtype) and the name ("f32"...). */
size_t lvc_model_dtype_size(LvcModelDType dt);
const char *lvc_model_dtype_name(LvcModelDType dt);

typedef struct LvcModelTensor {
    const char *name;        /* NUL-terminated, inside the file */
    LvcModelDType dtype;
    int ndim;                /* 0..4; 0 is a scalar (one element) */
    uint32_t shape[4];       /* shape[i] >= 1 for i < ndim, 0 beyond */
    uint64_t nelems;
    const void *data;        /* inside the file memory */
    size_t nbytes;
    /* Set by lvc_modelfile_tensor_f32 only: the values as floats, either
     * data itself or owned (a converted copy the caller releases with
     * lvc_model_tensor_release). */
    const float *f32;
    float *owned;
} LvcModelTensor;

typedef struct LvcModelFile LvcModelFile;

/* Open a model file held in memory. The memory is borrowed: it must stay
 * valid and unchanged until lvc_modelfile_close (embedded weights, a
 * mapping). On success *mf is owned by the caller; on failure *mf is NULL
 * and the code is LVC_ERR_BAD_MAGIC, LVC_ERR_VERSION, LVC_ERR_TRUNCATED,
 * LVC_ERR_CRC (hash mismatch), LVC_ERR_MODEL_FILE (anything else
 * malformed) or LVC_ERR_NOMEM. */
int lvc_modelfile_open_mem(const uint8_t *buf, size_t size, LvcModelFile **mf);

/* Flags of lvc_modelfile_open_mem_flags. */
enum {
    /* Skip the SHA-256 of the contents: the trailer is taken as the hash
     * unchecked. Every structural check still runs, so a malformed buffer is
     * still refused and never read out of bounds, but a flipped byte in the
     * tensor data goes unnoticed. Only for memory that is part of our own
     * binary (the registry reading the metadata of embedded weights). */
    LVC_MODELFILE_NO_VERIFY = 1 << 0,
};
/* lvc_modelfile_open_mem with flags (0 = the same checks);
 * LVC_ERR_INVALID_ARG on an unknown flag. */
int lvc_modelfile_open_mem_flags(const uint8_t *buf, size_t size, unsigned flags,
                                 LvcModelFile **mf);
/* Declare buf (size bytes) immutable for the life of the process, as the
 * weights linked into the library are. Opening exactly this buffer then
 * checks its hash on the first successful open only, not on every one, or
 * never when `verified` says it was checked already (the registry's
 * embedded weights: models/weights_stamp.sh checks every trailer at build
 * time, and the bytes are the library's read-only data). Nothing is read
 * here. LVC_ERR_LIMIT beyond 16 buffers (later ones are simply verified on
 * every open); registering twice is a no-op. */
int lvc_modelfile_add_static(const uint8_t *buf, size_t size, int verified);
/* Map a file read-only and open it as above (LVC_ERR_IO when it cannot be
 * opened or mapped). The mapping is released by lvc_modelfile_close. */
int lvc_modelfile_open_path(const char *path, LvcModelFile **mf);
/* Trunk sharing (doc/model-file.md, "Shared trunk"): a file whose
 * metadata names trunk_sha256 leaves out the tensors of the shared float
 * transforms and gains; with base set, every accessor looks a missing
 * tensor of those names (lvc_modelfile_is_trunk_name: "g_a.*", "g_s.*",
 * "gain", "inv_gain") up in base. base is borrowed and must outlive the
 * lookups; NULL unsets it. */
void lvc_modelfile_set_base(LvcModelFile *mf, LvcModelFile *base);
int lvc_modelfile_is_trunk_name(const char *name);
/* Release the file (and its f32 cache) and set *mf to NULL; safe on NULL. */
void lvc_modelfile_close(LvcModelFile **mf);

/* SHA-256 of the file bytes before the trailer (32 bytes, = the trailer). */
const uint8_t *lvc_modelfile_hash(const LvcModelFile *mf);

int lvc_modelfile_count(const LvcModelFile *mf);
/* Tensor i in table order (names sorted bytewise); NULL when out of range. */
const LvcModelTensor *lvc_modelfile_tensor_at(const LvcModelFile *mf, int i);
/* Tensor by name (binary search); NULL when absent. */
const LvcModelTensor *lvc_modelfile_find(const LvcModelFile *mf, const char *name);

/* 0 when t (a tensor of mf) can be read as floats: f32, f16, or i8 with a
 * valid NAME.qscale; LVC_ERR_MODEL_FILE otherwise. Reads no tensor data
 * beyond the scales. */
int lvc_modelfile_check_float(const LvcModelFile *mf, const LvcModelTensor *t);

/* Copy of the descriptor of tensor name, which must exist (else
 * LVC_ERR_MODEL_FILE) with exactly this dtype (else LVC_ERR_MODEL_FILE).
 * Nothing to release. */
int lvc_modelfile_tensor(const LvcModelFile *mf, const char *name, LvcModelDType dtype,
                         LvcModelTensor *t);
/* Descriptor of a float tensor with t->f32 set: stored as f32, f16, or i8
 * with per-output-channel scales in the f32 tensor NAME.qscale
 * (doc/model-file.md). In place for f32 when usable (4-byte-aligned
 * buffer, little-endian host), else a converted copy in t->owned. Always call lvc_model_tensor_release(t) afterwards (on
 * failure t is zeroed and release is a no-op). */
int lvc_modelfile_tensor_f32(const LvcModelFile *mf, const char *name, LvcModelTensor *t);
void lvc_model_tensor_release(LvcModelTensor *t);
/* An i32 tensor holding exactly one element (any shape of ones). */
int lvc_modelfile_scalar_i32(const LvcModelFile *mf, const char *name, int32_t *val);

/* Checked lookup: the tensor must exist (else LVC_ERR_MODEL_FILE) with
 * exactly this dtype and ndim, and shape[i] (when shape is not NULL) must
 * match each dimension, -1 matching any size. *data points into the file.
 */
int lvc_modelfile_get(const LvcModelFile *mf, const char *name, LvcModelDType dtype,
                      int ndim, const int *shape, const void **data);
/* As lvc_modelfile_get for a float tensor (f32, f16, or i8 with NAME.qscale),
 * returning floats:
 * a pointer into the file when the data can be used in place (f32,
 * 4-byte-aligned buffer, little-endian host), else a converted copy cached
 * in mf (allocated on the first call). Valid until close. */
int lvc_modelfile_get_f32(LvcModelFile *mf, const char *name, int ndim,
                          const int *shape, const float **data);

/* Metadata ("key=value" lines). str: *val points to a NUL-terminated copy
 * held by mf. int: decimal (optional sign) fitting int64. float: strtod
 * syntax. Missing key or bad syntax: LVC_ERR_MODEL_FILE, *val untouched. */
int lvc_modelfile_meta_str(const LvcModelFile *mf, const char *key, const char **val);
int lvc_modelfile_meta_int(const LvcModelFile *mf, const char *key, int64_t *val);
int lvc_modelfile_meta_float(const LvcModelFile *mf, const char *key, double *val);
int lvc_modelfile_meta_count(const LvcModelFile *mf);
/* Key and value of entry i (in file order, sorted by key). */
int lvc_modelfile_meta_entry(const LvcModelFile *mf, int i, const char **key,
                             const char **val);

/* IEEE binary16 to binary32, exact (subnormals, inf, NaN kept). */
float lvc_f16_to_f32(uint16_t h);

#endif /* LVC_MODELS_MODELFILE_H */
