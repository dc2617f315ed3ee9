/*
 * xs_socket.c - the XenStore daemon on a Unix socket, through libuv. Each
 * client is a privileged dom0 connection, as on xenstored's socket. Output
 * is written eagerly with uv_try_write and falls back to one uv_write in
 * flight; input pauses (uv_read_stop) while the connection's output is
 * over its cap, so a client that never reads cannot grow our memory.
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

#define XS_SOCK_BUF (64 * 1024)

struct xs_client {
    uv_pipe_t pipe;
    struct xsim_xs_server *srv;
    struct xsim_xs_conn *conn;
    struct xs_client *next, *prev;
    uv_write_t wreq;
    bool writing; /* wbuf is owned by a uv_write in flight */
    bool reading;
    bool closing;
    size_t rlen;
    char rbuf[XS_SOCK_BUF];
    char wbuf[XS_SOCK_BUF];
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
};

static void server_maybe_free(struct xsim_xs_server *srv)
{
    if (srv->closing && srv->open_handles == 0) {
        free(srv->path);
        free(srv);
    }
}

static void client_close_cb(uv_handle_t *h)
{
    struct xs_client *cl = h->data;
    struct xsim_xs_server *srv = cl->srv;

    xsim_xs_conn_close(cl->conn);
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        srv->clients = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    srv->nclients--;
    srv->open_handles--;
    free(cl);
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

static void flush(struct xs_client *cl)
{
    uv_stream_t *s = (uv_stream_t *)&cl->pipe;

    if (cl->writing || cl->closing)
        return;
    for (;;) {
        size_t n = xsim_xs_conn_output(cl->conn, cl->wbuf, sizeof(cl->wbuf));
        uv_buf_t b = uv_buf_init(cl->wbuf, (unsigned int)n);
        int w;

        if (n == 0)
            return;
        w = uv_try_write(s, &b, 1);
        if (w == (int)n)
            continue;
        if (w < 0 && w != UV_EAGAIN) {
            client_close(cl);
            return;
        }
        if (w < 0)
            w = 0;
        memmove(cl->wbuf, cl->wbuf + w, n - (size_t)w);
        b = uv_buf_init(cl->wbuf, (unsigned int)(n - (size_t)w));
        if (uv_write(&cl->wreq, s, &b, 1, write_cb) != 0) {
            client_close(cl);
            return;
        }
        cl->writing = true;
        return;
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

    *buf = uv_buf_init(cl->rbuf + cl->rlen, (unsigned int)(sizeof(cl->rbuf) - cl->rlen));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* Offer buffered input to the connection; pause reading if it takes no
 * more, resume once it does. */
static void feed(struct xs_client *cl)
{
    long used;

    if (cl->closing)
        return;
    used = xsim_xs_conn_input(cl->conn, cl->rbuf, cl->rlen);
    if (used < 0) {
        client_close(cl); /* oversized request: the connection ends */
        return;
    }
    memmove(cl->rbuf, cl->rbuf + used, cl->rlen - (size_t)used);
    cl->rlen -= (size_t)used;
    if (cl->rlen > 0 && cl->reading) {
        uv_read_stop((uv_stream_t *)&cl->pipe);
        cl->reading = false;
    } else if (cl->rlen == 0 && !cl->reading && !cl->closing) {
        if (uv_read_start((uv_stream_t *)&cl->pipe, alloc_cb, read_cb) != 0)
            client_close(cl);
        else
            cl->reading = true;
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct xs_client *cl = s->data;

    if (nread < 0) {
        client_close(cl); /* EOF or error */
        return;
    }
    cl->rlen += (size_t)nread;
    feed(cl);
}

static void write_cb(uv_write_t *req, int status)
{
    struct xs_client *cl = req->data;

    cl->writing = false;
    if (status < 0) {
        client_close(cl);
        return;
    }
    flush(cl);
    if (!cl->writing && !cl->reading)
        feed(cl); /* output drained: take the input we paused on */
}

static void connection_cb(uv_stream_t *server, int status)
{
    struct xsim_xs_server *srv = server->data;
    struct xs_client *cl;

    if (status < 0 || srv->closing)
        return;
    cl = calloc(1, sizeof(*cl));
    if (cl == NULL)
        return;
    cl->srv = srv;
    cl->pipe.data = cl;
    cl->wreq.data = cl;
    if (uv_pipe_init(srv->loop, &cl->pipe, 0) != 0) {
        free(cl);
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
    if (uv_read_start((uv_stream_t *)&cl->pipe, alloc_cb, read_cb) != 0) {
        client_close(cl);
        return;
    }
    cl->reading = true;
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
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return -ENOMEM;
    srv->path = strdup(path);
    if (srv->path == NULL) {
        free(srv);
        return -ENOMEM;
    }
    srv->xs = xs;
    srv->loop = loop;
    err = uv_pipe_init(loop, &srv->listener, 0);
    if (err != 0) {
        free(srv->path);
        free(srv);
        return err;
    }
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
