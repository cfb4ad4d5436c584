/*
 * Helpers shared by the command-line apps; see cli_common.h.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"

static const char *g_prog = "lvc";
static mode_t g_umask = 022;

/* ------------------------------------------------ pending temporary files
 * A fatal signal must not leave a half-written temp file behind. The paths
 * live in static storage so that the handler only needs unlink(), which is
 * async-signal-safe; signals are blocked while a slot changes. */

#define TMP_SLOTS 4
#define TMP_PATH_MAX 4096

static char g_tmp_path[TMP_SLOTS][TMP_PATH_MAX];
static volatile sig_atomic_t g_tmp_used[TMP_SLOTS];

static const int g_fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
#define NUM_FATAL_SIGNALS ((int)(sizeof(g_fatal_signals) / sizeof(g_fatal_signals[0])))

static void block_fatal_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < NUM_FATAL_SIGNALS; i++)
        sigaddset(&set, g_fatal_signals[i]);
    sigprocmask(SIG_BLOCK, &set, old);
}

static int tmp_register(const char *path)
{
    if (strlen(path) >= TMP_PATH_MAX)
        return -1;
    sigset_t old;
    block_fatal_signals(&old);
    int slot = -1;
    for (int i = 0; i < TMP_SLOTS; i++) {
        if (!g_tmp_used[i]) {
            memcpy(g_tmp_path[i], path, strlen(path) + 1);
            g_tmp_used[i] = 1;
            slot = i;
            break;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return slot;
}

static void tmp_unregister(int slot)
{
    if (slot < 0 || slot >= TMP_SLOTS)
        return;
    sigset_t old;
    block_fatal_signals(&old);
    g_tmp_used[slot] = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void fatal_signal_handler(int sig)
{
    const int saved_errno = errno;
    for (int i = 0; i < TMP_SLOTS; i++)
        if (g_tmp_used[i])
            unlink(g_tmp_path[i]);
    /* Die of the same signal so the parent sees the real cause; it is
     * delivered once the handler returns and the mask is restored. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
    errno = saved_errno;
}

void lvc_cli_init(const char *argv0)
{
    if (argv0 && *argv0) {
        const char *slash = strrchr(argv0, '/');
        g_prog = slash ? slash + 1 : argv0;
    }
    g_umask = umask(0);
    umask(g_umask);

    /* With a standard descriptor closed, the next open() would take its
     * number, and a printf to "stdout" would land in the output file. */
    for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int nul = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
            if (nul >= 0 && nul != fd)
                close(nul);
        }
    }

    for (int i = 0; i < NUM_FATAL_SIGNALS; i++) {
        struct sigaction cur;
        /* A signal ignored by the parent (nohup) stays ignored. */
        if (sigaction(g_fatal_signals[i], NULL, &cur) == 0 && cur.sa_handler == SIG_IGN)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = fatal_signal_handler;
        sigemptyset(&sa.sa_mask);
        sigaction(g_fatal_signals[i], &sa, NULL);
    }
}

const char *lvc_cli_prog(void)
{
    return g_prog;
}

/* ------------------------------------------------------------- messages */

const char *lvc_cli_name(const char *path, int is_output)
{
    if (!path)
        return "(null)";
    if (!strcmp(path, "-"))
        return is_output ? "<stdout>" : "<stdin>";
    return path;
}

void lvc_cli_error(const char *file, const char *fmt, ...)
{
    /* Build the line first so it reaches stderr in one write. */
    char line[2048];
    int n;
    if (file)
        n = snprintf(line, sizeof(line), "%s: %s: ", g_prog, file);
    else
        n = snprintf(line, sizeof(line), "%s: ", g_prog);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(line))
        n = (int)sizeof(line) - 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* Exactly one line, whatever the message holds. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

int lvc_cli_exit_code(int err)
{
    switch (err) {
    case LVC_OK:
        return LVC_EXIT_OK;
    case LVC_ERR_INVALID_ARG:
        return LVC_EXIT_USAGE;
    case LVC_ERR_IO:
        return LVC_EXIT_IO;
    case LVC_ERR_NOMEM:
    case LVC_ERR_LIMIT:
    case LVC_ERR_BUFFER_FULL:
        return LVC_EXIT_RESOURCE;
    case LVC_ERR_VERSION:
    case LVC_ERR_MODEL_HASH:
    case LVC_ERR_MODEL_UNKNOWN:
    case LVC_ERR_UNSUPPORTED:
    case LVC_ERR_MODEL_FILE:
    case LVC_ERR_BACKEND:
        return LVC_EXIT_UNSUPPORTED;
    default:
        /* BAD_MAGIC, TRUNCATED, CRC, LENGTH, DIMENSIONS, UNKNOWN_BOX,
         * CORRUPT, KIND, FORMAT and codes this build does not know. */
        return LVC_EXIT_DATA;
    }
}

int lvc_cli_lib_error(const char *file, int err, const char *hint)
{
    const char *msg = lvc_error_string(err);
    if (!msg || !*msg)
        msg = "error";
    if (hint && *hint)
        lvc_cli_error(file, "%s (%s)", msg, hint);
    else
        lvc_cli_error(file, "%s", msg);
    return lvc_cli_exit_code(err);
}

int lvc_cli_option_error(int c, char *const argv[])
{
    const char *arg = optind >= 1 ? argv[optind - 1] : NULL;
    char name[64];
    if (arg && arg[0] == '-' && arg[1] == '-') {
        size_t len = strcspn(arg, "=");
        if (len >= sizeof(name))
            len = sizeof(name) - 1;
        memcpy(name, arg, len);
        name[len] = '\0';
    } else if (optopt > 0 && optopt < 128 && isprint(optopt)) {
        snprintf(name, sizeof(name), "-%c", optopt);
    } else {
        snprintf(name, sizeof(name), "%.60s", arg ? arg : "?");
    }

    if (c == ':')
        lvc_cli_error(NULL, "option '%s' needs a value (see --help)", name);
    else if (optopt != 0 && arg && arg[0] == '-' && arg[1] == '-' && strchr(arg, '='))
        lvc_cli_error(NULL, "option '%s' takes no value (see --help)", name);
    else
        lvc_cli_error(NULL, "unknown option '%s' (see --help)", name);
    return LVC_EXIT_USAGE;
}

int lvc_cli_opt_threads(const char *arg, long *out)
{
    if (lvc_cli_parse_long(arg, 0, 4096, out)) {
        lvc_cli_error(NULL, "invalid --threads '%s' (expected 0..4096)", arg);
        return LVC_EXIT_USAGE;
    }
    return 0;
}

int lvc_cli_opt_backend(const char *arg, LvcBackend *out)
{
    if (lvc_cli_parse_backend(arg, out)) {
        lvc_cli_error(NULL, "invalid --backend '%s' (expected auto, ref, cpu or cuda)", arg);
        return LVC_EXIT_USAGE;
    }
    return 0;
}

int lvc_cli_opt_max_pixels(const char *arg, uint64_t *out)
{
    if (lvc_cli_parse_u64(arg, 0, UINT64_MAX, out)) {
        lvc_cli_error(NULL, "invalid --max-pixels '%s'", arg);
        return LVC_EXIT_USAGE;
    }
    return 0;
}

int lvc_cli_one_input(int argc, char *const argv[], const char **path)
{
    if (optind >= argc) {
        lvc_cli_error(NULL, "no input file (see --help)");
        return LVC_EXIT_USAGE;
    }
    if (argc - optind > 1) {
        lvc_cli_error(NULL, "too many arguments: '%s' (one input file expected)", argv[optind + 1]);
        return LVC_EXIT_USAGE;
    }
    if (!*argv[optind]) {
        lvc_cli_error(NULL, "empty input file name");
        return LVC_EXIT_USAGE;
    }
    *path = argv[optind];
    return -1;
}

/* --------------------------------------------------------- option values */

int lvc_cli_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int lvc_cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    /* strtoull would accept "-1" as a huge value. */
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int lvc_cli_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    LvcBackend backend;
} g_backends[] = {
    { "auto", LVC_BACKEND_AUTO },
    { "ref",  LVC_BACKEND_REF },
    { "cpu",  LVC_BACKEND_CPU },
    { "cuda", LVC_BACKEND_CUDA },
};

int lvc_cli_parse_backend(const char *s, LvcBackend *out)
{
    for (size_t i = 0; s && i < sizeof(g_backends) / sizeof(g_backends[0]); i++) {
        if (!strcmp(s, g_backends[i].name)) {
            *out = g_backends[i].backend;
            return 0;
        }
    }
    return -1;
}

const char *lvc_cli_backend_name(LvcBackend b)
{
    for (size_t i = 0; i < sizeof(g_backends) / sizeof(g_backends[0]); i++)
        if (g_backends[i].backend == b)
            return g_backends[i].name;
    return "unknown";
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int lvc_cli_parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (!s || strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const int hi = hex_digit((unsigned char)s[2 * i]);
        const int lo = hex_digit((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void lvc_cli_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* ------------------------------------------------------------------ input */

int lvc_cli_read_input(const char *path, size_t max_size, uint8_t **data,
                       size_t *size)
{
    *data = NULL;
    *size = 0;
    const char *name = lvc_cli_name(path, 0);
    const int is_stdin = !strcmp(path, "-");
    int fd = STDIN_FILENO;
    int status = LVC_EXIT_IO;
    uint8_t *buf = NULL;

    if (is_stdin) {
        if (isatty(STDIN_FILENO)) {
            lvc_cli_error(name, "refusing to read binary data from a terminal");
            return LVC_EXIT_IO;
        }
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            lvc_cli_error(name, "%s", strerror(errno));
            return LVC_EXIT_IO;
        }
    }

    struct stat st;
    if (fstat(fd, &st) != 0) {
        lvc_cli_error(name, "%s", strerror(errno));
        goto error;
    }
    if (S_ISDIR(st.st_mode)) {
        lvc_cli_error(name, "is a directory");
        goto error;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_size) {
        lvc_cli_error(name, "file too large (%llu bytes, limit %zu)",
                      (unsigned long long)st.st_size, max_size);
        status = LVC_EXIT_RESOURCE;
        goto error;
    }

    /* Regular files: one allocation of the right size (+1 to see EOF);
     * pipes grow by doubling. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : (size_t)1 << 16;
    size_t len = 0;
    buf = malloc(cap);
    if (!buf) {
        lvc_cli_error(name, "out of memory");
        status = LVC_EXIT_RESOURCE;
        goto error;
    }
    for (;;) {
        if (len == cap) {
            if (cap > max_size) {
                lvc_cli_error(name, "input too large (limit %zu bytes)", max_size);
                status = LVC_EXIT_RESOURCE;
                goto error;
            }
            size_t ncap = cap > max_size / 2 ? max_size + 1 : cap * 2;
            uint8_t *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                lvc_cli_error(name, "out of memory");
                status = LVC_EXIT_RESOURCE;
                goto error;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            lvc_cli_error(name, "read error: %s", strerror(errno));
            goto error;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len > max_size) {
        lvc_cli_error(name, "input too large (limit %zu bytes)", max_size);
        status = LVC_EXIT_RESOURCE;
        goto error;
    }
    if (!is_stdin)
        close(fd);
    *data = buf;
    *size = len;
    return LVC_EXIT_OK;

error:
    free(buf);
    if (!is_stdin)
        close(fd);
    return status;
}

/* ----------------------------------------------------------------- output */

static void output_reset(LvcCliOutput *o, const char *path)
{
    o->path = path;
    o->fd = -1;
    o->sink = -1;
    o->stream = 0;
    o->slot = -1;
    o->tmp = NULL;
}

static int write_all(int fd, const void *buf, size_t size)
{
    const uint8_t *p = buf;
    while (size) {
        ssize_t w = write(fd, p, size);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        size -= (size_t)w;
    }
    return 0;
}

/* mkstemp from a template and register the result for signal cleanup. */
static int make_temp(LvcCliOutput *o, char *tmpl, const char *where)
{
    sigset_t old;
    /* No signal between the file's creation and its registration. */
    block_fatal_signals(&old);
    int fd = mkostemp(tmpl, O_CLOEXEC);
    int err = errno;
    int slot = -1;
    if (fd >= 0) {
        slot = tmp_register(tmpl);
        if (slot < 0) {
            unlink(tmpl);
            close(fd);
            fd = -1;
            err = ENAMETOOLONG;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        lvc_cli_error(where, "cannot create a temporary file: %s", strerror(err));
        free(tmpl);
        return LVC_EXIT_IO;
    }
    o->fd = fd;
    o->slot = slot;
    o->tmp = tmpl;
    return LVC_EXIT_OK;
}

/* Template ".NAME.XXXXXX" in the directory of path. */
static char *sibling_template(const char *path)
{
    const char *slash = strrchr(path, '/');
    const size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    const size_t base_len = strlen(base);
    char *t = malloc(dir_len + base_len + 9);
    if (!t)
        return NULL;
    memcpy(t, path, dir_len);
    t[dir_len] = '.';
    memcpy(t + dir_len + 1, base, base_len);
    memcpy(t + dir_len + 1 + base_len, ".XXXXXX", 8);
    return t;
}

static char *spool_template(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    const size_t len = strlen(dir);
    char *t = malloc(len + 16);
    if (t)
        snprintf(t, len + 16, "%s/lvc-XXXXXX", dir);
    return t;
}

int lvc_cli_output_open(LvcCliOutput *o, const char *path, const char *input_path,
                        unsigned flags)
{
    output_reset(o, path);
    const char *name = lvc_cli_name(path, 1);
    int status = LVC_EXIT_IO;

    if (!path || !*path) {
        lvc_cli_error(NULL, "empty output file name");
        return LVC_EXIT_USAGE;
    }

    if (!strcmp(path, "-")) {
        if (isatty(STDOUT_FILENO)) {
            lvc_cli_error(name, "refusing to write binary data to a terminal");
            return LVC_EXIT_IO;
        }
        o->stream = 1;
        o->sink = STDOUT_FILENO;
    } else {
        struct stat st, ist;
        if (stat(path, &st) == 0) {
            if (input_path && strcmp(input_path, "-") && stat(input_path, &ist) == 0 &&
                st.st_dev == ist.st_dev && st.st_ino == ist.st_ino) {
                lvc_cli_error(name, "output is the input file");
                return LVC_EXIT_IO;
            }
            if (S_ISDIR(st.st_mode)) {
                lvc_cli_error(name, "is a directory");
                return LVC_EXIT_IO;
            }
            if (S_ISREG(st.st_mode)) {
                if (!(flags & LVC_CLI_OUT_FORCE)) {
                    lvc_cli_error(name, "exists (use -f to overwrite)");
                    return LVC_EXIT_IO;
                }
            } else {
                /* Devices and FIFOs (/dev/null) are written in place: there
                 * is nothing to clobber and nowhere to rename to. */
                int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                    lvc_cli_error(name, "%s", strerror(errno));
                    return LVC_EXIT_IO;
                }
                if (isatty(fd)) {
                    close(fd);
                    lvc_cli_error(name, "refusing to write binary data to a terminal");
                    return LVC_EXIT_IO;
                }
                o->stream = 1;
                o->sink = fd;
            }
        } else if (errno != ENOENT) {
            lvc_cli_error(name, "%s", strerror(errno));
            return LVC_EXIT_IO;
        }
        if (!o->stream) {
            const char *slash = strrchr(path, '/');
            if (!(slash ? slash[1] : path[0])) {
                lvc_cli_error(name, "not a file name");
                return LVC_EXIT_USAGE;
            }
            char *tmpl = sibling_template(path);
            if (!tmpl) {
                lvc_cli_error(name, "out of memory");
                return LVC_EXIT_RESOURCE;
            }
            status = make_temp(o, tmpl, name);
            if (status)
                goto error;
        }
    }

    if (o->stream) {
        if (flags & LVC_CLI_OUT_NEED_PATH) {
            char *tmpl = spool_template();
            if (!tmpl) {
                lvc_cli_error(name, "out of memory");
                status = LVC_EXIT_RESOURCE;
                goto error;
            }
            status = make_temp(o, tmpl, name);
            if (status)
                goto error;
        } else {
            o->fd = o->sink;
        }
    }
    return LVC_EXIT_OK;

error:
    lvc_cli_output_abort(o);
    return status;
}

const char *lvc_cli_output_path(const LvcCliOutput *o)
{
    return o->tmp;
}

int lvc_cli_output_write(LvcCliOutput *o, const void *buf, size_t size)
{
    if (o->fd < 0) {
        lvc_cli_error(lvc_cli_name(o->path, 1), "output is not open");
        return LVC_EXIT_IO;
    }
    if (write_all(o->fd, buf, size) != 0) {
        lvc_cli_error(lvc_cli_name(o->path, 1), "write error: %s", strerror(errno));
        return LVC_EXIT_IO;
    }
    return LVC_EXIT_OK;
}

/* Copy the spool file (written by path) to the stream sink. */
static int copy_spool(LvcCliOutput *o, const char *name)
{
    int in = open(o->tmp, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        lvc_cli_error(name, "cannot reopen %s: %s", o->tmp, strerror(errno));
        return LVC_EXIT_IO;
    }
    uint8_t buf[1 << 16];
    int status = LVC_EXIT_OK;
    for (;;) {
        ssize_t r = read(in, buf, sizeof(buf));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            lvc_cli_error(name, "cannot read %s: %s", o->tmp, strerror(errno));
            status = LVC_EXIT_IO;
            break;
        }
        if (r == 0)
            break;
        if (write_all(o->sink, buf, (size_t)r) != 0) {
            lvc_cli_error(name, "write error: %s", strerror(errno));
            status = LVC_EXIT_IO;
            break;
        }
    }
    close(in);
    return status;
}

int lvc_cli_output_commit(LvcCliOutput *o, unsigned flags)
{
    const char *name = lvc_cli_name(o->path, 1);
    int status = LVC_EXIT_OK;

    if (o->stream) {
        if (o->tmp)
            status = copy_spool(o, name);
        lvc_cli_output_abort(o);
        return status;
    }
    if (!o->tmp || o->fd < 0) {
        lvc_cli_error(name, "output is not open");
        lvc_cli_output_abort(o);
        return LVC_EXIT_IO;
    }

    /* A path-based writer reopened the file by name; sync what the name
     * points at now. mkstemp made it 0600: give it the usual mode. */
    int fd = o->fd;
    int reopened = -1;
    if (flags & LVC_CLI_OUT_NEED_PATH) {
        reopened = open(o->tmp, O_RDONLY | O_CLOEXEC);
        if (reopened < 0) {
            lvc_cli_error(name, "cannot reopen %s: %s", o->tmp, strerror(errno));
            status = LVC_EXIT_IO;
            goto error;
        }
        fd = reopened;
    }
    if (fchmod(fd, 0666 & ~g_umask) != 0 || fsync(fd) != 0) {
        lvc_cli_error(name, "write error: %s", strerror(errno));
        status = LVC_EXIT_IO;
    }
    if (reopened >= 0)
        close(reopened);
    if (close(o->fd) != 0 && !status) {
        lvc_cli_error(name, "write error: %s", strerror(errno));
        status = LVC_EXIT_IO;
    }
    o->fd = -1;
    if (status)
        goto error;

    if (flags & LVC_CLI_OUT_FORCE) {
        if (rename(o->tmp, o->path) != 0) {
            lvc_cli_error(name, "cannot rename into place: %s", strerror(errno));
            status = LVC_EXIT_IO;
            goto error;
        }
    } else if (link(o->tmp, o->path) == 0) {
        /* link() fails if the output appeared meanwhile: never clobber. */
        unlink(o->tmp);
    } else if (errno == EEXIST) {
        lvc_cli_error(name, "exists (use -f to overwrite)");
        status = LVC_EXIT_IO;
        goto error;
    } else {
        /* Filesystems without hard links: check, then rename. */
        struct stat st;
        if (lstat(o->path, &st) == 0) {
            lvc_cli_error(name, "exists (use -f to overwrite)");
            status = LVC_EXIT_IO;
            goto error;
        }
        if (rename(o->tmp, o->path) != 0) {
            lvc_cli_error(name, "cannot rename into place: %s", strerror(errno));
            status = LVC_EXIT_IO;
            goto error;
        }
    }
    tmp_unregister(o->slot);
    o->slot = -1;
    free(o->tmp);
    o->tmp = NULL;
    return LVC_EXIT_OK;

error:
    lvc_cli_output_abort(o);
    return status;
}

void lvc_cli_output_abort(LvcCliOutput *o)
{
    if (o->fd >= 0 && o->fd != o->sink)
        close(o->fd);
    if (o->sink > STDERR_FILENO)
        close(o->sink);
    if (o->tmp) {
        unlink(o->tmp);
        free(o->tmp);
    }
    tmp_unregister(o->slot);
    output_reset(o, o->path);
}

/* ------------------------------------------------------------------ misc */

double lvc_cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void lvc_cli_json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void lvc_cli_json_double(FILE *f, double v, int decimals)
{
    if (isfinite(v))
        fprintf(f, "%.*f", decimals, v);
    else
        fputs("null", f);
}

const LvcModelInfo *lvc_cli_model_by_id(uint32_t id)
{
    const int n = lvc_model_count();
    for (int i = 0; i < n; i++) {
        const LvcModelInfo *m = lvc_model_info(i);
        if (m && m->id == id)
            return m;
    }
    return NULL;
}

/* ----------------------------------------------------------------- images */

int lvc_cli_decode_image(const char *name, const uint8_t *data, size_t size,
                         LvcImage *img, uint64_t max_pixels)
{
    static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
    memset(img, 0, sizeof(*img));
    const char *what;
    int err, is_pnm = 0;
    if (size >= sizeof(png_sig) && !memcmp(data, png_sig, sizeof(png_sig))) {
        what = "PNG";
        err = lvc_png_read_mem(data, size, img, max_pixels);
    } else if (size >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7') {
        if (data[1] < '5') {
            lvc_cli_error(name, "plain (ASCII) PNM and PBM bitmaps are not supported; "
                          "use binary PGM, PPM or PAM");
            return LVC_EXIT_UNSUPPORTED;
        }
        what = "PNM";
        is_pnm = 1;
        err = lvc_pnm_read_mem(data, size, img, max_pixels);
    } else {
        /* Checked here: the library readers call other data an unsupported
         * format, which misleads for a JPEG or an lvc stream. */
        lvc_cli_error(name, "not a PNG or PNM image");
        return LVC_EXIT_DATA;
    }
    if (err < 0) {
        lvc_cli_error(name, "cannot read the %s image: %s", what, lvc_error_string(err));
        /* A PNM the reader does not take (a PAM tuple type or depth it has
         * no layout for) is unsupported, not corrupt; libpng's failures
         * all come back as LVC_ERR_FORMAT and are invalid data. */
        if (err == LVC_ERR_FORMAT && is_pnm)
            return LVC_EXIT_UNSUPPORTED;
        return lvc_cli_exit_code(err);
    }
    return 0;
}

int lvc_cli_opt_image_format(const char *arg, LvcCliImageFormat *fmt)
{
    if (!strcmp(arg, "png"))
        *fmt = LVC_CLI_FMT_PNG;
    else if (!strcmp(arg, "pnm") || !strcmp(arg, "ppm") || !strcmp(arg, "pgm"))
        *fmt = LVC_CLI_FMT_PNM;
    else if (!strcmp(arg, "pam"))
        *fmt = LVC_CLI_FMT_PAM;
    else {
        lvc_cli_error(NULL, "invalid --format '%.40s' (png, pnm, ppm, pgm or pam)", arg);
        return LVC_EXIT_USAGE;
    }
    return 0;
}

LvcCliImageFormat lvc_cli_image_format(LvcCliImageFormat fmt, const char *path)
{
    if (fmt != LVC_CLI_FMT_AUTO)
        return fmt;
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (!dot || strchr(dot, '/'))
        return LVC_CLI_FMT_PNG;
    if (!strcasecmp(dot, ".pnm") || !strcasecmp(dot, ".ppm") || !strcasecmp(dot, ".pgm"))
        return LVC_CLI_FMT_PNM;
    if (!strcasecmp(dot, ".pam"))
        return LVC_CLI_FMT_PAM;
    return LVC_CLI_FMT_PNG;
}
