/*
 * cmd_xenstored.c - `xensim xenstored`: a standalone XenStore daemon on a
 * Unix socket, in the foreground, until SIGINT or SIGTERM. Debian's
 * xenstore-utils and libxenstore reach it through XENSTORED_PATH.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "cli/commands.h"
#include "xensim/xenstore.h"

struct xenstored_run {
    struct xsim_xs_server *srv;
    uv_signal_t sigint, sigterm;
    int signo;
};

static void usage(FILE *out)
{
    fprintf(out, "Usage: xensim xenstored --socket PATH\n\n"
                 "Run a XenStore daemon serving the xs_wire protocol on the Unix socket\n"
                 "PATH until SIGINT or SIGTERM; then remove the socket and exit 0.\n"
                 "Every client is privileged (dom0). Point the Xen tools at it with\n"
                 "XENSTORED_PATH=PATH.\n\n"
                 "Options:\n"
                 "  --socket PATH   where to listen (required)\n"
                 "  --help          show this help\n");
}

static void on_signal(uv_signal_t *h, int signo)
{
    struct xenstored_run *run = h->data;

    run->signo = signo;
    xsim_xs_server_close(run->srv);
    uv_close((uv_handle_t *)&run->sigint, NULL);
    uv_close((uv_handle_t *)&run->sigterm, NULL);
}

static int serve(const char *path)
{
    struct xenstored_run run = {0};
    struct xsim_xs *xs;
    uv_loop_t loop;
    int err;

    /* Writing to a client that has gone must be an error, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "xensim xenstored: cannot create an event loop\n");
        return 1;
    }
    err = xsim_xs_create(NULL, &xs);
    if (err == 0) {
        err = xsim_xs_listen_unix(xs, &loop, path, &run.srv);
        if (err != 0)
            fprintf(stderr, "xensim xenstored: cannot listen on %s: %s\n", path, uv_strerror(err));
    } else {
        fprintf(stderr, "xensim xenstored: cannot create the store: %s\n", uv_strerror(err));
    }
    if (err == 0) {
        run.sigint.data = run.sigterm.data = &run;
        uv_signal_init(&loop, &run.sigint);
        uv_signal_init(&loop, &run.sigterm);
        uv_signal_start(&run.sigint, on_signal, SIGINT);
        uv_signal_start(&run.sigterm, on_signal, SIGTERM);
        fprintf(stderr, "xensim xenstored: listening on %s\n", path);
    }
    /* Runs until the signal handler has closed every handle (or, after a
     * failed listen, just lets the listener's close complete). */
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    xsim_xs_destroy(xs);
    return err == 0 ? 0 : 1;
}

int xsim_cmd_xenstored(int argc, char **argv)
{
    const char *path = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strncmp(argv[i], "--socket=", 9) == 0) {
            path = argv[i] + 9;
        } else {
            fprintf(stderr, "xensim xenstored: unexpected argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (path == NULL || path[0] == '\0') {
        fprintf(stderr, "xensim xenstored: --socket PATH is required\n\n");
        usage(stderr);
        return 2;
    }
    return serve(path);
}
