#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void)
{
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (uint64_t)edx << 32 | eax;
}

static unsigned detect(void)
{
    unsigned a, b, c, d, f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (d & (1u << 26)) f |= LVC_CPU_SSE2;
    if (c & (1u << 9))  f |= LVC_CPU_SSSE3;
    if (c & (1u << 19)) f |= LVC_CPU_SSE41;
    int osxsave = !!(c & (1u << 27));
    int avx = !!(c & (1u << 28));
    int fma = !!(c & (1u << 12));
    uint64_t xcr0 = osxsave ? xgetbv0() : 0;
    /* XMM and YMM state enabled by the OS, then opmask/ZMM state. */
    int ymm_ok = (xcr0 & 0x6) == 0x6;
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;
    if (avx && ymm_ok) {
        f |= LVC_CPU_AVX;
        if (fma)
            f |= LVC_CPU_FMA;
        unsigned b7 = 0;
        if (__get_cpuid_count(7, 0, &a, &b7, &c, &d)) {
            if (b7 & (1u << 5))
                f |= LVC_CPU_AVX2;
            if ((b7 & (1u << 16)) && zmm_ok)
                f |= LVC_CPU_AVX512F;
        }
    }
    return f;
}
#else
static unsigned detect(void) { return 0; }
#endif

static atomic_uint g_mask = LVC_CPU_ALL;
static atomic_uint g_detected;
static atomic_int g_have_detected;

unsigned lvc_cpu_flags_detected(void)
{
    /* Detection is idempotent, so a race just detects twice. */
    if (!atomic_load(&g_have_detected)) {
        atomic_store(&g_detected, detect());
        atomic_store(&g_have_detected, 1);
    }
    return atomic_load(&g_detected);
}

unsigned lvc_cpu_flags(void)
{
    return lvc_cpu_flags_detected() & atomic_load(&g_mask);
}

void lvc_cpu_set_mask(unsigned mask)
{
    atomic_store(&g_mask, mask);
}

static const struct {
    const char *name;
    unsigned flag;
} names[] = {
    { "sse2", LVC_CPU_SSE2 }, { "ssse3", LVC_CPU_SSSE3 }, { "sse41", LVC_CPU_SSE41 },
    { "avx", LVC_CPU_AVX }, { "avx2", LVC_CPU_AVX2 }, { "fma", LVC_CPU_FMA },
    { "avx512", LVC_CPU_AVX512F },
};

int lvc_cpu_mask_from_name(const char *name, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned mask;
    } levels[] = {
        { "c", 0 }, { "none", 0 },
        { "sse2", LVC_CPU_SSE2 },
        { "ssse3", LVC_CPU_SSE2 | LVC_CPU_SSSE3 },
        { "sse41", LVC_CPU_SSE2 | LVC_CPU_SSSE3 | LVC_CPU_SSE41 },
        { "avx", LVC_CPU_SSE2 | LVC_CPU_SSSE3 | LVC_CPU_SSE41 | LVC_CPU_AVX },
        { "avx2", LVC_CPU_SSE2 | LVC_CPU_SSSE3 | LVC_CPU_SSE41 | LVC_CPU_AVX |
                  LVC_CPU_AVX2 | LVC_CPU_FMA },
        { "avx512", LVC_CPU_ALL },
        { "all", LVC_CPU_ALL },
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (!strcmp(name, levels[i].name)) {
            *mask = levels[i].mask;
            return 0;
        }
    return LVC_ERR_INVALID_ARG;
}

void lvc_cpu_flags_string(unsigned flags, char *buf, int size)
{
    int pos = 0;
    if (size <= 0)
        return;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(flags & names[i].flag))
            continue;
        int n = snprintf(buf + pos, (size_t)(size - pos), "%s%s", pos ? " " : "", names[i].name);
        if (n < 0 || n >= size - pos)
            return;
        pos += n;
    }
}
