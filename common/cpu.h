/*
 * CPU feature flags for choosing SIMD kernels, with a mask to force lower
 * levels when testing (as dav1d's --cpumask).
 */
#ifndef LVC_COMMON_CPU_H
#define LVC_COMMON_CPU_H

enum {
    LVC_CPU_SSE2    = 1 << 0,
    LVC_CPU_SSSE3   = 1 << 1,
    LVC_CPU_SSE41   = 1 << 2,
    LVC_CPU_AVX     = 1 << 3,
    LVC_CPU_AVX2    = 1 << 4,
    LVC_CPU_FMA     = 1 << 5,
    LVC_CPU_AVX512F = 1 << 6,
    LVC_CPU_ALL     = (1 << 7) - 1,
};

/* Detected flags AND the mask. 0 on non-x86 targets. AVX/AVX2/FMA need OS
 * support for YMM state and AVX512F for ZMM state (checked with xgetbv). */
unsigned lvc_cpu_flags(void);
/* Flags detected by the hardware, ignoring the mask. */
unsigned lvc_cpu_flags_detected(void);
/* Restrict lvc_cpu_flags() to mask (LVC_CPU_ALL restores). Kernel tables
 * read the flags when they are initialised, so set the mask first. */
void lvc_cpu_set_mask(unsigned mask);

/* Mask for a level name, including every lower level: "c"/"none" (0),
 * "sse2", "ssse3", "sse41", "avx", "avx2" (AVX2+FMA), "avx512";
 * returns 0 or LVC_ERR_INVALID_ARG for an unknown name. */
int lvc_cpu_mask_from_name(const char *name, unsigned *mask);
/* Writes the flag names ("sse2 ssse3 ...") of flags into buf. */
void lvc_cpu_flags_string(unsigned flags, char *buf, int size);

#endif /* LVC_COMMON_CPU_H */
