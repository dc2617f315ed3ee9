/*
 * zmem.c - zeroed memory for large sparse tables; see zmem.h.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/*
 * Linux only: a freed mapping is kept for the thread's next world. An
 * explorer builds a world per schedule, and a fresh mapping for each cost
 * a short scenario about as much as its run: page tables allocated and
 * cleared again at the first touches, freed again at munmap. Dropping the
 * pages with MADV_DONTNEED alone does not help, as the kernel frees a page
 * table once it is empty. So the pages mincore reports resident are
 * cleared in place (those already zero, such as the shared zero page, are
 * left alone), and the others are dropped with MADV_DONTNEED, which on
 * Linux reads back as zeros on private anonymous memory (not so on the
 * BSDs) and also covers a page that was swapped out.
 */
#if defined(__linux__) && defined(MADV_DONTNEED)
#define ZMEM_KEEP 4
#else
#define ZMEM_KEEP 0
#endif

#if ZMEM_KEEP > 0
struct zkept {
    unsigned int n;
    struct {
        void *p;
        size_t size;
    } m[ZMEM_KEEP];
};

static __thread struct zkept kept;
static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;
static bool kept_ok;
static size_t page_size;

/* A thread that ends returns what it kept. */
static void kept_release(void *arg)
{
    struct zkept *k = arg;

    while (k->n > 0) {
        k->n--;
        munmap(k->m[k->n].p, k->m[k->n].size);
    }
}

static void kept_init(void)
{
    long ps = sysconf(_SC_PAGESIZE);

    page_size = ps > 0 ? (size_t)ps : 0;
    kept_ok = page_size % sizeof(uint64_t) == 0 && page_size != 0 &&
              pthread_key_create(&kept_key, kept_release) == 0;
}

static bool page_is_zero(const unsigned char *page)
{
    const uint64_t *w = (const uint64_t *)(const void *)page;
    uint64_t any = 0;

    for (size_t i = 0; i < page_size / sizeof(*w); i++)
        any |= w[i];
    return any == 0;
}

/* Make the mapping read as zeros again; 0, or -1 (then unmap it). */
static int clear_mapping(void *p, size_t size)
{
    unsigned char vec[4096];
    unsigned char *base = p;
    size_t npages = size / page_size;

    for (size_t first = 0; first < npages; first += sizeof(vec)) {
        size_t n = npages - first < sizeof(vec) ? npages - first : sizeof(vec);
        size_t run = SIZE_MAX; /* the first page of a run not resident */
        if (mincore(base + first * page_size, n * page_size, vec) != 0)
            return -1;
        for (size_t i = 0; i <= n; i++) {
            bool resident = i < n && (vec[i] & 1);
            if (i < n && !resident) {
                if (run == SIZE_MAX)
                    run = i;
                continue;
            }
            if (run != SIZE_MAX) {
                if (madvise(base + (first + run) * page_size, (i - run) * page_size,
                            MADV_DONTNEED) != 0)
                    return -1;
                run = SIZE_MAX;
            }
            if (resident) {
                unsigned char *page = base + (first + i) * page_size;
                if (!page_is_zero(page))
                    memset(page, 0, page_size);
            }
        }
    }
    return 0;
}
#endif

void *xsim__zalloc(size_t size)
{
    void *p;

    if (size >= ZMEM_MAP_MIN) {
#if ZMEM_KEEP > 0
        for (unsigned int i = kept.n; i-- > 0;) {
            if (kept.m[i].size != size)
                continue;
            p = kept.m[i].p;
            kept.m[i] = kept.m[--kept.n];
            return p;
        }
#endif
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
#ifdef MADV_NOHUGEPAGE
        /* A sparse table touches a few small pages: with transparent huge
         * pages, the first touch would clear 2 MiB instead of 4 KiB. */
        (void)madvise(p, size, MADV_NOHUGEPAGE);
#endif
        return p;
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
    if (size < ZMEM_MAP_MIN) {
        free(p);
        return;
    }
#if ZMEM_KEEP > 0
    pthread_once(&kept_once, kept_init);
    if (kept_ok && kept.n < ZMEM_KEEP && size % page_size == 0 && clear_mapping(p, size) == 0) {
        kept.m[kept.n].p = p;
        kept.m[kept.n].size = size;
        kept.n++;
        (void)pthread_setspecific(kept_key, &kept);
        return;
    }
#endif
    munmap(p, size);
}
