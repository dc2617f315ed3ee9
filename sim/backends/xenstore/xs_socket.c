/*
 * xs_socket.c - the XenStore daemon on a Unix socket, through libuv. Each
 * client is a privileged dom0 connection, as on xenstored's socket.
 *
 * A client holds no buffer while idle. Input is read into one buffer the
 * server shares (libuv calls alloc_cb and read_cb back to back on the loop
 * thread) and handed to the connection at once; only what the connection
 * does not take while its input is paused is kept, in a block of its size,
 * and reading stops until it is taken. Output is written straight from the
 * connection's queue: uv_try_write of the queued messages, and when the
 * socket is full one uv_write of the head message, which stays queued (and
 * counted, and mergeable) until written. So a client that never reads
 * costs what its queue holds, which the store bounds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "backends/xenstore/xs_internal.h"

/* libuv suggests 64 KB per read; one such buffer serves every client. */
#define XS_SOCK_READ_BUF (64 * 1024)
/* Queued messages offered to one uv_try_write. */
#define XS_SOCK_PIECES 16

struct xs_client {
    uv_pipe_t pipe;
    struct xsim_xs_server *srv;
    struct xsim_xs_conn *conn;
    struct xs_client *next, *prev;
    uv_write_t wreq;
    size_t wlen;  /* bytes of the queue's head owned by the uv_write in flight */
    bool writing; /* a uv_write is in flight */
    bool reading;
    bool closing;
    char *held; /* input the connection has not taken yet, or NULL */
    size_t held_len;
};

struct xsim_xs_server {
    struct xsim_xs *xs;
    uv_loop_t *loop;
    uv_pipe_t listener;
    char *path;
    struct xs_client *clients;
    unsigned int nclients;
    unsigned int open_handles; /* listener + clients whose close has not completed */
    bool closing;
    char *rbuf; /* XS_SOCK_READ_BUF bytes: every client's reads land here first */
};

static void server_maybe_free(struct xsim_xs_server *srv)
{
    if (srv->closing && srv->open_handles == 0) {
        struct xsim_xs *xs = srv->xs;

        xs__free(xs, srv->rbuf);
        xs__free(xs, srv->path);
        xs__free(xs, srv);
    }
}

static void client_close_cb(uv_handle_t *h)
{
    struct xs_client *cl = h->data;
    struct xsim_xs_server *srv = cl->srv;

    /* libuv has cancelled a uv_write in flight (write_cb ran) before this:
     * nothing points into the connection's queue any more. */
    xsim_xs_conn_close(cl->conn);
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        srv->clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    srv->nclients--;
    srv->open_handles--;
    xs__free(srv->xs, cl->held);
    xs__free(srv->xs, cl);
    server_maybe_free(srv);
}

/* Close a client. Safe from inside store callbacks: the connection goes
 * only in the close callback, from the loop. */
static void client_close(struct xs_client *cl)
{
    if (cl->closing)
        return;
    cl->closing = true;
    uv_close((uv_handle_t *)&cl->pipe, client_close_cb);
}

static void write_cb(uv_write_t *req, int status);

/* Write queued output until the queue is empty or the socket is full. */
static void flush(struct xs_client *cl)
{
    uv_stream_t *s = (uv_stream_t *)&cl->pipe;

    while (!cl->writing && !cl->closing) {
        struct xs_piece pc[XS_SOCK_PIECES];
        uv_buf_t b[XS_SOCK_PIECES];
        unsigned int n = xs__conn_peek(cl->conn, pc, XS_SOCK_PIECES);
        size_t total = 0;
        int w;

        if (n == 0)
            return;
        for (unsigned int i = 0; i < n; i++) {
            b[i] = uv_buf_init((char *)pc[i].p, (unsigned int)pc[i].len);
            total += pc[i].len;
        }
        w = uv_try_write(s, b, n);
        if (w < 0 && w != UV_EAGAIN) {
            client_close(cl);
            return;
        }
        if (w > 0)
            xs__conn_consume(cl->conn, (size_t)w);
        if (w > 0 && (size_t)w == total)
            continue;
        /* The socket is full. Let libuv write the head message when it
         * can: its bytes stay queued (nothing else pulls this queue while
         * the write is in flight) and write_cb takes them off. */
        n = xs__conn_peek(cl->conn, pc, 1);
        b[0] = uv_buf_init((char *)pc[0].p, (unsigned int)pc[0].len);
        if (uv_write(&cl->wreq, s, b, 1, write_cb) != 0) {
            client_close(cl);
            return;
        }
        cl->wlen = pc[0].len;
        cl->writing = true;
    }
}

static void output_ready(void *ctx, struct xsim_xs_conn *conn)
{
    flush(ctx);
}

static const struct xsim_xs_conn_ops sock_conn_ops = {.output_ready = output_ready};

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct xs_client *cl = h->data;

    /* Shared: read_cb follows at once, and takes or copies the bytes. */
    *buf = uv_buf_init(cl->srv->rbuf, XS_SOCK_READ_BUF);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void reading_set(struct xs_client *cl, bool on)
{
    if (on == cl->reading || cl->closing)
        return;
    if (on && uv_read_start((uv_stream_t *)&cl->pipe, alloc_cb, read_cb) != 0) {
        client_close(cl);
        return;
    }
    if (!on)
        uv_read_stop((uv_stream_t *)&cl->pipe);
    cl->reading = on;
}

/* Offer input to the connection. Returns what it did not take (paused),
 * or -1 if the client must go. */
static long offer(struct xs_client *cl, const char *p, size_t len)
{
    long used = xsim_xs_conn_input(cl->conn, p, len);

    if (used < 0) {
        client_close(cl); /* oversized request, or the connection is dead */
        return -1;
    }
    return (long)(len - (size_t)used);
}

/* Offer held input again (output was pulled, so the connection may take
 * more); resume reading once all of it is taken. */
static void feed(struct xs_client *cl)
{
    long left;

    if (cl->closing || cl->held == NULL)
        return;
    left = offer(cl, cl->held, cl->held_len);
    if (left < 0)
        return;
    if (left == 0) {
        xs__free(cl->srv->xs, cl->held);
        cl->held = NULL;
        cl->held_len = 0;
        reading_set(cl, true);
        return;
    }
    memmove(cl->held, cl->held + (cl->held_len - (size_t)left), (size_t)left);
    cl->held_len = (size_t)left;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct xs_client *cl = s->data;
    long left;

    if (nread < 0) {
        client_close(cl); /* EOF or error */
        return;
    }
    if (nread == 0 || cl->closing)
        return;
    left = offer(cl, buf->base, (size_t)nread);
    if (left <= 0)
        return;
    /* Paused: keep the rest (the shared buffer is about to be reused) and
     * read no more until the connection takes it. */
    cl->held = xs__alloc(cl->srv->xs, (size_t)left);
    if (cl->held == NULL) {
        client_close(cl);
        return;
    }
    memcpy(cl->held, buf->base + nread - left, (size_t)left);
    cl->held_len = (size_t)left;
    reading_set(cl, false);
}

static void write_cb(uv_write_t *req, int status)
{
    struct xs_client *cl = req->data;

    cl->writing = false;
    if (status < 0) {
        client_close(cl); /* also UV_ECANCELED: the client is closing */
        return;
    }
    xs__conn_consume(cl->conn, cl->wlen);
    flush(cl);
    if (!cl->writing)
        feed(cl); /* output drained: take the input we paused on */
}

static void connection_cb(uv_stream_t *server, int status)
{
    struct xsim_xs_server *srv = server->data;
    struct xs_client *cl;

    if (status < 0 || srv->closing)
        return;
    cl = xs__zalloc(srv->xs, sizeof(*cl));
    if (cl == NULL)
        return;
    cl->srv = srv;
    cl->pipe.data = cl;
    cl->wreq.data = cl;
    if (uv_pipe_init(srv->loop, &cl->pipe, 0) != 0) {
        xs__free(srv->xs, cl);
        return;
    }
    srv->open_handles++;
    srv->nclients++;
    cl->next = srv->clients;
    if (srv->clients != NULL)
        srv->clients->prev = cl;
    srv->clients = cl;
    if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0 ||
        xsim_xs_conn_open(srv->xs, 0, true, &sock_conn_ops, cl, &cl->conn) != 0) {
        client_close(cl);
        return;
    }
    reading_set(cl, true);
}

/* Is someone listening on `path`? A socket file left by a dead server
 * refuses connections. */
static bool socket_alive(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;

    if (fd < 0)
        return true;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    close(fd);
    return r == 0 || errno != ECONNREFUSED;
}

static void listener_close_cb(uv_handle_t *h)
{
    struct xsim_xs_server *srv = h->data;

    srv->open_handles--;
    server_maybe_free(srv);
}

int xsim_xs_listen_unix(struct xsim_xs *xs, struct uv_loop_s *loop, const char *path,
                        struct xsim_xs_server **out)
{
    struct sockaddr_un sa;
    struct xsim_xs_server *srv;
    struct stat st;
    int err;

    *out = NULL;
    if (path == NULL || path[0] == '\0')
        return -EINVAL;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    srv = xs__zalloc(xs, sizeof(*srv));
    if (srv == NULL)
        return -ENOMEM;
    srv->xs = xs;
    srv->path = xs__memdup(xs, path, strlen(path));
    srv->rbuf = xs__alloc(xs, XS_SOCK_READ_BUF);
    err = srv->path == NULL || srv->rbuf == NULL ? -ENOMEM : uv_pipe_init(loop, &srv->listener, 0);
    if (err != 0) {
        xs__free(xs, srv->rbuf);
        xs__free(xs, srv->path);
        xs__free(xs, srv);
        return err;
    }
    srv->loop = loop;
    srv->listener.data = srv;
    srv->open_handles = 1;
    err = uv_pipe_bind(&srv->listener, path);
    if (err == UV_EADDRINUSE && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
        !socket_alive(path)) {
        unlink(path);
        err = uv_pipe_bind(&srv->listener, path);
    }
    if (err == 0) {
        err = uv_listen((uv_stream_t *)&srv->listener, 128, connection_cb);
        if (err != 0)
            unlink(path); /* ours: the bind just created it */
    }
    if (err != 0) {
        /* The listener handle must still be closed through the loop. */
        srv->closing = true;
        uv_close((uv_handle_t *)&srv->listener, listener_close_cb);
        return err;
    }
    *out = srv;
    return 0;
}

void xsim_xs_server_close(struct xsim_xs_server *srv)
{
    if (srv == NULL || srv->closing)
        return;
    srv->closing = true;
    unlink(srv->path);
    uv_close((uv_handle_t *)&srv->listener, listener_close_cb);
    for (struct xs_client *cl = srv->clients; cl != NULL; cl = cl->next)
        client_close(cl);
}

unsigned int xsim_xs_server_clients(const struct xsim_xs_server *srv)
{
    return srv->nclients;
}
