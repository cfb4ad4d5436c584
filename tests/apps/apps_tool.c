/*
 * Helper for tests/apps/test_apps.sh (public API only):
 *
 *   apps_tool png OUT W H CHANNELS DEPTH [SEED]   write a test PNG
 *   apps_tool pnginfo FILE                        print "W H CHANNELS DEPTH"
 *   apps_tool topnm IN.png OUT PAM                convert to PGM/PPM (PAM 0) or PAM
 *   apps_tool pnminfo FILE                        print "W H CHANNELS DEPTH"
 *   apps_tool bytes OUT N SEED                    write N pseudo-random bytes
 *   apps_tool y4m OUT W H FRAMES [C444]           write a test video (4:2:0 or 4:4:4)
 *   apps_tool tty CMD [ARGS...]                   run CMD with stdout on a pty
 *   apps_tool ttyin CMD [ARGS...]                 run CMD with stdin on a pty
 *
 * tty/ttyin exit with CMD's status (128+N if killed by signal N), 77 when no
 * pseudo-terminal can be opened here, 124 if CMD runs for more than 20 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lvc/lvc.h"
#include "lvc/splat.h"
#include "lvc/video.h"

static uint32_t next_rand(uint32_t *s)
{
    /* xorshift32: deterministic across machines. */
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static int cmd_png(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: png OUT W H CHANNELS DEPTH [SEED]\n");
        return 2;
    }
    const int w = atoi(argv[3]), h = atoi(argv[4]), ch = atoi(argv[5]), depth = atoi(argv[6]);
    uint32_t seed = argc > 7 ? (uint32_t)strtoul(argv[7], NULL, 10) : 1;
    if (!seed)
        seed = 1;
    LvcImage img;
    int err = lvc_image_alloc(&img, w, h, ch, depth);
    if (err < 0) {
        fprintf(stderr, "lvc_image_alloc: %s\n", lvc_error_string(err));
        return 1;
    }
    /* Smooth gradients, a disc and a little noise: something a learned
     * codec sees as an image, not as noise. */
    const int maxv = depth == 16 ? 65535 : 255;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            const int dx = x - w / 2, dy = y - h / 2;
            const int in_disc = dx * dx + dy * dy < (w * w + h * h) / 16;
            for (int c = 0; c < ch; c++) {
                int v = (x * 255 / (w > 1 ? w - 1 : 1) * (c + 1) + y * 255 / (h > 1 ? h - 1 : 1) * (3 - c % 3)) / 4;
                if (in_disc)
                    v = 255 - v;
                v += (int)(next_rand(&seed) % 9) - 4;
                v = v < 0 ? 0 : v > 255 ? 255 : v;
                if (depth == 16) {
                    uint16_t *row = (uint16_t *)(img.data + (size_t)y * img.stride);
                    row[(size_t)x * ch + c] = (uint16_t)(v * maxv / 255);
                } else {
                    img.data[(size_t)y * img.stride + (size_t)x * ch + c] = (uint8_t)v;
                }
            }
        }
    }
    err = lvc_png_write_file(argv[2], &img);
    lvc_image_free(&img);
    if (err < 0) {
        fprintf(stderr, "lvc_png_write_file: %s\n", lvc_error_string(err));
        return 1;
    }
    return 0;
}

static int cmd_pnginfo(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    LvcImage img;
    int err = lvc_png_read_file(argv[2], &img, 0);
    if (err < 0) {
        fprintf(stderr, "lvc_png_read_file: %s\n", lvc_error_string(err));
        return 1;
    }
    printf("%d %d %d %d\n", img.width, img.height, img.channels, img.bit_depth);
    lvc_image_free(&img);
    return 0;
}

static int cmd_topnm(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    LvcImage img;
    int err = lvc_png_read_file(argv[2], &img, 0);
    if (err == 0) {
        err = lvc_pnm_write_file(argv[3], &img, atoi(argv[4]));
        lvc_image_free(&img);
    }
    if (err < 0) {
        fprintf(stderr, "topnm: %s\n", lvc_error_string(err));
        return 1;
    }
    return 0;
}

static int cmd_pnminfo(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    LvcImage img;
    int err = lvc_pnm_read_file(argv[2], &img, 0);
    if (err < 0) {
        fprintf(stderr, "lvc_pnm_read_file: %s\n", lvc_error_string(err));
        return 1;
    }
    printf("%d %d %d %d\n", img.width, img.height, img.channels, img.bit_depth);
    lvc_image_free(&img);
    return 0;
}

static int cmd_bytes(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const long n = atol(argv[3]);
    uint32_t seed = (uint32_t)strtoul(argv[4], NULL, 10);
    if (!seed)
        seed = 1;
    FILE *f = fopen(argv[2], "wb");
    if (!f)
        return 1;
    for (long i = 0; i < n; i++)
        fputc((int)(next_rand(&seed) & 255), f);
    return fclose(f) ? 1 : 0;
}

static int cmd_tty(int argc, char **argv, int target_fd)
{
    if (argc < 3)
        return 2;
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) {
        fprintf(stderr, "no pseudo-terminal: %s\n", strerror(errno));
        return 77;
    }
    const char *slave_name = ptsname(master);
    int slave = slave_name ? open(slave_name, O_RDWR | O_NOCTTY) : -1;
    if (slave < 0) {
        fprintf(stderr, "no pseudo-terminal: %s\n", strerror(errno));
        return 77;
    }
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        dup2(slave, target_fd);
        close(slave);
        close(master);
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    close(slave);
    /* Drain the terminal so the child never blocks on it. */
    const time_t start = time(NULL);
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (time(NULL) - start > 20) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return 124;
        }
        struct pollfd p = { .fd = master, .events = POLLIN };
        if (poll(&p, 1, 50) > 0 && (p.revents & POLLIN)) {
            char buf[256];
            if (read(master, buf, sizeof(buf)) < 0)
                usleep(10000);
        } else if (p.revents & (POLLHUP | POLLERR)) {
            usleep(10000);
        }
    }
    close(master);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

/* splat OUT COUNT DEGREE [SEED]: a synthetic scene (PLY, or .splat by the
 * name) of COUNT splats in a few clusters. */
static int cmd_splat(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: splat OUT COUNT DEGREE [SEED]\n");
        return 2;
    }
    const uint32_t count = (uint32_t)strtoul(argv[3], NULL, 10);
    const int degree = atoi(argv[4]);
    uint32_t seed = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 1;
    LvcSplats s;
    if (lvc_splats_alloc(&s, count, degree) < 0)
        return 1;
    const int K = LVC_SPLAT_SH_COEFFS(degree);
    for (uint32_t i = 0; i < count; i++) {
        float r[64];
        for (int k = 0; k < 64; k++) {
            seed = seed * 1664525u + 1013904223u;
            r[k] = (float)(seed >> 8) / 16777216.0f - 0.5f;   /* [-0.5, 0.5) */
        }
        s.position[i * 3 + 0] = (float)(i % 5) + 0.6f * r[0];
        s.position[i * 3 + 1] = 0.6f * r[1];
        s.position[i * 3 + 2] = (float)(i % 3) + 0.6f * r[2];
        for (int a = 0; a < 3; a++)
            s.scale[i * 3 + a] = -3.5f + 2 * r[3 + a];
        for (int a = 0; a < 4; a++)
            s.rotation[i * 4 + a] = r[6 + a];
        s.opacity[i] = 4 * r[10];
        for (int j = 0; j < 3 * K; j++)
            s.sh[(size_t)i * 3 * K + j] = (j % K ? 0.2f : 2.0f) * r[11 + j % 48];
    }
    const int err = lvc_splats_write_file(argv[2], &s);
    lvc_splats_free(&s);
    if (err < 0) {
        fprintf(stderr, "splat: %s\n", lvc_error_string(err));
        return 1;
    }
    return 0;
}

/* y4m OUT W H FRAMES [C444]: a video of a textured background that stays
 * put and a bright square that moves across it, 4:2:0 (or 4:4:4). */
static int cmd_y4m(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: y4m OUT W H FRAMES [C444]\n");
        return 2;
    }
    LvcVideoFormat fmt;
    lvc_video_format_default(&fmt);
    fmt.width = (uint32_t)strtoul(argv[3], NULL, 10);
    fmt.height = (uint32_t)strtoul(argv[4], NULL, 10);
    const int frames = atoi(argv[5]);
    if (argc > 6 && !strcmp(argv[6], "C444"))
        fmt.chroma = LVC_CHROMA_444;
    FILE *f = fopen(argv[2], "wb");
    LvcYuvWriter *w = NULL;
    LvcImage img = { 0 };
    int err = f ? lvc_yuv_writer_open(&w, f, &fmt, 0) : LVC_ERR_IO;
    if (!err)
        err = lvc_image_alloc(&img, (int)fmt.width, (int)fmt.height, 3, 8);
    for (int t = 0; t < frames && !err; t++) {
        for (int y = 0; y < img.height; y++) {
            uint8_t *row = img.data + (size_t)y * img.stride;
            for (int x = 0; x < img.width; x++) {
                uint32_t h = (uint32_t)(x * 7 + y * 13) ^ (uint32_t)(x * y);
                h = h * 2654435761u;
                const int inside = x >= 4 + 3 * t && x < 20 + 3 * t && y >= 8 && y < 24;
                row[3 * x + 0] = inside ? 240 : (uint8_t)(60 + (x * 3) % 80 + (h >> 29));
                row[3 * x + 1] = inside ? 200 : (uint8_t)(90 + (y * 2) % 70 + (h >> 28));
                row[3 * x + 2] = inside ? 40 : (uint8_t)(120 + ((x + y) % 50));
            }
        }
        err = lvc_yuv_write_frame(w, &img);
    }
    lvc_yuv_writer_close(&w);
    lvc_image_free(&img);
    if (f && fclose(f) && !err)
        err = LVC_ERR_IO;
    if (err < 0) {
        fprintf(stderr, "y4m: %s\n", lvc_error_string(err));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2) {
        if (!strcmp(argv[1], "png"))
            return cmd_png(argc, argv);
        if (!strcmp(argv[1], "pnginfo"))
            return cmd_pnginfo(argc, argv);
        if (!strcmp(argv[1], "topnm"))
            return cmd_topnm(argc, argv);
        if (!strcmp(argv[1], "pnminfo"))
            return cmd_pnminfo(argc, argv);
        if (!strcmp(argv[1], "bytes"))
            return cmd_bytes(argc, argv);
        if (!strcmp(argv[1], "splat"))
            return cmd_splat(argc, argv);
        if (!strcmp(argv[1], "y4m"))
            return cmd_y4m(argc, argv);
        if (!strcmp(argv[1], "tty"))
            return cmd_tty(argc, argv, STDOUT_FILENO);
        if (!strcmp(argv[1], "ttyin"))
            return cmd_tty(argc, argv, STDIN_FILENO);
    }
    fprintf(stderr, "usage: apps_tool png|pnginfo|topnm|pnminfo|bytes|splat|y4m|tty|ttyin ...\n");
    return 2;
}
