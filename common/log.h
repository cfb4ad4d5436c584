/*
 * Logging to stderr (or a user callback) with one global level.
 */
#ifndef LVC_COMMON_LOG_H
#define LVC_COMMON_LOG_H

#include <stdarg.h>

enum {
    LVC_LOG_QUIET   = -1, /* as a level setting: print nothing */
    LVC_LOG_ERROR   = 0,
    LVC_LOG_WARNING = 1,
    LVC_LOG_INFO    = 2,
    LVC_LOG_DEBUG   = 3,
};

/* Messages with level <= the global level are emitted. Default: WARNING. */
void lvc_log_set_level(int level);
/* The level for the public settings' verbose field: 0 quiet (errors are
 * returned as codes, nothing printed), 1 info, 2 and more debug. */
int lvc_log_level_for_verbose(int verbose);
int lvc_log_get_level(void);

/* Redirect messages (already formatted, no trailing newline added) to cb;
 * NULL restores stderr. The callback may be called from any thread. */
typedef void (*LvcLogCallback)(void *opaque, int level, const char *msg);
void lvc_log_set_callback(LvcLogCallback cb, void *opaque);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void lvc_log(int level, const char *fmt, ...);
void lvc_vlog(int level, const char *fmt, va_list ap);

#endif /* LVC_COMMON_LOG_H */
