/*
 * xs_internal.h - private structures of the XenStore daemon shared by its
 * files: the node table, transactions and their accessed-node records,
 * watches, connections with their input and output queues.
 */
#ifndef XSIM_XS_INTERNAL_H
#define XSIM_XS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xensim/abi/xs_wire.h"
#include "xensim/xenstore.h"

/* Canonical paths are at most 2048 bytes after a /local/domain/<id>/ of at
 * most 25 bytes; a request path is at most XENSTORE_PAYLOAD_MAX. */
#define XS__PATH_BUF       (XENSTORE_PAYLOAD_MAX + 64)
#define XS__PATH_MAX       2048    /* xenstored 4.17's path-max quota, for everyone */
#define XS__DOMID_RESERVED 0x7ff0u /* DOMID_FIRST_RESERVED */

/* Permission bits (internal values). */
#define XS__PERM_READ  1u
#define XS__PERM_WRITE 2u
#define XS__PERM_OWNER 4u
#define XS__PERM_ALL   (XS__PERM_READ | XS__PERM_WRITE | XS__PERM_OWNER)

struct xs_perm {
    uint32_t domid;
    uint8_t perm;   /* XS__PERM_READ | XS__PERM_WRITE */
    uint8_t ignore; /* the domain did not exist or was released: entry inert */
};

/* ---- an intrusive hash table keyed by byte strings ---- */

struct xs_hent {
    struct xs_hent *next;
    uint64_t hash;
    const char *key;
    uint32_t klen;
};

struct xs_htab {
    struct xs_hent **b;
    size_t mask; /* buckets - 1 */
    size_t n;
};

uint64_t xs__hash(const char *s, size_t len);
int xs__htab_init(struct xsim_xs *xs, struct xs_htab *t, size_t buckets);
void xs__htab_fini(struct xsim_xs *xs, struct xs_htab *t);
struct xs_hent *xs__htab_find(const struct xs_htab *t, const char *key, uint32_t klen,
                              uint64_t hash);
/* Never fails: if growing the table fails the chains just get longer. */
void xs__htab_insert(struct xsim_xs *xs, struct xs_htab *t, struct xs_hent *e);
void xs__htab_remove(struct xs_htab *t, struct xs_hent *e);

/* ---- nodes ---- */

struct xs_node {
    struct xs_hent h; /* key = path */
    char *path;
    uint32_t pathlen;
    uint64_t gen; /* changes on every write of the node */
    char *value;
    uint32_t vlen;
    struct xs_perm *perms; /* perms[0] is the owner and the default for others */
    uint32_t nperms;
    char *children; /* child names, each NUL-terminated, in creation order */
    uint32_t clen, ccap;
};

/* ---- domains ---- */

struct xs_domain {
    uint32_t domid;
    bool introduced; /* dom0 always */
    uint32_t target; /* SET_TARGET: acts for this domain too */
    bool has_target;
    long nodes; /* nodes owned */
};

/* ---- watches ---- */

struct xs_watch {
    char *path; /* canonical, or the special "@..." name */
    uint32_t plen;
    char *token;
    uint32_t tlen;
    uint32_t strip; /* bytes of /local/domain/<id>/ to strip from event paths */
    uint64_t hash;  /* of path and token, to find duplicates fast */
};

/* ---- transactions ---- */

struct xs_tentry {
    struct xs_hent h;             /* key = path */
    struct xs_tentry *next_order; /* first-access order */
    char *path;
    uint32_t pathlen;
    bool base_exists; /* did the node exist at first access */
    uint64_t base_gen;
    bool modified;        /* the transaction wrote or deleted it: install at commit */
    struct xs_node *copy; /* the node as the transaction sees it; NULL: absent */
    bool fire;            /* fire watches for it at commit */
    bool exact;           /* only watches on exactly this path (recursive delete) */
};

struct xs_txn {
    struct xs_txn *next; /* the connection's list */
    uint32_t id;
    struct xs_htab entries;
    struct xs_tentry *first, *last;
    unsigned int nentries;
    long node_delta; /* nodes the connection's domain gains at commit */
};

/* ---- connections ---- */

struct xs_msg {
    struct xs_msg *next;
    struct xs_hent h; /* a mergeable event: in the connection's pending set */
    uint32_t len;     /* header + payload */
    uint32_t off;     /* bytes already pulled */
    bool event;
    bool pending; /* h is in the pending set */
    char data[];
};

struct xsim_xs_conn {
    struct xsim_xs *xs;
    struct xsim_xs_conn *next, *prev;
    uint32_t domid;
    bool privileged;
    bool dead;      /* protocol violation: closed until a ring reconnect */
    bool released;  /* its domain was released: closed for good */
    bool out_dirty; /* output queued since the transport was last told */
    const struct xsim_xs_conn_ops *ops;
    void *ctx;

    /* input: the payload goes to `in`, which is in_small or, for a longer
     * one, a block of exactly hdr.len + 1 bytes (+1: a NUL after the
     * payload) freed once the request is processed, so that an idle
     * connection holds no buffer; NULL if that block could not be had
     * (the payload is skipped and the request answered with ENOMEM) */
    struct xsd_sockmsg hdr;
    uint32_t hdr_got;
    uint32_t in_got;
    char *in;
    char in_small[64]; /* ours: most requests' payloads (a path or two) fit */

    /* output */
    struct xs_msg *out_head, *out_tail;
    size_t out_bytes;
    unsigned int out_replies, out_events;
    /* queued watch events by payload, to merge identical ones; buckets
     * only while some are queued (b == NULL otherwise) */
    struct xs_htab pending;

    /* watches in registration order */
    struct xs_watch *watches;
    unsigned int nwatches, wcap;

    /* transactions */
    struct xs_txn *txns;
    unsigned int ntxns;
    uint32_t next_txid;

    struct xsim_xs_conn_stats st;
};

/* ---- the store ---- */

struct xsim_xs {
    struct xsim_xs_config cfg;
    struct xs_htab nodes;
    uint64_t gen; /* last generation handed out */
    struct xs_domain *doms;
    unsigned int ndoms, domcap;
    struct xs_perm *spec_perms[2]; /* @introduceDomain, @releaseDomain */
    uint32_t spec_nperms[2];
    struct xsim_xs_conn *conns_head, *conns_tail;
    char reply[XENSTORE_PAYLOAD_MAX + 1]; /* scratch for building replies */
};

/* ---- allocation (xs_util.c) ---- */
void *xs__alloc(struct xsim_xs *xs, size_t n);
void *xs__zalloc(struct xsim_xs *xs, size_t n);
void *xs__realloc(struct xsim_xs *xs, void *p, size_t n);
void xs__free(struct xsim_xs *xs, void *p);
char *xs__memdup(struct xsim_xs *xs, const void *p, size_t n); /* adds a NUL */

/* ---- paths (xs_util.c) ---- */
/* Canonicalise `in` (NUL-terminated) for `conn` into out[XS__PATH_BUF];
 * returns the length, or -EINVAL if it is not a valid node path. */
int xs__canon(const struct xsim_xs_conn *conn, const char *in, char *out);
/* Length of the "/local/domain/<id>/" prefix of a canonical path, or 0. */
uint32_t xs__home_prefix_len(const char *path, uint32_t len);
/* Length of the parent path ("/" for top-level nodes). */
uint32_t xs__parent_len(const char *path, uint32_t len);
/* Name of errno `err` as sent on the wire (EINVAL for unknown ones). */
const char *xs__errname(int err);
/* atoi() as the reference uses it, taken modulo 2^32 (no undefined cases). */
uint32_t xs__atou(const char *s);

/* ---- store (xs_store.c) ---- */
struct xs_node *xs__node_get(const struct xsim_xs *xs, const char *path, uint32_t len);
struct xs_node *xs__node_new(struct xsim_xs *xs, const char *path, uint32_t len);
void xs__node_free(struct xsim_xs *xs, struct xs_node *n);
/* Deep copy (path, value, perms, children); NULL on ENOMEM. */
struct xs_node *xs__node_dup(struct xsim_xs *xs, const struct xs_node *n);
int xs__node_set_value(struct xsim_xs *xs, struct xs_node *n, const char *v, uint32_t len);
int xs__node_set_perms(struct xsim_xs *xs, struct xs_node *n, const struct xs_perm *p, uint32_t np);
/* Make room for a child name of `len` bytes (plus NUL). */
int xs__node_reserve_child(struct xsim_xs *xs, struct xs_node *n, uint32_t len);
/* Append (room must have been reserved) or remove a child name; removing
 * one that is not listed returns false. */
void xs__node_add_child(struct xs_node *n, const char *name, uint32_t len);
bool xs__node_del_child(struct xs_node *n, const char *name, uint32_t len);
/* Put a node into the tree / take it out, keeping owner counts. */
void xs__tree_insert(struct xsim_xs *xs, struct xs_node *n);
void xs__tree_remove(struct xsim_xs *xs, struct xs_node *n);
struct xs_domain *xs__domain(struct xsim_xs *xs, uint32_t domid, bool create);
bool xs__domain_exists(struct xsim_xs *xs, uint32_t domid);
void xs__owner_count(struct xsim_xs *xs, uint32_t domid, long delta);
unsigned int xs__perm_for(const struct xsim_xs_conn *c, const struct xs_perm *p, uint32_t np);

/* ---- views: the tree as a request sees it, in a transaction or not
 * (xs_txn.c) ---- */
struct xs_view {
    struct xsim_xs *xs;
    struct xsim_xs_conn *conn;
    struct xs_txn *txn; /* NULL: the live tree */
};
/* Look a node up. In a transaction the first access records the node (a
 * copy, or its absence) and every later one returns that record: reads
 * are repeatable. Returns the node (borrowed until the request ends) or
 * NULL; *err is 0 if it does not exist, else ENOMEM/ENOSPC. */
const struct xs_node *xs__view_get(struct xs_view *v, const char *path, uint32_t len, int *err);
/* A node the caller may change in place (the live node, or the
 * transaction's copy). Must exist. NULL with *err on failure. Call
 * xs__view_touch after changing it. */
struct xs_node *xs__view_modify(struct xs_view *v, const char *path, uint32_t len, int *err);
void xs__view_touch(struct xs_view *v, struct xs_node *n);
/* Add a node that does not exist; takes `n`. */
int xs__view_create(struct xs_view *v, struct xs_node *n);
/* Delete one node (not its children). */
int xs__view_delete(struct xs_view *v, const char *path, uint32_t len);
/* Fire watches now, or at commit inside a transaction. */
int xs__view_fire(struct xs_view *v, const char *path, uint32_t len, bool exact);

struct xs_txn *xs__txn_find(struct xsim_xs_conn *c, uint32_t id);
int xs__txn_start(struct xsim_xs_conn *c, uint32_t *id);
/* Commit (EAGAIN on conflict) or abort; the transaction is gone after. */
int xs__txn_end(struct xsim_xs_conn *c, struct xs_txn *t, bool commit);
void xs__txn_free_all(struct xsim_xs_conn *c);

/* ---- watches (xs_watch.c) ---- */
int xs__watch_add(struct xsim_xs_conn *c, const char *path, uint32_t plen, const char *token,
                  uint32_t tlen, uint32_t strip);
int xs__watch_del(struct xsim_xs_conn *c, const char *path, uint32_t plen, const char *token,
                  uint32_t tlen);
void xs__watch_free_all(struct xsim_xs_conn *c);
/* Queue events for every watch that `name` triggers. `perms` are the
 * node's (before a delete), for unprivileged watchers' read check. */
void xs__fire(struct xsim_xs *xs, const char *name, uint32_t nlen, bool exact,
              const struct xs_perm *perms, uint32_t nperms);
/* `which`: 0 @introduceDomain, 1 @releaseDomain. */
void xs__fire_special(struct xsim_xs *xs, int which);

/* ---- connections (xs_conn.c) ---- */
/* Queue a reply; returns 0 or -ENOMEM. */
int xs__queue_reply(struct xsim_xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                    const void *payload, uint32_t len);
/* Queue a watch event, unless an identical one (same path and token) is
 * queued already and not yet pulled whole: then it is merged into that one
 * (xenstored does so since XSA-326; special "@..." events excepted).
 * Dropped, and counted, if the connection's event queue is full, its
 * output is at max_output_bytes, or the event would not fit the wire. */
void xs__queue_event(struct xsim_xs_conn *c, const char *path, uint32_t plen, const char *token,
                     uint32_t tlen);

/* The queued output as up to `max` pieces, each the unpulled part of one
 * message, oldest first; returns how many. The pieces are borrowed: they
 * stay valid until xs__conn_consume takes them or the output is dropped
 * (reset, close), whatever else is queued meanwhile. */
struct xs_piece {
    const char *p;
    size_t len;
};
unsigned int xs__conn_peek(const struct xsim_xs_conn *c, struct xs_piece *out, unsigned int max);
/* Take the first `n` queued bytes off the queue (n <= bytes queued). */
void xs__conn_consume(struct xsim_xs_conn *c, size_t n);

/* ---- requests (xs_ops.c) ---- */
/* Handle the complete request in c->hdr / c->in. */
void xs__process(struct xsim_xs_conn *c);

#endif
