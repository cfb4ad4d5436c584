#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

static atomic_int g_level = LVC_LOG_WARNING;
/* Callback and opaque change together; a mutex would be heavier than
 * needed, as setting a callback is a start-up action. */
static LvcLogCallback g_cb;
static void *g_cb_opaque;

void lvc_log_set_level(int level) { atomic_store(&g_level, level); }
int lvc_log_get_level(void) { return atomic_load(&g_level); }

int lvc_log_level_for_verbose(int verbose)
{
    return verbose <= 0 ? LVC_LOG_QUIET : verbose == 1 ? LVC_LOG_INFO : LVC_LOG_DEBUG;
}

void lvc_log_set_callback(LvcLogCallback cb, void *opaque)
{
    g_cb_opaque = opaque;
    g_cb = cb;
}

void lvc_vlog(int level, const char *fmt, va_list ap)
{
    if (level > atomic_load(&g_level) || level < LVC_LOG_ERROR)
        return;
    /* Format into one buffer so lines from several threads do not mix. */
    char buf[1024];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    if (g_cb) {
        g_cb(g_cb_opaque, level, buf);
        return;
    }
    static const char *const prefix[] = { "error", "warning", "info", "debug" };
    const size_t n = strlen(buf);
    fprintf(stderr, "lvc %s: %s%s", prefix[level > 3 ? 3 : level], buf,
            n && buf[n - 1] == '\n' ? "" : "\n");
}

void lvc_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lvc_vlog(level, fmt, ap);
    va_end(ap);
}
