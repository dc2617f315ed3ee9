/*
 * xs_test_util.h - helpers for the XenStore tests: a store served on a Unix
 * socket by a libuv loop on its own thread, a raw xs_wire client over
 * blocking sockets, and an in-memory client of a bare connection.
 */
#ifndef XSIM_TEST_XS_UTIL_H
#define XSIM_TEST_XS_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "xensim/abi/xs_wire.h"
#include "xensim/xenstore.h"

/* ---- a server thread ---- */

struct xst_server {
    struct xsim_xs *xs;
    uv_loop_t loop;
    uv_async_t stop;
    uv_async_t sync;
    pthread_mutex_t lock;
    pthread_cond_t synced;
    unsigned long sync_asked, sync_done;
    struct xsim_xs_server *srv;
    pthread_t thread;
    char path[108];
};

/* Create a store with `cfg` (NULL: defaults) and serve it on `path` from a
 * new thread. Returns 0 or a negative errno. */
int xst_server_start(struct xst_server *s, const struct xsim_xs_config *cfg, const char *path);

/* Close the server, join its thread and destroy the store. */
void xst_server_stop(struct xst_server *s);

/* Return once the server thread has finished every callback it was in or
 * had pending when called: e.g. a reply the client has read is then freed
 * by the server too. */
void xst_server_sync(struct xst_server *s);

/* A socket path unique to this process under the build tree. */
void xst_sock_path(char *buf, size_t size, const char *tag);

/* ---- a raw client over a socket ---- */

/* Connect; the socket gets a receive timeout of `timeout_ms`. Returns the
 * fd or a negative errno. */
int xst_connect(const char *path, int timeout_ms);

/* Send one message. Returns 0 or a negative errno. */
int xst_send(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id, const void *payload,
             uint32_t len);

/* Send raw bytes. */
int xst_send_raw(int fd, const void *buf, size_t len);

/* Receive one message into *h and buf (at least XENSTORE_PAYLOAD_MAX + 1
 * bytes; a NUL is added after the payload). Returns 0, -ETIMEDOUT, or
 * -EPIPE when the daemon closed the connection. */
int xst_recv(int fd, struct xsd_sockmsg *h, char *buf);

/* Send a request and return its reply, skipping (and counting, if
 * `events` is not NULL) watch events that come first. */
int xst_call(int fd, uint32_t type, uint32_t tx_id, const void *payload, uint32_t len,
             struct xsd_sockmsg *h, char *buf, unsigned int *events);

/* ---- an allocator that counts (struct xsim_xs_config.alloc) ---- */

struct xst_counts {
    _Atomic long allocs; /* live blocks */
    _Atomic long bytes;  /* live bytes asked for */
    _Atomic long peak;   /* most live bytes at once */
};

/* realloc-like; `ctx` is a struct xst_counts. Thread-safe, so that a test
 * may read the counts while a server thread allocates. */
void *xst_count_alloc(void *ctx, void *p, size_t n);

/* ---- a client of a bare in-memory connection ---- */

/* Feed one request to `c` and pull all output into out/outlen (cap bytes).
 * Returns what xsim_xs_conn_input returned. */
long xst_mem_request(struct xsim_xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                     const void *payload, uint32_t len, char *out, size_t cap, size_t *outlen);

/* Split the message at *off in out[0..len) into header and payload
 * pointer; advance *off. Returns false if no whole message is there. */
bool xst_next_msg(const char *out, size_t len, size_t *off, struct xsd_sockmsg *h,
                  const char **payload);

#endif
