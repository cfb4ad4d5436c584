/*
 * The model registry: the models embedded in the library, by name and id.
 */
#ifndef LVC_MODELS_REGISTRY_H
#define LVC_MODELS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "lvc/lvc.h"
#include "models/model.h"

typedef struct LvcRegistryEntry {
    LvcModelInfo info;        /* hash and MACs filled on first use */
    LvcArch arch;
    const uint8_t *blob;      /* embedded .lvcm */
    size_t size;
} LvcRegistryEntry;

/* Entry by name (NULL = default) or by stream model id; NULL when absent. */
const LvcRegistryEntry *lvc_registry_by_name(const char *name);
const LvcRegistryEntry *lvc_registry_by_id(uint32_t id);
/* Entry whose weights hash (SHA-256 of the whole file) is hash; NULL when
 * absent. */
const LvcRegistryEntry *lvc_registry_by_hash(const uint8_t hash[32]);

/* Model ids stored in streams (stable). */
enum {
    LVC_MODEL_ID_FACTORIZED   = 1,
    LVC_MODEL_ID_HYPERPRIOR   = 2,
    LVC_MODEL_ID_MEANSCALE    = 3,
    LVC_MODEL_ID_CHECKERBOARD = 4,
    LVC_MODEL_ID_ELIC         = 5,
};

#endif /* LVC_MODELS_REGISTRY_H */
