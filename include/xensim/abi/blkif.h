/*
 * blkif.h - the block device protocol between blkfront and blkback:
 * requests, responses and their shared ring.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/io/blkif.h (interface version 0x00040e00). Names and
 * values are Xen's; declarations and comments are our own. x86-64 layouts
 * (the "x86_64-abi" protocol).
 *
 * Sector numbers and first_sect/last_sect count 512-byte sectors, whatever
 * the device's sector-size node says, unless the front end advertised
 * feature-large-sector-size (xensim's front ends do not).
 */
#ifndef XENSIM_ABI_BLKIF_H
#define XENSIM_ABI_BLKIF_H

#include "xensim/abi/grant_table.h"
#include "xensim/abi/ring.h"
#include "xensim/abi/xen.h"

typedef uint16_t blkif_vdev_t;   /* Xen declares these two as macros */
typedef uint64_t blkif_sector_t; /* in 512-byte sectors */

#define BLKIF_OP_READ  0
#define BLKIF_OP_WRITE 1
/* Every earlier write completes before this one; no later write completes
 * before it (feature-barrier). May carry no segment, as a pure barrier. */
#define BLKIF_OP_WRITE_BARRIER 2
/* Make what the device's volatile cache holds durable (feature-flush-cache).
 * No ordering promise. Usually carries no segment. */
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_OP_RESERVED_1      4 /* reserved for device-specific command packets */
/* Discard a range (feature-discard): struct blkif_request_discard. */
#define BLKIF_OP_DISCARD 5
/* Segments listed in granted pages (feature-max-indirect-segments):
 * struct blkif_request_indirect. */
#define BLKIF_OP_INDIRECT 6

/* At most this many segments in a direct request (at least 1 except for
 * barriers and flushes). */
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
/* Pages of segments an indirect request may reference. */
#define BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST 8

/* One granted page and the inclusive range of its sectors to transfer
 * (first_sect <= last_sect <= 7). */
struct blkif_request_segment {
    grant_ref_t gref;
    uint8_t first_sect, last_sect;
};

struct blkif_request {
    uint8_t operation;            /* BLKIF_OP_* */
    uint8_t nr_segments;          /* entries used in seg */
    blkif_vdev_t handle;          /* read/write only */
    uint64_t id;                  /* chosen by the front end, echoed in the response */
    blkif_sector_t sector_number; /* first sector on the device */
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};
typedef struct blkif_request blkif_request_t;

/* BLKIF_OP_DISCARD. Shares the ring slot with blkif_request. */
struct blkif_request_discard {
    uint8_t operation; /* BLKIF_OP_DISCARD */
    uint8_t flag;      /* BLKIF_DISCARD_SECURE or 0 */
    blkif_vdev_t handle;
    uint64_t id;
    blkif_sector_t sector_number;
    uint64_t nr_sectors;
};
typedef struct blkif_request_discard blkif_request_discard_t;
/* Ask for a secure erase (honoured only if the back end wrote
 * discard-secure = 1). */
#define BLKIF_DISCARD_SECURE (1 << 0)

/*
 * BLKIF_OP_INDIRECT: a read or write whose segments are listed, 512 to a
 * page, in up to BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST granted pages.
 * Note that handle comes after sector_number here.
 */
struct blkif_request_indirect {
    uint8_t operation;    /* BLKIF_OP_INDIRECT */
    uint8_t indirect_op;  /* BLKIF_OP_READ or BLKIF_OP_WRITE */
    uint16_t nr_segments; /* up to the back end's feature-max-indirect-segments */
    uint64_t id;
    blkif_sector_t sector_number;
    blkif_vdev_t handle;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
};
typedef struct blkif_request_indirect blkif_request_indirect_t;

struct blkif_response {
    uint64_t id;       /* the request's id */
    uint8_t operation; /* the request's operation */
    int16_t status;    /* BLKIF_RSP_* */
};
typedef struct blkif_response blkif_response_t;

#define BLKIF_RSP_EOPNOTSUPP -2 /* operation not supported */
#define BLKIF_RSP_ERROR      -1 /* I/O error */
#define BLKIF_RSP_OKAY       0

DEFINE_RING_TYPES(blkif, struct blkif_request, struct blkif_response);

/* Bits of the back end's "info" node. */
#define VDISK_CDROM     0x1
#define VDISK_REMOVABLE 0x2
#define VDISK_READONLY  0x4

/* Derived constants documented in Xen's blkif.h text; the names are
 * xensim's. */
#define XG_BLKIF_SECTOR_SHIFT           9
#define XG_BLKIF_SECTOR_SIZE            (1U << XG_BLKIF_SECTOR_SHIFT)
#define XG_BLKIF_SECTORS_PER_PAGE       (XEN_PAGE_SIZE >> XG_BLKIF_SECTOR_SHIFT)
#define XG_BLKIF_SEGS_PER_INDIRECT_PAGE (XEN_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define XG_BLKIF_MAX_INDIRECT_SEGMENTS \
    (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * XG_BLKIF_SEGS_PER_INDIRECT_PAGE)

_Static_assert(sizeof(blkif_vdev_t) == 2 && sizeof(blkif_sector_t) == 8, "blkif types");
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif_request_segment");
_Static_assert(sizeof(struct blkif_request) == 112, "blkif_request");
_Static_assert(offsetof(struct blkif_request, handle) == 2, "blkif_request");
_Static_assert(offsetof(struct blkif_request, id) == 8, "blkif_request");
_Static_assert(offsetof(struct blkif_request, sector_number) == 16, "blkif_request");
_Static_assert(offsetof(struct blkif_request, seg) == 24, "blkif_request");
_Static_assert(sizeof(struct blkif_request_discard) == 32, "blkif_request_discard");
_Static_assert(offsetof(struct blkif_request_discard, nr_sectors) == 24, "request_discard");
_Static_assert(sizeof(struct blkif_request_indirect) == 64, "blkif_request_indirect");
_Static_assert(offsetof(struct blkif_request_indirect, handle) == 24, "request_indirect");
_Static_assert(offsetof(struct blkif_request_indirect, indirect_grefs) == 28, "request_indirect");
_Static_assert(sizeof(struct blkif_response) == 16, "blkif_response");
_Static_assert(offsetof(struct blkif_response, status) == 10, "blkif_response");
_Static_assert(sizeof(union blkif_sring_entry) == 112, "blkif ring slot");
_Static_assert(offsetof(struct blkif_sring, ring) == 64, "blkif ring header");
_Static_assert(__CONST_RING_SIZE(blkif, 4096) == 32, "one-page blkif ring");
_Static_assert(__CONST_RING_SIZE(blkif, 16 * 4096) == 512, "16-page blkif ring");
_Static_assert(XG_BLKIF_SEGS_PER_INDIRECT_PAGE == 512, "segments per indirect page");

#endif /* XENSIM_ABI_BLKIF_H */
