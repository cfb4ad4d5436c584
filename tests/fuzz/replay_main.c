/*
 * Stand-in for libFuzzer's main, so that the fuzz targets build with any
 * compiler and CI can replay the corpus:
 *
 *   fuzz_X [-mutate=N] [-seed=S] FILE|DIR...
 *
 * Every file (a directory: its regular files, in name order) is run through
 * LLVMFuzzerTestOneInput. With -mutate=N each file is also run N times
 * mutated (bit flips, byte changes, truncation, duplication), from a fixed
 * pseudo-random sequence: a cheap deterministic fuzz smoke without a
 * fuzzing engine. Other -options (libFuzzer's) are ignored. Exits 1 when a
 * path cannot be read or names no input at all; a failing input aborts.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tests/fuzz/fuzz.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    /* splitmix64: the same sequence on every machine. */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static int read_file(const char *path, uint8_t **buf, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *b = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            uint8_t *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(f);
                return -1;
            }
            b = nb;
        }
        const size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    const int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    *buf = b;
    *size = n;
    return 0;
}

/* One mutant of in[0..n) into out (capacity 2n + 64); returns its size. */
static size_t mutate(const uint8_t *in, size_t n, uint8_t *out)
{
    const size_t cap = 2 * n + 64;
    memcpy(out, in, n);
    const int edits = 1 + (int)(rng() % 4);
    for (int e = 0; e < edits; e++) {
        const uint64_t r = rng();
        const size_t at = n ? (size_t)(r >> 8) % n : 0;
        switch (r % 6) {
        case 0: case 1:                  /* flip one bit */
            if (n)
                out[at] ^= (uint8_t)(1u << ((r >> 4) % 8));
            break;
        case 2:                          /* set a byte to a boundary value */
            if (n) {
                static const uint8_t v[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
                out[at] = v[(r >> 4) % 5];
            }
            break;
        case 3:                          /* random byte */
            if (n)
                out[at] = (uint8_t)(r >> 40);
            break;
        case 4:                          /* truncate */
            n = at;
            break;
        default: {                       /* duplicate a chunk in place */
            const size_t len = n - at < 16 ? n - at : 16;
            if (n + len <= cap) {
                memmove(out + at + len, out + at, n - at);
                n += len;
            }
            break;
        }
        }
    }
    return n;
}

static long n_inputs, n_mutants;

static int run_file(const char *path, long nmut)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    if (read_file(path, &buf, &size) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    /* An exact-size copy, so ASan sees any read past the input. */
    uint8_t *exact = malloc(size ? size : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, size);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    n_inputs++;
    if (nmut > 0) {
        uint8_t *m = malloc(2 * size + 64);
        if (!m) {
            free(buf);
            return -1;
        }
        for (long i = 0; i < nmut; i++) {
            const size_t n = mutate(buf, size, m);
            uint8_t *e = malloc(n ? n : 1);
            if (!e)
                break;
            memcpy(e, m, n);
            LLVMFuzzerTestOneInput(e, n);
            free(e);
            n_mutants++;
        }
        free(m);
    }
    free(buf);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, long nmut)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "cannot stat %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return run_file(path, nmut);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int ret = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn) {
                ret = -1;
                break;
            }
            names = nn;
        }
        const size_t len = strlen(path) + strlen(de->d_name) + 2;
        if (!(names[n] = malloc(len))) {
            ret = -1;
            break;
        }
        snprintf(names[n], len, "%s/%s", path, de->d_name);
        n++;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        struct stat fs;
        if (ret == 0 && stat(names[i], &fs) == 0 && S_ISREG(fs.st_mode))
            ret = run_file(names[i], nmut);
        free(names[i]);
    }
    free(names);
    return ret;
}

int main(int argc, char **argv)
{
    long nmut = 0;
    int npaths = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    const clock_t t0 = clock();
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "-mutate=", 8)) {
            nmut = strtol(argv[i] + 8, NULL, 10);
            continue;
        }
        if (!strncmp(argv[i], "-seed=", 6)) {
            rng_state = strtoull(argv[i] + 6, NULL, 10);
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        npaths++;
        if (run_path(argv[i], nmut) < 0)
            return 1;
    }
    if (!npaths || !n_inputs) {
        fprintf(stderr, "usage: %s [-mutate=N] [-seed=S] FILE|DIR... (no input found)\n",
                argv[0]);
        return 1;
    }
    printf("%s: %ld inputs, %ld mutants, %.2f s cpu\n", argv[0], n_inputs, n_mutants,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
    return 0;
}
