/*
 * blkback.h - a block backend in domain 0 (no vCPUs: all its work runs in
 * hypervisor context, inside the notifying hypercall or in timed events),
 * serving one virtual block device of a guest over the blkif protocol:
 * XenStore negotiation, the shared ring (1 to 16 pages), grant mapping,
 * direct and indirect requests, WRITE_BARRIER, FLUSH_DISKCACHE, DISCARD,
 * and a CD-ROM mode, over a storage model (storage.h).
 *
 * The backend trusts nothing the frontend writes: each request is copied
 * out of the ring once (XSA-155), a producer index more than a ring ahead
 * stops the device, segment ranges, sector ranges, grant references and
 * operations are checked and answered BLKIF_RSP_ERROR, never crashed on.
 *
 * Creation also does the toolstack's part of adding a disk (as libxl does):
 * it writes the frontend directory
 *   /local/domain/<guest>/device/vbd/<devid>/{backend,backend-id,state=1,
 *      virtual-device,device-type}
 * and the backend directory
 *   /local/domain/0/backend/vbd/<guest>/<devid>/{frontend,frontend-id,
 *      online=1,state=1,mode,device-type,params,removable}
 * with the permissions xl gives them, then watches the frontend's state.
 * At InitWait it writes its features (feature-flush-cache,
 * feature-barrier, feature-discard + discard-granularity/-alignment,
 * feature-max-indirect-segments, max-ring-page-order); once the frontend
 * is Initialised it maps the ring, binds the event channel and writes
 * sectors, info, sector-size, then Connected. Frontend Closing/Closed
 * disconnects it (ring unmapped, grants released, port closed) and it
 * goes back to InitWait for a reconnect, as Linux's blkback does.
 *
 * Service time: each request completes after a latency from the config
 * (fixed + per-sector, with PRNG jitter), charged as XSIM_COST_BACKEND.
 */
#ifndef XENSIM_BLKBACK_H
#define XENSIM_BLKBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/hv.h"
#include "xensim/storage.h"
#include "xensim/world.h"
#include "xensim/xshost.h"

struct xsim_blkback;

/* What the backend advertises (the frontend must cope with any subset). */
struct xsim_blkback_features {
    bool flush;                       /* feature-flush-cache */
    bool barrier;                     /* feature-barrier */
    bool discard;                     /* feature-discard */
    unsigned int max_indirect_segs;   /* feature-max-indirect-segments; 0 = none */
    unsigned int max_ring_page_order; /* 0..4 (1..16 pages) */
};

struct xsim_blkback_config {
    domid_t backend; /* 0 */
    domid_t guest;
    uint32_t devid; /* virtual-device, e.g. 51712 = xvda */
    bool cdrom;     /* device-type "cdrom", info VDISK_CDROM|VDISK_REMOVABLE */
    bool readonly;  /* mode "r", info VDISK_READONLY */
    struct xsim_blkback_features features;
    struct xsim_storage *storage; /* borrowed; must outlive the backend */
    uint64_t latency_ns;          /* per request; 0 = 20000 */
    uint64_t ns_per_sector;       /* added per sector moved; 0 = 2 */
    double jitter;                /* relative, 0..1; uses the stream below */
    const char *stream;           /* PRNG stream name; NULL = "blkback:<devid>" */
    /* Misbehaviour for frontend tests: answers a barrier or flush with
     * EOPNOTSUPP although advertised (also settable in storage faults). */
    bool refuse_barrier, refuse_flush;
    /* A broken backend: from its Nth response on, the first one sent
     * while other requests are outstanding goes out twice, in one step
     * (the second names a request the frontend just completed). 0: never. */
    unsigned int duplicate_response;
    /* How data grants are reached. false (copy): each segment is copied in
     * the step that completes the request, the grant mapped only for the
     * copy (GNTTABOP_copy). true (map): every data grant is mapped when the
     * request starts and stays mapped across its service time, as Linux
     * blkback without persistent grants maps them before submitting the
     * bio; the data moves through the mappings at completion, and they are
     * unmapped before the response goes out. */
    bool map_grants;
    /* A broken backend holding stale references: at every Nth response,
     * right after answering, it maps the answered request's first data
     * grant again, keeps it for one service latency and unmaps it (the
     * frontend is revoking that grant meanwhile, or has granted the
     * reference again). 0: never. */
    unsigned int stale_map;
};

/* Defaults: guest 1, devid 51712, flush+barrier+discard, 256 indirect
 * segments, ring order 4, read-write disk. */
void xsim_blkback_config_init(struct xsim_blkback_config *cfg);

/* Create the device (writes the XenStore nodes, see above) and start
 * watching. *out is new. */
int xsim_blkback_create(struct xsim_world *w, struct xsim_hv *hv, struct xsim_xshost *xs,
                        const struct xsim_blkback_config *cfg, struct xsim_blkback **out);
/* Disconnect (if connected) and free. The XenStore nodes stay. */
void xsim_blkback_destroy(struct xsim_blkback *b);
/* Toolstack-side removal: backend state Closing -> Closed, nodes removed. */
int xsim_blkback_remove(struct xsim_blkback *b);

enum xsim_blkback_state {
    XSIM_BLKBACK_INITWAIT = 0, /* waiting for the frontend */
    XSIM_BLKBACK_CONNECTED,
    XSIM_BLKBACK_CLOSED,
    XSIM_BLKBACK_BROKEN, /* the frontend broke the ring protocol: no more service */
};
enum xsim_blkback_state xsim_blkback_state(const struct xsim_blkback *b);

/* CD-ROM medium change (0 sectors = eject): updates storage and the
 * backend's sectors node, which the frontend watches. */
int xsim_blkback_media_change(struct xsim_blkback *b, uint64_t sectors);

struct xsim_blkback_stats {
    uint64_t requests, responses;
    uint64_t reads, writes, barriers, flushes, discards, indirect;
    uint64_t errors;       /* BLKIF_RSP_ERROR sent */
    uint64_t eopnotsupp;   /* BLKIF_RSP_EOPNOTSUPP sent */
    uint64_t bad_requests; /* rejected malformed requests (bad segments, ranges, refs) */
    uint64_t stale_maps;   /* stale_map fault: maps tried, and how many the grant allowed */
    uint64_t stale_mapped;
    uint64_t notifies_sent, notifies_received;
    uint64_t connects, disconnects;
    unsigned int ring_pages;
    unsigned int in_flight; /* now */
};
void xsim_blkback_stats(const struct xsim_blkback *b, struct xsim_blkback_stats *out);

/* The backend's XenStore directory (borrowed string). */
const char *xsim_blkback_path(const struct xsim_blkback *b);

#endif
