/*
 * Error strings and library version (public API, include/lvc/lvc.h).
 */
#include "lvc/lvc.h"

const char *lvc_error_string(int err)
{
    switch (err) {
    case LVC_OK:                return "success";
    case LVC_ERR_NOMEM:         return "out of memory or allocation limit exceeded";
    case LVC_ERR_INVALID_ARG:   return "invalid argument";
    case LVC_ERR_IO:            return "input/output error";
    case LVC_ERR_BAD_MAGIC:     return "not an lvc stream or model file";
    case LVC_ERR_VERSION:       return "unsupported format version";
    case LVC_ERR_TRUNCATED:     return "data ends early";
    case LVC_ERR_CRC:           return "checksum mismatch";
    case LVC_ERR_LENGTH:        return "length points past the end of the data";
    case LVC_ERR_DIMENSIONS:    return "invalid image dimensions";
    case LVC_ERR_UNKNOWN_BOX:   return "unknown mandatory box";
    case LVC_ERR_MODEL_HASH:    return "stream was made with different model weights";
    case LVC_ERR_MODEL_UNKNOWN: return "unknown model";
    case LVC_ERR_CORRUPT:       return "corrupt data";
    case LVC_ERR_BUFFER_FULL:   return "output buffer too small";
    case LVC_ERR_UNSUPPORTED:   return "not supported by this build";
    case LVC_ERR_MODEL_FILE:    return "malformed model file";
    case LVC_ERR_LIMIT:         return "resource limit reached";
    case LVC_ERR_BACKEND:       return "backend unavailable";
    case LVC_ERR_KIND:          return "stream kind does not match the call";
    case LVC_ERR_FORMAT:        return "unsupported image format";
    }
    return "unknown error";
}

const char *lvc_version(void)
{
    return LVC_VERSION_STRING;
}

unsigned lvc_version_int(void)
{
    return ((unsigned)LVC_VERSION_MAJOR << 16) | ((unsigned)LVC_VERSION_MINOR << 8) |
           (unsigned)LVC_VERSION_PATCH;
}
