/*
 * zmem.h - zeroed memory for large sparse tables (internal).
 *
 * A port table covers the whole FIFO port range (131072 entries) while a
 * run binds a handful of ports. calloc cannot promise that untouched pages
 * cost nothing: glibc raises its mmap threshold after the first large
 * free, and from then on serves such a block from the heap and clears all
 * of it (every page faulted in, once per world). These map large blocks
 * directly, so only the pages a run touches are ever backed.
 */
#ifndef XSIM_WORLD_ZMEM_H
#define XSIM_WORLD_ZMEM_H

#include <stddef.h>

/* `size` zeroed bytes, aligned to at least 64; NULL when out of memory.
 * Free with xsim__zfree and the same size. */
void *xsim__zalloc(size_t size);
void xsim__zfree(void *p, size_t size);

#endif
