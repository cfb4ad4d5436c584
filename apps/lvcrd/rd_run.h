/*
 * lvcrd: the evaluation driver, callable in-process (the end-to-end test
 * runs it this way).
 */
#ifndef LVC_APPS_LVCRD_RD_RUN_H
#define LVC_APPS_LVCRD_RD_RUN_H

/* Exit statuses. Per-point failures (an unreadable image, a codec error)
 * are notes, not failures of the run. */
enum {
    LVCRD_EXIT_OK = 0,
    LVCRD_EXIT_USAGE = 1,   /* bad option or value, unknown codec */
    LVCRD_EXIT_IO = 2,      /* bad dataset folder, no PNG, cannot write results */
    LVCRD_EXIT_NOPOINT = 3, /* nothing could be measured at all */
};

/* Runs lvcrd with the given arguments (argv[0] is the program name) and
 * returns the exit status. Uses getopt_long, so it resets optind itself. */
int lvcrd_main(int argc, char **argv);
/* lvcrd --splats (rd_splat.c): the Gaussian-splat coder's RD run. */
int lvcrd_splat_main(int argc, char **argv);
/* An integer option value in [lo, hi]: 0, or -1 when it is not one. */
int lvcrd_parse_int(const char *s, int lo, int hi, int *out);
/* lvcrd --video (rd_video.c): lvc video coding against x264 and x265. */
int lvcrd_video_main(int argc, char **argv);

#endif /* LVC_APPS_LVCRD_RD_RUN_H */
