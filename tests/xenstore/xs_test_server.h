/*
 * xs_test_server.h - start and stop an in-process XenStore daemon on a
 * Unix socket, for tests that must not include xensim's headers (those
 * that include Debian's xenstore.h, whose xs_wire.h names clash).
 */
#ifndef XSIM_TEST_XS_SERVER_H
#define XSIM_TEST_XS_SERVER_H

#include <stddef.h>

struct xst_server;

/* A daemon with the default configuration on a fresh socket path, copied
 * into path (size bytes). NULL on failure. */
struct xst_server *xst_server_spawn(const char *tag, char *path, size_t size);

/* Stop it and free everything. */
void xst_server_reap(struct xst_server *s);

#endif
