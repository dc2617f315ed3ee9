/*
 * zmem.c - zeroed memory for large sparse tables; see zmem.h.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "world/zmem.h"

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

/* Below this, the heap is cheaper than a mapping and clearing is cheap. */
#define ZMEM_MAP_MIN ((size_t)256 * 1024)

/* Sanitizer builds map them too: an index far past a table's end then
 * usually faults instead of meeting a redzone. Keeping them on the heap
 * under ASan would clear 17 MiB per world (aligned_alloc and memset), and
 * test_explore builds thousands of worlds. */

void *xsim__zalloc(size_t size)
{
    void *p;

    if (size >= ZMEM_MAP_MIN) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p != MAP_FAILED ? p : NULL;
    }
    size = (size + 63) / 64 * 64;
    p = aligned_alloc(64, size != 0 ? size : 64);
    if (p != NULL)
        memset(p, 0, size != 0 ? size : 64);
    return p;
}

void xsim__zfree(void *p, size_t size)
{
    if (p == NULL)
        return;
    if (size >= ZMEM_MAP_MIN)
        munmap(p, size);
    else
        free(p);
}
