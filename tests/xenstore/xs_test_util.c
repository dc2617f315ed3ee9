/*
 * xs_test_util.c - see xs_test_util.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "xenstore/xs_test_server.h"
#include "xenstore/xs_test_util.h"

static void *server_main(void *arg)
{
    struct xst_server *s = arg;

    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void on_stop(uv_async_t *a)
{
    struct xst_server *s = a->data;

    xsim_xs_server_close(s->srv);
    uv_close((uv_handle_t *)&s->stop, NULL);
    uv_close((uv_handle_t *)&s->sync, NULL);
}

static void on_sync(uv_async_t *a)
{
    struct xst_server *s = a->data;

    pthread_mutex_lock(&s->lock);
    s->sync_done = s->sync_asked;
    pthread_cond_broadcast(&s->synced);
    pthread_mutex_unlock(&s->lock);
}

void xst_server_sync(struct xst_server *s)
{
    unsigned long ticket;

    pthread_mutex_lock(&s->lock);
    ticket = ++s->sync_asked;
    pthread_mutex_unlock(&s->lock);
    /* After the increment: the callback that sees it runs after this send. */
    uv_async_send(&s->sync);
    pthread_mutex_lock(&s->lock);
    while (s->sync_done < ticket)
        pthread_cond_wait(&s->synced, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

int xst_server_start(struct xst_server *s, const struct xsim_xs_config *cfg, const char *path)
{
    int err;

    /* A client that goes away mid-write must not kill the process: as in
     * any libuv program, SIGPIPE is the embedder's to ignore. */
    signal(SIGPIPE, SIG_IGN);
    memset(s, 0, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s", path);
    err = xsim_xs_create(cfg, &s->xs);
    if (err != 0)
        return err;
    uv_loop_init(&s->loop);
    err = xsim_xs_listen_unix(s->xs, &s->loop, path, &s->srv);
    if (err != 0) {
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        xsim_xs_destroy(s->xs);
        return err;
    }
    s->stop.data = s;
    s->sync.data = s;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->synced, NULL);
    uv_async_init(&s->loop, &s->stop, on_stop);
    uv_async_init(&s->loop, &s->sync, on_sync);
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        on_stop(&s->stop);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        xsim_xs_destroy(s->xs);
        pthread_cond_destroy(&s->synced);
        pthread_mutex_destroy(&s->lock);
        return -EAGAIN;
    }
    return 0;
}

void xst_server_stop(struct xst_server *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->thread, NULL);
    uv_loop_close(&s->loop);
    xsim_xs_destroy(s->xs);
    pthread_cond_destroy(&s->synced);
    pthread_mutex_destroy(&s->lock);
    s->xs = NULL;
}

void xst_sock_path(char *buf, size_t size, const char *tag)
{
    /* The build tree may be deep; sockets have a 108-byte limit, so fall
     * back to the temporary directory. */
    const char *tmp = getenv("TMPDIR");

    snprintf(buf, size, "%s/xensim-%s-%ld.sock", tmp != NULL ? tmp : "/tmp", tag, (long)getpid());
}

int xst_connect(const char *path, int timeout_ms)
{
    struct sockaddr_un sa;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0)
        return -errno;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = -errno;

        close(fd);
        return e;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

int xst_send_raw(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int xst_send(int fd, uint32_t type, uint32_t req_id, uint32_t tx_id, const void *payload,
             uint32_t len)
{
    char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX + 64];
    struct xsd_sockmsg h = {.type = type, .req_id = req_id, .tx_id = tx_id, .len = len};

    if (len > XENSTORE_PAYLOAD_MAX + 64)
        return -EINVAL;
    memcpy(buf, &h, sizeof(h));
    if (len > 0)
        memcpy(buf + sizeof(h), payload, len);
    return xst_send_raw(fd, buf, sizeof(h) + len);
}

static int recv_all(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);

        if (n == 0)
            return -EPIPE;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return -ETIMEDOUT;
            return errno == ECONNRESET ? -EPIPE : -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int xst_recv(int fd, struct xsd_sockmsg *h, char *buf)
{
    int err = recv_all(fd, h, sizeof(*h));

    if (err != 0)
        return err;
    if (h->len > XENSTORE_PAYLOAD_MAX)
        return -EPROTO;
    err = recv_all(fd, buf, h->len);
    if (err != 0)
        return err;
    buf[h->len] = '\0';
    return 0;
}

int xst_call(int fd, uint32_t type, uint32_t tx_id, const void *payload, uint32_t len,
             struct xsd_sockmsg *h, char *buf, unsigned int *events)
{
    int err = xst_send(fd, type, 0, tx_id, payload, len);

    if (err != 0)
        return err;
    for (;;) {
        err = xst_recv(fd, h, buf);
        if (err != 0)
            return err;
        if (h->type != XS_WATCH_EVENT)
            return 0;
        if (events != NULL)
            (*events)++;
    }
}

/* Each block carries its size in front, so that frees can be counted. */
#define COUNT_HDR 16

void *xst_count_alloc(void *ctx, void *p, size_t n)
{
    struct xst_counts *c = ctx;
    size_t old = 0;
    char *q = NULL;
    long now;

    if (p != NULL) {
        q = (char *)p - COUNT_HDR;
        memcpy(&old, q, sizeof(old));
    }
    if (n == 0) {
        if (q != NULL) {
            atomic_fetch_sub(&c->allocs, 1);
            atomic_fetch_sub(&c->bytes, (long)old);
        }
        free(q);
        return NULL;
    }
    q = realloc(q, n + COUNT_HDR);
    if (q == NULL)
        return NULL;
    memcpy(q, &n, sizeof(n));
    if (p == NULL)
        atomic_fetch_add(&c->allocs, 1);
    now = atomic_fetch_add(&c->bytes, (long)n - (long)old) + (long)n - (long)old;
    for (long peak = atomic_load(&c->peak);
         now > peak && !atomic_compare_exchange_weak(&c->peak, &peak, now);)
        ;
    return q + COUNT_HDR;
}

long xst_mem_request(struct xsim_xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                     const void *payload, uint32_t len, char *out, size_t cap, size_t *outlen)
{
    struct xsd_sockmsg h = {.type = type, .req_id = req_id, .tx_id = tx_id, .len = len};
    char *buf = malloc(sizeof(h) + len + 1);
    long r;

    memcpy(buf, &h, sizeof(h));
    if (len > 0)
        memcpy(buf + sizeof(h), payload, len);
    r = xsim_xs_conn_input(c, buf, sizeof(h) + len);
    free(buf);
    *outlen = xsim_xs_conn_output(c, out, cap);
    return r;
}

bool xst_next_msg(const char *out, size_t len, size_t *off, struct xsd_sockmsg *h,
                  const char **payload)
{
    if (*off + sizeof(*h) > len)
        return false;
    memcpy(h, out + *off, sizeof(*h));
    if (*off + sizeof(*h) + h->len > len)
        return false;
    *payload = out + *off + sizeof(*h);
    *off += sizeof(*h) + h->len;
    return true;
}

struct xst_server *xst_server_spawn(const char *tag, char *path, size_t size)
{
    struct xst_server *s = malloc(sizeof(*s));
    char p[108];

    if (s == NULL)
        return NULL;
    xst_sock_path(p, sizeof(p), tag);
    if (xst_server_start(s, NULL, p) != 0) {
        free(s);
        return NULL;
    }
    snprintf(path, size, "%s", p);
    return s;
}

void xst_server_reap(struct xst_server *s)
{
    xst_server_stop(s);
    free(s);
}
