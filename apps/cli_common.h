/*
 * Helpers shared by the command-line apps (lvcenc, lvcdec, lvcinfo, lvcrd):
 * messages and exit codes, option values, whole-file input, and safe output
 * (temporary file + rename, removed on failure and on fatal signals).
 *
 * Built as the static library lvc_cli_lib (lvc_cli_dep in apps/meson.build).
 * It uses only the public API; link it together with lvc_dep (or
 * lvc_internal_dep). Not thread-safe: the apps call it from main only.
 *
 * Convention: functions that return an "exit status" have already printed
 * the single error line on stderr when the status is not 0, so the caller
 * only cleans up and returns it from main.
 */
#ifndef LVC_APPS_CLI_COMMON_H
#define LVC_APPS_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lvc/lvc.h"

/* Exit statuses of all the apps (documented in the man pages). */
enum {
    LVC_EXIT_OK          = 0,
    LVC_EXIT_USAGE       = 1, /* bad option, value or argument count */
    LVC_EXIT_IO          = 2, /* cannot read input / write output, refused output */
    LVC_EXIT_DATA        = 3, /* input is not a valid PNG / lvc stream (corrupt) */
    LVC_EXIT_UNSUPPORTED = 4, /* valid, but this build lacks the model/feature/backend */
    LVC_EXIT_VERIFY      = 5, /* lvcdec --verify: digest mismatch */
    LVC_EXIT_RESOURCE    = 6, /* out of memory or a resource limit */
    LVC_EXIT_SIGNAL      = 7, /* reserved: interrupted (the apps re-raise the signal) */
};

/* Largest input read into memory (1 GiB). */
#define LVC_CLI_MAX_INPUT ((size_t)1 << 30)

#if defined(__GNUC__)
#define LVC_CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LVC_CLI_PRINTF(a, b)
#endif

/* Record the program name used in messages (basename of argv0) and install
 * the SIGINT/SIGTERM/SIGHUP/SIGPIPE handlers that remove pending temporary
 * files before the process dies of the signal. Call first in main. */
void lvc_cli_init(const char *argv0);
const char *lvc_cli_prog(void);

/* One line on stderr: "prog: file: message" ("prog: message" when file is
 * NULL). file "-" is shown as "<stdin>". */
void lvc_cli_error(const char *file, const char *fmt, ...) LVC_CLI_PRINTF(2, 3);
/* Same, for a library error code: "prog: file: <lvc_error_string>[ (hint)]"
 * and returns the exit status for that code. hint may be NULL. */
int lvc_cli_lib_error(const char *file, int err, const char *hint);
/* Exit status for a negative LvcError code. */
int lvc_cli_exit_code(int err);
/* How a path is shown in messages: "-" is "<stdin>" or "<stdout>". */
const char *lvc_cli_name(const char *path, int is_output);

/* --------------------------------------------------------- option values */

/* Parse a whole string as a number in [min, max]. 0 on success, -1 on
 * garbage, trailing characters, overflow or out of range (out untouched). */
int lvc_cli_parse_long(const char *s, long min, long max, long *out);
int lvc_cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Finite decimal number in [min, max]; NaN and infinities are refused. */
int lvc_cli_parse_double(const char *s, double min, double max, double *out);
/* "auto", "ref", "cpu", "cuda". */
int lvc_cli_parse_backend(const char *s, LvcBackend *out);
const char *lvc_cli_backend_name(LvcBackend b);
/* Exactly 2*n hex digits (either case) into n bytes. 0 or -1. */
int lvc_cli_parse_hex(const char *s, uint8_t *out, size_t n);
/* n bytes as 2*n lower-case hex digits plus NUL into out[2*n+1]. */
void lvc_cli_hex(const uint8_t *in, size_t n, char *out);

/* Report a getopt_long() failure (it must run with opterr = 0 and an
 * optstring starting with ':'): c is the value getopt_long returned (':'
 * missing value, '?' unknown option). Prints one line; returns
 * LVC_EXIT_USAGE. */
int lvc_cli_option_error(int c, char *const argv[]);

/* Options shared by lvcenc and lvcdec. Each parses its value, and on a bad
 * one prints the single error line and returns LVC_EXIT_USAGE; else 0. */
int lvc_cli_opt_threads(const char *arg, long *out);       /* --threads 0..4096 */
int lvc_cli_opt_backend(const char *arg, LvcBackend *out); /* --backend */
int lvc_cli_opt_max_pixels(const char *arg, uint64_t *out);
/* The one input file that must follow the options (argv[optind], after
 * getopt_long): returns -1 with *path set, or the exit status after one
 * error line (no input, more than one, an empty name). */
int lvc_cli_one_input(int argc, char *const argv[], const char **path);

/* ------------------------------------------------------------------ input */

/* Read a whole file ("-" = stdin) into a malloc'd buffer (*data owned by the
 * caller, free(); never NULL on success, even for an empty file). Refuses a
 * terminal on stdin, a directory, and more than max_size bytes. Returns an
 * exit status; on failure *data is NULL and *size 0. */
int lvc_cli_read_input(const char *path, size_t max_size, uint8_t **data,
                       size_t *size);

/* Decode an input image held in memory by its signature: PNG, or binary
 * Netpbm (PGM P5, PPM P6, PAM P7). On failure prints one line naming
 * `name` ("not a PNG or PNM image", "cannot read the PNM image: ...") and
 * returns the exit status; on success 0 and *img is the caller's. */
int lvc_cli_decode_image(const char *name, const uint8_t *data, size_t size,
                         LvcImage *img, uint64_t max_pixels);

/* Output image formats of lvcdec. */
typedef enum LvcCliImageFormat {
    LVC_CLI_FMT_AUTO = 0, /* from the output name's extension, else PNG */
    LVC_CLI_FMT_PNG,
    LVC_CLI_FMT_PNM,      /* PGM for gray, PPM for RGB */
    LVC_CLI_FMT_PAM,
} LvcCliImageFormat;

/* Parse --format (png, pnm, ppm, pgm or pam); prints the error line and
 * returns LVC_EXIT_USAGE on a bad value, else 0. */
int lvc_cli_opt_image_format(const char *arg, LvcCliImageFormat *fmt);
/* The format to write: fmt unless AUTO, else by the extension of path
 * (.pnm, .ppm, .pgm: PNM; .pam: PAM; anything else, and "-": PNG). */
LvcCliImageFormat lvc_cli_image_format(LvcCliImageFormat fmt, const char *path);

/* ----------------------------------------------------------------- output */

typedef struct LvcCliOutput {
    const char *path;  /* as given; "-" = stdout */
    int fd;            /* where lvc_cli_output_write puts bytes */
    int sink;          /* stream outputs: stdout or the opened device; else -1 */
    int stream;        /* 1: output is stdout or an existing non-regular file */
    int slot;          /* registration of the pending temp file, or -1 */
    char *tmp;         /* temp file next to path (renamed into place), or the
                        * spool file for stream outputs, or NULL */
} LvcCliOutput;

/* Flags of lvc_cli_output_open. */
#define LVC_CLI_OUT_FORCE     1u /* replace an existing regular file */
#define LVC_CLI_OUT_NEED_PATH 2u /* the writer needs a file path (libpng):
                                  * stream outputs are spooled to $TMPDIR */

/* Prepare the output before any long work, so that a refused or unwritable
 * output fails fast:
 *  - "-" writes to stdout, refused when stdout is a terminal;
 *  - an existing regular file is refused without LVC_CLI_OUT_FORCE
 *    ("OUT exists (use -f to overwrite)"), a directory always;
 *  - an existing device or FIFO (/dev/null) is written in place, refused
 *    when it is a terminal;
 *  - the input file itself (same device and inode; input_path may be NULL
 *    or "-") is always refused;
 *  - otherwise a temporary file ".NAME.XXXXXX" is created in the output's
 *    directory, so the final rename stays on one filesystem.
 * Returns an exit status; on failure nothing is left behind and o is reset
 * (lvc_cli_output_abort on it is harmless). */
int lvc_cli_output_open(LvcCliOutput *o, const char *path, const char *input_path,
                        unsigned flags);
/* The file path a path-based writer (lvc_png_write_file) must write, once
 * and completely, before lvc_cli_output_commit. Only with NEED_PATH. */
const char *lvc_cli_output_path(const LvcCliOutput *o);
/* Append bytes (not with a path-based writer). Returns an exit status. */
int lvc_cli_output_write(LvcCliOutput *o, const void *buf, size_t size);
/* Finish: flush to disk and rename the temp file over the output (only
 * when it still does not exist, unless forced), or copy the spool file to
 * the stream. Returns an exit status; on failure the temp file is removed
 * and an existing output is untouched. o is released either way. */
int lvc_cli_output_commit(LvcCliOutput *o, unsigned flags);
/* Drop the output: remove the temp file, release o. Safe to repeat. */
void lvc_cli_output_abort(LvcCliOutput *o);

/* ------------------------------------------------------------------ misc */

/* Monotonic clock, seconds. */
double lvc_cli_now(void);
/* Write s as a JSON string literal (quoted, escaped); NULL writes null. */
void lvc_cli_json_string(FILE *f, const char *s);
/* Write a finite double with %.*f, or null. */
void lvc_cli_json_double(FILE *f, double v, int decimals);
/* The model registered under id, or NULL. */
const LvcModelInfo *lvc_cli_model_by_id(uint32_t id);

#endif /* LVC_APPS_CLI_COMMON_H */
