/*
 * xg_xenbus.h - the guest's XenStore client over the shared ring page
 * (HVM_PARAM_STORE_PFN) and its event channel (HVM_PARAM_STORE_EVTCHN):
 * requests matched to replies by req_id (several may be outstanding), watch
 * events dispatched by token, transactions retried on EAGAIN, and the
 * frontend state-machine helpers blkfront uses.
 *
 * Any CPU may issue requests; a request waits for its reply by processing
 * the response ring itself (interrupts off, under the client's lock) and
 * yielding, so it also works before interrupts are on. Watch callbacks run
 * from the event upcall or from a waiting request, never with the lock held.
 */
#ifndef XENSIM_GUEST_XG_XENBUS_H
#define XENSIM_GUEST_XG_XENBUS_H

#include "xensim/abi/xenbus.h"
#include "xensim/abi/xs_wire.h"
#include "xensim/guest/xg.h"

#define XG_XENBUS_MAX_REQS    16 /* outstanding requests */
#define XG_XENBUS_MAX_WATCHES 64
#define XG_XENBUS_MAX_EVENTS  32 /* distinct watch events queued before dispatch */
#define XG_XENBUS_TOKEN_MAX   32
#define XG_XENBUS_PATH_MAX    256

struct xg_xenbus;
typedef void (*xg_xenbus_watch_fn)(struct xg_xenbus *xb, const char *path, const char *token,
                                   void *arg);

struct xg_xenbus_req {
    bool in_use, done;
    uint32_t req_id;
    uint32_t type; /* reply type (XS_ERROR on failure) */
    uint32_t len;  /* reply payload length */
    char reply[XENSTORE_PAYLOAD_MAX + 1];
};

struct xg_xenbus_watch {
    bool in_use;
    char token[XG_XENBUS_TOKEN_MAX];
    char path[XG_XENBUS_PATH_MAX];
    xg_xenbus_watch_fn fn;
    void *arg;
};

struct xg_xenbus_event {
    char path[XG_XENBUS_PATH_MAX];
    char token[XG_XENBUS_TOKEN_MAX];
};

struct xg_xenbus {
    struct xg_guest *g;
    struct xenstore_domain_interface *intf;
    evtchn_port_t port;
    volatile uint32_t lock;
    uint32_t next_req_id;
    struct xg_xenbus_req reqs[XG_XENBUS_MAX_REQS];
    /* The reply being read from the ring (messages may straddle reads). */
    struct xsd_sockmsg hdr;
    uint32_t hdr_got, body_got;
    int cur; /* slot of the reply being read, -1 for a watch event, -2 discard */
    char event_buf[XENSTORE_PAYLOAD_MAX + 1];
    struct xg_xenbus_watch watches[XG_XENBUS_MAX_WATCHES];
    struct xg_xenbus_event events[XG_XENBUS_MAX_EVENTS];
    unsigned int nevents;
    volatile uint32_t dispatching;
    uint64_t requests, replies, watch_events, dropped_events, bad_replies;
    uint64_t merged_events; /* identical to one still queued: not queued again */
    bool broken;            /* the daemon broke the protocol: no more requests */
};

/* Map the ring (HVM params), bind the event channel, start taking replies. */
int xg_xenbus_init(struct xg_xenbus *xb, struct xg_guest *g);

/* After SCHEDOP_shutdown(suspend) returned (CPU 0, no request
 * outstanding): nothing for a cancelled suspend; on a new host re-read
 * STORE_PFN/STORE_EVTCHN, bind the (new) event channel, drop what the old
 * daemon left half-read, and register every watch again (each fires once).
 * Returns the first error. */
int xg_xenbus_resume(struct xg_xenbus *xb, bool new_host);

/* One request: payload = `nparts` strings (each sent with its NUL unless it
 * is the last part of a WRITE value). On success the reply is copied into
 * reply (NUL-terminated, up to reply_size) and *reply_len set. An XS_ERROR
 * reply becomes the negative errno its name stands for. */
int xg_xenbus_request(struct xg_xenbus *xb, uint32_t type, uint32_t tx_id, const char *const *parts,
                      unsigned int nparts, char *reply, uint32_t reply_size, uint32_t *reply_len);

int xg_xenbus_read(struct xg_xenbus *xb, uint32_t tx, const char *path, char *buf, uint32_t size);
int xg_xenbus_write(struct xg_xenbus *xb, uint32_t tx, const char *path, const char *value);
int xg_xenbus_rm(struct xg_xenbus *xb, uint32_t tx, const char *path);
/* Children, NUL-separated, into buf; returns their count or -errno. */
int xg_xenbus_directory(struct xg_xenbus *xb, uint32_t tx, const char *path, char *buf,
                        uint32_t size);
int xg_xenbus_read_uint(struct xg_xenbus *xb, uint32_t tx, const char *path, uint64_t *v);
int xg_xenbus_printf_uint(struct xg_xenbus *xb, uint32_t tx, const char *path, uint64_t v);

int xg_xenbus_watch(struct xg_xenbus *xb, const char *path, const char *token,
                    xg_xenbus_watch_fn fn, void *arg);
int xg_xenbus_unwatch(struct xg_xenbus *xb, const char *path, const char *token);
/* Run queued watch callbacks (also done by the upcall). */
void xg_xenbus_dispatch(struct xg_xenbus *xb);

int xg_xenbus_transaction_start(struct xg_xenbus *xb, uint32_t *tx);
/* commit (true) or abort; -EAGAIN when a commit conflicted. */
int xg_xenbus_transaction_end(struct xg_xenbus *xb, uint32_t tx, bool commit);
/* Run fn inside a transaction, retrying on EAGAIN up to max_tries times. */
int xg_xenbus_transaction(struct xg_xenbus *xb, int (*fn)(struct xg_xenbus *, uint32_t, void *),
                          void *arg, unsigned int max_tries);

/* ---- frontend state machine helpers ---- */
/* Write <dev>/state = state. */
int xg_xenbus_switch_state(struct xg_xenbus *xb, const char *dev, enum xenbus_state state);
/* Read a state node (<path>), XenbusStateUnknown if absent or malformed. */
enum xenbus_state xg_xenbus_read_state(struct xg_xenbus *xb, const char *path);
const char *xg_xenbus_state_name(enum xenbus_state s);

/* Small string helpers for freestanding code. */
int xg_xenbus_join(char *dst, uint32_t size, const char *a, const char *b);

#endif
