/*
 * The CUDA backend is a plugin: nn/cuda/cuda.c and kernels.cu build into
 * liblvc_cuda.so, which links libcudart, libcublas and libcudnn; liblvc
 * links none of them and dlopens the plugin (nn/cuda/loader.c) only when
 * the cuda backend is asked for or AUTO finds an NVIDIA device node. A
 * process that never uses a GPU so never maps the CUDA libraries (about
 * 0.2 s of dynamic linking and relocation at every start otherwise), and
 * the nvcc object's static constructors (fatbin registration with cudart)
 * run inside the plugin, where cudart is present by construction.
 *
 * The plugin exports one symbol, lvc_cuda_plugin_open. It is built from
 * the same tree as the library; the host description below is checked so
 * that a plugin from another build (other struct layouts) is refused
 * instead of corrupting memory.
 */
#ifndef LVC_NN_CUDA_PLUGIN_H
#define LVC_NN_CUDA_PLUGIN_H

#include <stddef.h>

#include "lvc/lvc.h"
#include "nn/ops.h"

#define LVC_CUDA_PLUGIN_ABI    1
#define LVC_CUDA_PLUGIN_NAME   "liblvc_cuda.so"
#define LVC_CUDA_PLUGIN_SYMBOL "lvc_cuda_plugin_open"

/* What the library gives the plugin. Everything stays valid for the life of
 * the process. */
typedef struct LvcCudaHost {
    int abi;                              /* LVC_CUDA_PLUGIN_ABI */
    const char *version;                  /* LVC_VERSION_FULL of the library */
    size_t nn_size, ops_size, layer_size; /* sizeof LvcNn, LvcNnOps, LvcNnLayer */
    /* The library's allocator (lvc_calloc / lvc_free), so that the memory
     * cap and fault injection reach the plugin's host allocations. */
    void *(*calloc)(size_t n, size_t size);
    void (*free)(void *p);
} LvcCudaHost;

/* What the plugin gives back (static, valid for the life of the process). */
typedef struct LvcCudaPlugin {
    /* 1 when a CUDA device can be used. 0 otherwise, with *why set to a
     * static description (the runtime's error string). Cached after the
     * first call; thread-safe. */
    int (*available)(const char **why);
    /* Open the backend on nn: fill nn->ops and nn->priv (nn->ops.close
     * releases them). 0, or LVC_ERR_BACKEND / LVC_ERR_NOMEM with nn->priv
     * NULL and nn->ops.close NULL. */
    int (*init)(LvcNn *nn);
} LvcCudaPlugin;

/* Exported by liblvc_cuda.so. 0 and *plugin set, or LVC_ERR_VERSION when
 * host does not describe the library the plugin was built with. */
typedef int (*LvcCudaPluginOpen)(const LvcCudaHost *host, const LvcCudaPlugin **plugin);
LVC_API int lvc_cuda_plugin_open(const LvcCudaHost *host, const LvcCudaPlugin **plugin);

#endif /* LVC_NN_CUDA_PLUGIN_H */
