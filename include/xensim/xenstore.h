/*
 * xenstore.h - the simulator's XenStore daemon: the tree with permissions,
 * watches, transactions and per-domain quotas, serving the xs_wire protocol
 * to abstract connections; plus two transports that carry the byte stream,
 * a domain's shared ring page and a Unix socket (libuv).
 *
 * Semantics follow Debian's xenstored 4.17 (the reference peer of
 * tests/xenstore/test_xs_reference.c): replies, errors, watch events and
 * their order, child order, DIRECTORY_PART chunking and transaction
 * conflicts match it byte for byte, except where the comments below say
 * otherwise. As there, a transaction sees every node as it was when the
 * transaction first touched it (present or absent), whatever others do
 * meanwhile, and its commit fails with EAGAIN if any of those nodes has
 * changed since; an event identical to one still queued for a connection
 * is not queued again (special "@..." events excepted).
 *
 * Lifecycle: xsim_xs_create -> transports open connections
 * (xsim_xs_conn_open, xsim_xs_ring_create, xsim_xs_listen_unix) -> bytes
 * flow -> transports close their connections -> xsim_xs_destroy. Nothing
 * is global: several stores can live in one process. A store and its
 * connections are not thread-safe; drive them from one thread (or under
 * one lock).
 *
 * Deliberate differences from the reference:
 * - A request whose payload is not the exact shape of its type (a missing
 *   NUL terminator, extra strings where one is expected) gets EINVAL; the
 *   reference answers with whatever errno was left over and can hit an
 *   assertion (XSA-440 class).
 * - Privileged connections (dom0, sockets) are exempt from quotas but
 *   bounded by hard caps (see struct xsim_xs_config): watches and open
 *   transactions per connection, queued output bytes, queued watch events.
 * - The node-size quota counts the value only (the reference counts its
 *   whole database record).
 * - @introduceDomain / @releaseDomain events reach an unprivileged
 *   connection only if the special node's permissions (SET_PERMS on
 *   "@releaseDomain") let it read; the reference also filters by domain.
 * - DEBUG (XS_CONTROL) knows only "check", "print <text>" and "help".
 */
#ifndef XENSIM_XENSTORE_H
#define XENSIM_XENSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xensim/xen_types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xsim_xs;
struct xsim_xs_conn;
struct xsim_xs_ring;
struct xsim_xs_server;
struct uv_loop_s;

/* Quotas for unprivileged domains: xenstored 4.17's defaults (its
 * `xenstore-control quota` lists them). */
#define XSIM_XS_QUOTA_NODES       1000 /* nodes owned per domain */
#define XSIM_XS_QUOTA_NODE_SIZE   2048 /* bytes of one node's value */
#define XSIM_XS_QUOTA_PERMS       5    /* entries in one SET_PERMS */
#define XSIM_XS_QUOTA_TRANSACTION 10   /* open transactions per connection */
#define XSIM_XS_QUOTA_WATCHES     128  /* watches per connection */
#define XSIM_XS_QUOTA_OUTSTANDING 20   /* replies queued before input stops */
#define XSIM_XS_QUOTA_TXN_NODES   1024 /* nodes one transaction may touch */

/* Hard caps for privileged connections (ours; the reference has none). */
#define XSIM_XS_PRIV_MAX_WATCHES      8192
#define XSIM_XS_PRIV_MAX_TRANSACTIONS 1024
/* For every connection (XSA-349: bounded event queues). An event identical
 * to one still queued is merged into it, as xenstored does since XSA-326;
 * beyond that a connection queues at most XSIM_XS_MAX_QUEUED_EVENTS events
 * and no event past XSIM_XS_MAX_OUTPUT_BYTES of queued output (more are
 * dropped and counted), so a client that never reads costs at most about
 * XSIM_XS_MAX_OUTPUT_BYTES. (xenstored 4.17 bounds an unprivileged domain
 * by a 2.5 MB memory quota and a 20 s event timeout, dom0 not at all.) */
#define XSIM_XS_MAX_QUEUED_EVENTS 1024
#define XSIM_XS_MAX_OUTPUT_BYTES  (1u << 20)

struct xsim_xs_config {
    /*
     * Whether a domain exists in the (simulated) hypervisor. INTRODUCE of a
     * domain that does not exist fails with ENOENT; SET_PERMS fails with
     * ENOENT if the owner does not exist and ignores entries for other
     * domains that do not. NULL: dom0 and introduced domains exist, and
     * INTRODUCE accepts any domid below 0x7ff0 (DOMID_FIRST_RESERVED).
     */
    bool (*domain_exists)(void *ctx, unsigned int domid);
    /* Called for INTRODUCE of a new domain once the request is valid; the
     * simulator attaches the domain's ring here. Return 0 or a negative
     * errno, whose name becomes the reply. Optional. */
    int (*introduce)(void *ctx, unsigned int domid, uint64_t mfn, uint32_t port);
    /* Called for RELEASE after the domain's connections are cut off.
     * Optional. */
    void (*release)(void *ctx, unsigned int domid);
    /* Receives the text of a DEBUG "print" request. Optional. */
    void (*log)(void *ctx, const char *text);
    /* A watch event was queued for a connection of `domid` (after the
     * merging and the bounds of xs__queue_event: an event merged into one
     * still queued, or dropped, is not reported). `path` is as the watcher
     * gets it (relative when the watch was), neither string NUL-terminated.
     * For observers that check delivery; must not call into the store.
     * Optional. */
    void (*event_queued)(void *ctx, unsigned int domid, const char *path, uint32_t plen,
                         const char *token, uint32_t tlen);
    /* Allocator, realloc-like; size 0 frees and returns NULL. Optional
     * (NULL: libc). Tests inject failures through it. */
    void *(*alloc)(void *ctx, void *ptr, size_t size);
    void *ctx; /* passed to every hook above */

    unsigned int quota_nodes;           /* XSIM_XS_QUOTA_NODES */
    unsigned int quota_node_size;       /* XSIM_XS_QUOTA_NODE_SIZE */
    unsigned int quota_perms;           /* XSIM_XS_QUOTA_PERMS */
    unsigned int quota_transactions;    /* XSIM_XS_QUOTA_TRANSACTION */
    unsigned int quota_watches;         /* XSIM_XS_QUOTA_WATCHES */
    unsigned int quota_outstanding;     /* XSIM_XS_QUOTA_OUTSTANDING */
    unsigned int quota_txn_nodes;       /* XSIM_XS_QUOTA_TXN_NODES */
    unsigned int priv_max_watches;      /* XSIM_XS_PRIV_MAX_WATCHES */
    unsigned int priv_max_transactions; /* XSIM_XS_PRIV_MAX_TRANSACTIONS */
    unsigned int max_queued_events;     /* XSIM_XS_MAX_QUEUED_EVENTS; more are dropped */
    size_t max_output_bytes;            /* XSIM_XS_MAX_OUTPUT_BYTES; input pauses at it, events
                                         * that would pass it are dropped */
};

/* Fill `cfg` with the defaults above and no hooks. */
void xsim_xs_config_init(struct xsim_xs_config *cfg);

/* Create a store holding the reference's initial tree ("/", "/tool",
 * "/tool/xenstored", empty, owned by dom0). `cfg` may be NULL for the
 * defaults; it is copied. On success *out is new and owned by the caller.
 * Returns 0, -EINVAL or -ENOMEM. */
int xsim_xs_create(const struct xsim_xs_config *cfg, struct xsim_xs **out);

/* Destroy a store. Every connection must have been closed (rings
 * destroyed, servers closed and their loop run) first. */
void xsim_xs_destroy(struct xsim_xs *xs);

/* Number of nodes in the tree, "/" included. */
size_t xsim_xs_node_count(const struct xsim_xs *xs);

/* Whether `domid` is dom0 or has been introduced and not released. */
bool xsim_xs_domain_introduced(const struct xsim_xs *xs, unsigned int domid);

/* ---- connections: the transport-independent core ---- */

struct xsim_xs_conn_ops {
    /* Output was queued on `conn` (a reply, or a watch event caused by any
     * connection). The transport should pull it with xsim_xs_conn_output,
     * now or later. Called from inside xsim_xs_conn_input of any connection
     * of the store: it must not call into the store except
     * xsim_xs_conn_output and the query functions, and must not close
     * connections. Optional. */
    void (*output_ready)(void *ctx, struct xsim_xs_conn *conn);
};

/* Open a connection for `domid`. A privileged connection (dom0's ring, a
 * socket) passes every permission check and is exempt from quotas.
 * Relative paths resolve under /local/domain/<domid>. `ops` (may be NULL)
 * and `ctx` are borrowed for the connection's life. On success *out is
 * new; close it with xsim_xs_conn_close. Returns 0 or -ENOMEM. */
int xsim_xs_conn_open(struct xsim_xs *xs, unsigned int domid, bool privileged,
                      const struct xsim_xs_conn_ops *ops, void *ctx, struct xsim_xs_conn **out);

/* Close a connection: its watches and transactions go, queued output is
 * dropped. Not from inside output_ready. */
void xsim_xs_conn_close(struct xsim_xs_conn *conn);

/*
 * Feed `len` bytes the client sent. Complete requests are processed at
 * once; their replies and any watch events are queued for output. A
 * request whose payload cannot be buffered (no memory) is answered ENOMEM
 * and the connection goes on (a payload buffer longer than a few dozen
 * bytes is sized to its request and freed after it). Returns the number of
 * bytes consumed, which is less than `len` while input is
 * paused (xsim_xs_conn_input_paused): offer the rest again after pulling
 * output. Returns -EMSGSIZE if the client sent a header with a payload
 * longer than XENSTORE_PAYLOAD_MAX, and -ENOTCONN once the connection is
 * dead (after either, or after its domain was released): the transport
 * must close it.
 */
long xsim_xs_conn_input(struct xsim_xs_conn *conn, const void *buf, size_t len);

/* Copy up to `len` queued output bytes (whole messages in order, possibly
 * cut anywhere) into `buf` and drop them from the queue. Returns the
 * number of bytes copied. */
size_t xsim_xs_conn_output(struct xsim_xs_conn *conn, void *buf, size_t len);

/* Bytes of output queued. */
size_t xsim_xs_conn_output_pending(const struct xsim_xs_conn *conn);

/* True while the connection takes no new request: too many replies wait
 * to be pulled (the outstanding-request quota, or the output cap). */
bool xsim_xs_conn_input_paused(const struct xsim_xs_conn *conn);

/* Reset the connection as a ring reconnect does: partial input, queued
 * output, watches and transactions are dropped; the connection lives on. */
void xsim_xs_conn_reset(struct xsim_xs_conn *conn);

struct xsim_xs_conn_stats {
    uint64_t requests;         /* complete requests processed */
    uint64_t errors;           /* XS_ERROR replies sent */
    uint64_t events_queued;    /* watch events queued */
    uint64_t events_dropped;   /* dropped: queue full, output at its cap, or over 4096 bytes */
    uint64_t events_merged;    /* events identical to one still queued, not queued again */
    unsigned int watches;      /* registered now */
    unsigned int transactions; /* open now */
};

/* Fill `st` with the connection's counters. */
void xsim_xs_conn_get_stats(const struct xsim_xs_conn *conn, struct xsim_xs_conn_stats *st);

/* ---- transport A: a domain's shared ring page ---- */

/*
 * Attach a domain's ring page `intf` (struct xenstore_domain_interface,
 * borrowed; it must stay mapped until xsim_xs_ring_destroy) to a new
 * connection of `xs` for `domid`. Sets server_features (RECONNECTION,
 * ERROR), connection = XENSTORE_CONNECTED and error = XENSTORE_ERROR_NONE;
 * leaves the indexes alone. `notify(ctx)` is called whenever the daemon
 * consumed requests or produced output (the simulator sends the guest's
 * event channel). Output produced by other connections (watch events) is
 * pushed into the ring immediately, with a notify. `notify` must not call
 * back into the store (defer the guest's reaction, as an event channel
 * does). On success *out is new. Returns 0, -EINVAL or -ENOMEM.
 */
int xsim_xs_ring_create(struct xsim_xs *xs, unsigned int domid, bool privileged,
                        struct xenstore_domain_interface *intf, void (*notify)(void *ctx),
                        void *ctx, struct xsim_xs_ring **out);

/*
 * The guest notified the daemon (its event channel fired): handle a
 * reconnect request, consume requests from the req ring, process them and
 * move output into the rsp ring, until neither ring makes progress. Each
 * index is read once per pass and a producer index more than a ring ahead
 * is refused (XSA-155 style). Returns 0, or a negative errno once the ring
 * is in error (-EPROTO: oversized request, -EIO: bad index); then `error`
 * in the page is set and the ring is ignored until the guest reconnects.
 */
int xsim_xs_ring_kick(struct xsim_xs_ring *ring);

/* Start the ring over as a new daemon would (a migrated domain): the
 * connection is reset (xsim_xs_conn_reset: watches, transactions, partial
 * input and queued output gone), all four indexes go to 0, error to NONE
 * and connection to XENSTORE_CONNECTED. No notify. */
void xsim_xs_ring_reset(struct xsim_xs_ring *ring);

/* The ring's connection (borrowed), e.g. for its stats. */
struct xsim_xs_conn *xsim_xs_ring_conn(struct xsim_xs_ring *ring);

/* Close the ring's connection and free the ring. The page is not touched. */
void xsim_xs_ring_destroy(struct xsim_xs_ring *ring);

/* ---- transport B: a Unix socket served through libuv ---- */

/*
 * Listen on the Unix socket `path` with xs_wire framing, on `loop`. Every
 * client is a privileged dom0 connection (like xenstored's socket). A stale
 * socket file nobody listens on is replaced. Memory comes from the store's
 * allocator: an idle client holds under 1 KB (no I/O buffers; one 64 KB
 * read buffer serves the whole server), a client that does not read holds
 * what its connection's queue holds. On success *out is new; the
 * server runs whenever the caller runs the loop. Returns 0 or a negative
 * errno (-EADDRINUSE if another server listens there, -ENAMETOOLONG ...).
 * As in any libuv program, the embedder should ignore SIGPIPE: a client
 * that disconnects while we write must be an error, not a signal.
 */
int xsim_xs_listen_unix(struct xsim_xs *xs, struct uv_loop_s *loop, const char *path,
                        struct xsim_xs_server **out);

/* Stop listening, close every client and remove the socket file. Handles
 * close asynchronously: run the loop until it has no more work before
 * destroying the store; the server frees itself then. */
void xsim_xs_server_close(struct xsim_xs_server *srv);

/* Clients currently connected. */
unsigned int xsim_xs_server_clients(const struct xsim_xs_server *srv);

#ifdef __cplusplus
}
#endif

#endif /* XENSIM_XENSTORE_H */
