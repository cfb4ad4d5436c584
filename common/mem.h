/*
 * Memory allocation: overflow-checked, capped, aligned, fault-injectable;
 * and a bump arena for carving many buffers out of one block.
 *
 * Every block returned by lvc_malloc/lvc_calloc/lvc_malloc_array/
 * lvc_realloc/lvc_aligned_malloc is released with lvc_free (or its alias
 * lvc_aligned_free), NEVER with free(): a small header in front of the block
 * records its size so the global cap can account for live bytes. Memory that
 * must be handed to API users for free() is allocated with plain malloc
 * (see LvcByteWriter in common/bits.h), after asking lvc_mem_inject_fail()
 * so fault injection still reaches it.
 *
 * All functions are thread-safe.
 */
#ifndef LVC_COMMON_MEM_H
#define LVC_COMMON_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Allocate size bytes (16-byte aligned). size 0 yields a valid unique block.
 * NULL on failure, when the cap would be exceeded or a failure is injected. */
void *lvc_malloc(size_t size);
/* Zeroed n*size bytes; NULL if n*size overflows size_t. */
void *lvc_calloc(size_t n, size_t size);
/* Uninitialised nmemb*size bytes; NULL if the product overflows. */
void *lvc_malloc_array(size_t nmemb, size_t size);
/* Resize a block from lvc_malloc & co. (not an aligned one with align > 16).
 * On failure returns NULL and p is left untouched and still owned by the
 * caller. lvc_realloc(NULL, n) is lvc_malloc(n). */
void *lvc_realloc(void *p, size_t size);
/* size bytes aligned to align (a power of two, any size); NULL on failure or
 * when align is not a power of two. */
void *lvc_aligned_malloc(size_t size, size_t align);
/* Release any block from this allocator. NULL is a no-op. */
void lvc_free(void *p);
void lvc_aligned_free(void *p);
/* lvc_free(*pp) then *pp = NULL. */
void lvc_freep(void *pp);

/* Overflow-checked a*b; returns 0 and *out=a*b, or -1 on overflow. */
static inline int lvc_mul_size(size_t a, size_t b, size_t *out)
{
    if (b && a > SIZE_MAX / b)
        return -1;
    *out = a * b;
    return 0;
}

/* Global cap on live bytes allocated by lvc_* (headers and alignment padding
 * included). 0 = no limit (default). Allocations that would exceed it fail. */
void lvc_mem_set_limit(size_t bytes);
size_t lvc_mem_get_limit(void);
/* Live bytes and the high-water mark since start (or last reset_peak). */
size_t lvc_mem_in_use(void);
size_t lvc_mem_peak(void);
void lvc_mem_reset_peak(void);

/* Fault injection for tests: after n more successful allocations the next
 * one fails (n = 0: the very next allocation fails); the failure fires once
 * and then injection disarms. n < 0 disarms. Affects every thread. */
void lvc_mem_fail_after(long n);
/* Consumes one injection tick as an allocation would; returns 1 if this
 * "allocation" must fail. For code that allocates with plain malloc. */
int lvc_mem_inject_fail(void);

/* ---------------------------------------------------------------- arena
 * A bump allocator over one block: init(capacity) allocates once; alloc
 * never calls malloc; reset (or release to a mark) makes the space
 * reusable. Not thread-safe: one arena per thread or external locking. */
typedef struct LvcArena {
    uint8_t *base;   /* 64-byte aligned block, owned by the arena */
    size_t cap;
    size_t used;
    size_t peak;     /* high-water mark of used, for workspace sizing */
} LvcArena;

/* On success a owns a block of capacity bytes; on failure a is zeroed and
 * LVC_ERR_NOMEM returned. capacity 0 is allowed (every alloc then fails
 * unless size is 0). */
int lvc_arena_init(LvcArena *a, size_t capacity);
/* size bytes aligned to align (power of two <= 4096, 0 means 16), or NULL
 * when the arena is full or align is bad. The memory is not zeroed. */
void *lvc_arena_alloc(LvcArena *a, size_t size, size_t align);
/* Stack-like reuse: mark = lvc_arena_mark(a); ...; lvc_arena_release(a, mark)
 * frees everything allocated after the mark. */
static inline size_t lvc_arena_mark(const LvcArena *a) { return a->used; }
void lvc_arena_release(LvcArena *a, size_t mark);
void lvc_arena_reset(LvcArena *a);
/* Releases the block and zeroes a. Safe on a zeroed arena. */
void lvc_arena_free(LvcArena *a);
/* Bytes needed to carve size bytes at alignment align after used bytes;
 * helps sizing arenas in a planning pass. Returns SIZE_MAX on overflow. */
size_t lvc_arena_need(size_t used, size_t size, size_t align);

#endif /* LVC_COMMON_MEM_H */
