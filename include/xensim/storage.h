/*
 * storage.h - storage models behind a block backend: a RAM disk, a file
 * (libuv file I/O), and a CD-ROM (read-only medium that can be ejected and
 * changed). Each has a volatile write cache: a completed write is in the
 * cache, and only a flush (or a barrier's implied flush) makes it durable.
 * A power loss drops what the cache holds (all of it, or a random subset
 * drawn from the run's PRNG, as a real cache that destages in any order).
 *
 * Faults live here, never in guest code: I/O errors at a rate, a device
 * that refuses flush or barrier with EOPNOTSUPP although it advertised
 * them, power loss at a chosen time. Every random choice comes from a PRNG
 * stream the caller passes in, so runs stay deterministic.
 *
 * Variants are const ops tables (mem, file, cdrom) with one init each;
 * callers use the xsim_storage_* wrappers. All calls return 0 or a
 * negative errno. Offsets and lengths are in 512-byte sectors.
 */
#ifndef XENSIM_STORAGE_H
#define XENSIM_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xensim/prng.h"

#define XSIM_SECTOR_SIZE 512

struct xsim_storage;

struct xsim_storage_faults {
    double read_error_rate;  /* probability a read fails with -EIO */
    double write_error_rate; /* probability a write fails with -EIO */
    bool refuse_flush;       /* flush answers -EOPNOTSUPP */
    bool refuse_barrier;     /* the backend answers barriers -EOPNOTSUPP */
    /* A device that lies: flush reports success but destages nothing (the
     * consumer drives that ignore cache flushes). */
    bool flush_lies;
    /* On power loss: true drops every cached write, false drops each one
     * with probability 1/2 (a cache destaging in any order). */
    bool lose_all_cached;
};

struct xsim_storage_config {
    uint64_t sectors; /* capacity */
    bool readonly;    /* writes fail with -EROFS */
    bool write_cache; /* false: writes are durable when they complete */
    size_t cache_max; /* cached sectors before a write forces destage; 0 = unbounded */
    const char *path; /* file variant: the backing file (created if missing) */
    struct xsim_storage_faults faults;
    struct xsim_rng *rng; /* borrowed; NULL = no random faults */
};

struct xsim_storage_stats {
    uint64_t reads, writes, flushes, discards, errors;
    uint64_t sectors_read, sectors_written;
    uint64_t cached_sectors; /* written, not yet durable */
    uint64_t lost_sectors;   /* dropped by power loss */
};

/* Create a storage of the given kind. *out is new; free with
 * xsim_storage_destroy. -EINVAL for a bad config, -ENOMEM, or the file's
 * open error. */
int xsim_storage_mem_create(const struct xsim_storage_config *cfg, struct xsim_storage **out);
int xsim_storage_file_create(const struct xsim_storage_config *cfg, struct xsim_storage **out);
/* A CD-ROM: read-only; `cfg->sectors` 0 means no medium (reads -ENOMEDIUM). */
int xsim_storage_cdrom_create(const struct xsim_storage_config *cfg, struct xsim_storage **out);
/* Free (and close the file). Writes still in the volatile cache are
 * dropped, as a power loss would: flush first to keep them. */
void xsim_storage_destroy(struct xsim_storage *s);

/* Reads see the newest data (cache first, then durable). */
int xsim_storage_read(struct xsim_storage *s, uint64_t sector, uint32_t nsectors, void *buf);
int xsim_storage_write(struct xsim_storage *s, uint64_t sector, uint32_t nsectors, const void *buf);
/* Make every cached write durable. */
int xsim_storage_flush(struct xsim_storage *s);
int xsim_storage_discard(struct xsim_storage *s, uint64_t sector, uint64_t nsectors);
/* Drop the volatile cache as a power loss does (see faults). */
void xsim_storage_power_loss(struct xsim_storage *s);
/* Read what is durable, ignoring the cache (oracles after a power loss). */
int xsim_storage_read_durable(struct xsim_storage *s, uint64_t sector, uint32_t nsectors,
                              void *buf);

uint64_t xsim_storage_sectors(const struct xsim_storage *s);
bool xsim_storage_readonly(const struct xsim_storage *s);
bool xsim_storage_is_cdrom(const struct xsim_storage *s);
/* CD-ROM: change the medium (sectors 0 = eject). -EINVAL on other kinds. */
int xsim_storage_cdrom_change(struct xsim_storage *s, uint64_t sectors);
/* CD-ROM contents: byte `byte` of `sector` on medium number `medium` (the
 * first medium is 0, each change adds one), so readers can check data. */
uint8_t xsim_storage_cdrom_byte(uint32_t medium, uint64_t sector, uint32_t byte);
uint32_t xsim_storage_cdrom_medium(const struct xsim_storage *s);
const struct xsim_storage_faults *xsim_storage_faults(const struct xsim_storage *s);
void xsim_storage_set_faults(struct xsim_storage *s, const struct xsim_storage_faults *f);
void xsim_storage_stats(const struct xsim_storage *s, struct xsim_storage_stats *out);

#endif
