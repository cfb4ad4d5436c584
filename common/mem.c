/*
 * Allocator with live-byte accounting. Each block carries a 16-byte header
 * just before the pointer handed out: {bytes accounted, offset from the raw
 * malloc pointer}. One layout serves plain and aligned blocks, so lvc_free
 * releases both.
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lvc/lvc.h"
#include "common/mem.h"

#if defined(__linux__)
#include <sys/mman.h>
#endif

#define HDR 16

typedef struct BlockHeader {
    size_t total;  /* bytes charged to the cap: the whole raw allocation */
    size_t offset; /* user pointer - raw pointer */
} BlockHeader;

_Static_assert(sizeof(BlockHeader) <= HDR, "header must fit in HDR bytes");
_Static_assert(alignof(max_align_t) <= HDR, "HDR must keep malloc alignment");

static atomic_size_t g_limit;
static atomic_size_t g_in_use;
static atomic_size_t g_peak;
static atomic_long g_fail_after = -1;

void lvc_mem_set_limit(size_t bytes) { atomic_store(&g_limit, bytes); }
size_t lvc_mem_get_limit(void) { return atomic_load(&g_limit); }
size_t lvc_mem_in_use(void) { return atomic_load(&g_in_use); }
size_t lvc_mem_peak(void) { return atomic_load(&g_peak); }
void lvc_mem_reset_peak(void) { atomic_store(&g_peak, atomic_load(&g_in_use)); }

void lvc_mem_fail_after(long n)
{
    atomic_store(&g_fail_after, n < 0 ? -1 : n);
}

int lvc_mem_inject_fail(void)
{
    long v = atomic_load(&g_fail_after);
    while (v >= 0) {
        /* v == 0: this allocation fails, and injection disarms. */
        if (atomic_compare_exchange_weak(&g_fail_after, &v, v == 0 ? -1 : v - 1))
            return v == 0;
    }
    return 0;
}

/* Charge n bytes against the cap; 0 on success. */
static int charge(size_t n)
{
    size_t cur = atomic_load(&g_in_use);
    size_t next;
    do {
        size_t lim = atomic_load(&g_limit);
        if (n > SIZE_MAX - cur)
            return -1;
        next = cur + n;
        if (lim && next > lim)
            return -1;
    } while (!atomic_compare_exchange_weak(&g_in_use, &cur, next));
    size_t pk = atomic_load(&g_peak);
    while (next > pk && !atomic_compare_exchange_weak(&g_peak, &pk, next))
        ;
    return 0;
}

static void uncharge(size_t n)
{
    atomic_fetch_sub(&g_in_use, n);
}

/* Large blocks (weights, activations: megabytes each) are first touched
 * page by page; with 4 KiB pages that is one fault per page, and on a
 * virtual machine a fault costs microseconds (a decoder's start-up spent a
 * third of its time there). Blocks of 2 MiB and more are therefore mapped
 * on their own, 2 MiB-aligned, with transparent huge pages requested
 * ("madvise" mode): one fault per 2 MiB where the system grants them, the
 * same 4 KiB pages where it does not. Such a block's header has offset 0;
 * total is its mapping's length, charged in full. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define LVC_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define LVC_SANITIZED 1
#endif
/* Sanitizer builds keep every block in malloc, whose redzones catch
 * overflows that a page-granular mapping would not. */
#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS) && !defined(LVC_SANITIZED)
#define BIG_BLOCKS 1
#define HUGE_PAGE ((size_t)2 << 20)
#define SMALL_PAGE ((size_t)4096)

static void *big_alloc(size_t size, size_t align)
{
    /* align < HUGE_PAGE: the user pointer lies in the first 2 MiB, which is
     * how lvc_free finds the mapping's start */
    const size_t off = align > HDR ? align : HDR;   /* header before user */
    if (size > (size_t)PTRDIFF_MAX - off - 2 * HUGE_PAGE)
        return NULL;
    const size_t len = (off + size + SMALL_PAGE - 1) & ~(SMALL_PAGE - 1);
    if (lvc_mem_inject_fail() || charge(len))
        return NULL;
    uint8_t *m = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (m == MAP_FAILED) {
        uncharge(len);
        return NULL;
    }
    /* keep the 2 MiB-aligned [base, base + len), unmap the rest */
    uint8_t *base = (uint8_t *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (base > m)
        munmap(m, (size_t)(base - m));
    if (m + len + HUGE_PAGE > base + len)
        munmap(base + len, (size_t)(m + len + HUGE_PAGE - (base + len)));
    (void)madvise(base, len, MADV_HUGEPAGE);
    uint8_t *user = base + off;
    BlockHeader h = { len, 0 };
    memcpy(user - HDR, &h, sizeof(h));
    return user;
}
#endif

void *lvc_aligned_malloc(size_t size, size_t align)
{
    if (align == 0 || (align & (align - 1)))
        return NULL;
    if (align < HDR)
        align = HDR;
#ifdef BIG_BLOCKS
    if (size >= HUGE_PAGE && align < HUGE_PAGE)
        return big_alloc(size, align);
#endif
    /* raw + HDR rounded up to align: at most align - HDR bytes of padding
     * beyond the header, since malloc returns HDR-aligned pointers. */
    size_t extra = HDR + (align - HDR);
    /* No object may exceed PTRDIFF_MAX (pointer differences would overflow);
     * malloc refuses such sizes too, but sanitizers abort on them. */
    if (size > (size_t)PTRDIFF_MAX - extra)
        return NULL;
    size_t total = size + extra;
    if (lvc_mem_inject_fail() || charge(total))
        return NULL;
    uint8_t *raw = malloc(total);
    if (!raw) {
        uncharge(total);
        return NULL;
    }
    uintptr_t u = ((uintptr_t)raw + HDR + (align - 1)) & ~(uintptr_t)(align - 1);
    uint8_t *user = raw + (u - (uintptr_t)raw);
    BlockHeader h = { total, (size_t)(user - raw) };
    memcpy(user - HDR, &h, sizeof(h));
    return user;
}

void *lvc_malloc(size_t size)
{
    return lvc_aligned_malloc(size, HDR);
}

void *lvc_calloc(size_t n, size_t size)
{
    size_t bytes;
    if (lvc_mul_size(n, size, &bytes))
        return NULL;
    void *p = lvc_malloc(bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

void *lvc_malloc_array(size_t nmemb, size_t size)
{
    size_t bytes;
    if (lvc_mul_size(nmemb, size, &bytes))
        return NULL;
    return lvc_malloc(bytes);
}

void *lvc_realloc(void *p, size_t size)
{
    if (!p)
        return lvc_malloc(size);
    BlockHeader h;
    memcpy(&h, (uint8_t *)p - HDR, sizeof(h));
#ifdef BIG_BLOCKS
    if (h.offset == 0 || size >= HUGE_PAGE) {
        /* A mapped block, or one growing into one: move it. */
        const uint8_t *base = h.offset == 0
            ? (const uint8_t *)((uintptr_t)p & ~(uintptr_t)(HUGE_PAGE - 1))
            : (const uint8_t *)p - HDR;
        const size_t usable = h.total - (size_t)((const uint8_t *)p - base);
        void *q = lvc_malloc(size);
        if (!q)
            return NULL;
        memcpy(q, p, size < usable ? size : usable);
        lvc_free(p);
        return q;
    }
#endif
    if (h.offset != HDR) {
        /* An over-aligned block: realloc would lose the alignment. */
        return NULL;
    }
    if (size > (size_t)PTRDIFF_MAX - HDR)
        return NULL;
    size_t total = size + HDR;
    if (lvc_mem_inject_fail())
        return NULL;
    if (total > h.total && charge(total - h.total))
        return NULL;
    uint8_t *raw = realloc((uint8_t *)p - HDR, total);
    if (!raw) {
        if (total > h.total)
            uncharge(total - h.total);
        return NULL;
    }
    if (total < h.total)
        uncharge(h.total - total);
    h.total = total;
    memcpy(raw, &h, sizeof(h));
    return raw + HDR;
}

void lvc_free(void *p)
{
    if (!p)
        return;
    BlockHeader h;
    memcpy(&h, (uint8_t *)p - HDR, sizeof(h));
    uncharge(h.total);
#ifdef BIG_BLOCKS
    if (h.offset == 0) {
        uint8_t *base = (uint8_t *)((uintptr_t)p & ~(uintptr_t)(HUGE_PAGE - 1));
        munmap(base, h.total);
        return;
    }
#endif
    free((uint8_t *)p - h.offset);
}

void lvc_aligned_free(void *p)
{
    lvc_free(p);
}

void lvc_freep(void *pp)
{
    void *p;
    memcpy(&p, pp, sizeof(p));
    lvc_free(p);
    p = NULL;
    memcpy(pp, &p, sizeof(p));
}

/* ---------------------------------------------------------------- arena */

#define ARENA_ALIGN 64

int lvc_arena_init(LvcArena *a, size_t capacity)
{
    memset(a, 0, sizeof(*a));
    a->base = lvc_aligned_malloc(capacity, ARENA_ALIGN);
    if (!a->base)
        return LVC_ERR_NOMEM;
    a->cap = capacity;
    return 0;
}

size_t lvc_arena_need(size_t used, size_t size, size_t align)
{
    if (align == 0)
        align = 16;
    if (align & (align - 1))
        return SIZE_MAX;
    if (used > SIZE_MAX - (align - 1))
        return SIZE_MAX;
    size_t start = (used + align - 1) & ~(align - 1);
    if (size > SIZE_MAX - start)
        return SIZE_MAX;
    return start + size;
}

void *lvc_arena_alloc(LvcArena *a, size_t size, size_t align)
{
    if (align == 0)
        align = 16;
    if ((align & (align - 1)) || align > 4096)
        return NULL;
    /* base is only ARENA_ALIGN-aligned: align the address, not the offset. */
    if (!a->base)
        return NULL;
    uintptr_t b = (uintptr_t)a->base;
    uintptr_t cur = b + a->used;
    uintptr_t start = (cur + (align - 1)) & ~(uintptr_t)(align - 1);
    size_t off = (size_t)(start - b);
    if (off > a->cap || size > a->cap - off)
        return NULL;
    a->used = off + size;
    if (a->used > a->peak)
        a->peak = a->used;
    return a->base + off;
}

void lvc_arena_release(LvcArena *a, size_t mark)
{
    if (mark <= a->used)
        a->used = mark;
}

void lvc_arena_reset(LvcArena *a)
{
    a->used = 0;
}

void lvc_arena_free(LvcArena *a)
{
    lvc_free(a->base);
    memset(a, 0, sizeof(*a));
}
