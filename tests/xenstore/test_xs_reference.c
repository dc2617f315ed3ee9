/*
 * test_xs_reference.c - differential test: the same request sequence goes
 * to Debian's own xenstored 4.17 (started by
 * ../shared/tools/reference-xenstored relative to the source tree) and to
 * ours, over Unix sockets, and every reply and watch event must match byte
 * for byte.
 *
 * Normalised, and only these: transaction ids (the TRANSACTION_START reply
 * and the tx_id of messages in a transaction are compared as "which
 * transaction of the script", not as numbers) and the generation number
 * that starts a DIRECTORY_PART reply (a counter private to each daemon).
 *
 * After each request, every connection that has watches is synchronised
 * with a harmless GET_DOMAIN_PATH so that the events a request caused on
 * other connections are compared deterministically.
 *
 * Exit 77 (skipped) if the reference cannot be started. Set
 * XS_REFERENCE_VERBOSE=1 to print every transcript.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xenstore/xs_test_util.h"

#define NCONN 6
#define NTX   16

struct daemon {
    const char *name;
    char path[108];
    int fd[NCONN];
    uint32_t tx[NTX]; /* script transaction handle -> the daemon's id */
    char out[1 << 16];
    size_t outlen;
};

static struct daemon ref = {.name = "reference"}, ours = {.name = "xensim"};
static bool watching[NCONN];
static unsigned int steps, diffs;

static void outf(struct daemon *d, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(d->out + d->outlen, sizeof(d->out) - d->outlen, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->outlen += (size_t)n;
    if (d->outlen >= sizeof(d->out))
        d->outlen = sizeof(d->out) - 1;
}

static void render_bytes(struct daemon *d, const char *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];

        if (ch == 0)
            outf(d, "\\0");
        else if (isprint(ch) && ch != '\\')
            outf(d, "%c", ch);
        else
            outf(d, "\\x%02x", ch);
    }
}

static void render_tx(struct daemon *d, uint32_t tx)
{
    for (int h = 1; h < NTX; h++) {
        if (tx != 0 && d->tx[h] == tx) {
            outf(d, " tx=T%d", h);
            return;
        }
    }
    outf(d, " tx=%u", tx);
}

static void render(struct daemon *d, const struct xsd_sockmsg *h, const char *p, int store_tx)
{
    outf(d, "[type=%u req=%u", h->type, h->req_id);
    render_tx(d, h->tx_id);
    if (h->type == XS_DIRECTORY_PART) /* the generation's digits do not count */
        outf(d, " len=<gen>+%zu] ", h->len - strnlen(p, h->len));
    else
        outf(d, " len=%u] ", h->len);
    if (h->type == XS_TRANSACTION_START && store_tx > 0) {
        d->tx[store_tx] = (uint32_t)strtoul(p, NULL, 10);
        outf(d, "<id of T%d>", store_tx);
    } else if (h->type == XS_DIRECTORY_PART) {
        size_t g = strnlen(p, h->len);

        outf(d, "<gen>");
        render_bytes(d, p + g, h->len - (uint32_t)g);
    } else {
        render_bytes(d, p, h->len);
    }
    outf(d, "\n");
}

/* Read messages on conn c until a non-event arrives. */
static void collect(struct daemon *d, int c, int store_tx)
{
    char buf[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h;

    for (;;) {
        int err = xst_recv(d->fd[c], &h, buf);

        if (err != 0) {
            outf(d, "<%s>\n", err == -EPIPE ? "closed" : "timeout");
            if (err == -EPIPE) {
                close(d->fd[c]);
                d->fd[c] = xst_connect(d->path, 3000);
            }
            return;
        }
        render(d, &h, buf, store_tx);
        if (h.type != XS_WATCH_EVENT)
            return;
    }
}

static void run_one(struct daemon *d, int c, uint32_t type, int txh, int store_tx, const void *p,
                    uint32_t len, bool raw)
{
    d->outlen = 0;
    if (raw)
        xst_send_raw(d->fd[c], p, len);
    else
        xst_send(d->fd[c], type, 0, txh > 0 ? d->tx[txh] : (uint32_t)-txh, p, len);
    collect(d, c, store_tx);
    for (int w = 0; w < NCONN; w++) {
        if (!watching[w])
            continue;
        outf(d, "sync %d: ", w);
        xst_send(d->fd[w], XS_GET_DOMAIN_PATH, 0, 0, "0", 2);
        collect(d, w, 0);
    }
}

static void step_full(int line, int c, uint32_t type, int txh, int store_tx, const void *p,
                      uint32_t len, bool raw)
{
    steps++;
    if (type == XS_WATCH)
        watching[c] = true;
    run_one(&ref, c, type, txh, store_tx, p, len, raw);
    run_one(&ours, c, type, txh, store_tx, p, len, raw);
    if (getenv("XS_REFERENCE_VERBOSE") != NULL)
        printf("line %d:\n%.*s", line, (int)ours.outlen, ours.out);
    if (ref.outlen != ours.outlen || memcmp(ref.out, ours.out, ref.outlen) != 0) {
        diffs++;
        printf("DIFF at script line %d (conn %d, type %u, payload ", line, c, type);
        for (uint32_t i = 0; i < len && i < 80; i++) {
            unsigned char ch = ((const unsigned char *)p)[i];

            if (isprint(ch))
                putchar(ch);
            else
                printf("\\x%02x", ch);
        }
        printf("%s)\n  reference:\n%.*s  xensim:\n%.*s", len > 80 ? "..." : "", (int)ref.outlen,
               ref.out, (int)ours.outlen, ours.out);
    }
}

/* S(conn, type, tx handle or 0, "payload with \0 inside") */
#define S(c, type, txh, lit)       step_full(__LINE__, c, type, txh, 0, lit, sizeof(lit) - 1, false)
#define SB(c, type, txh, buf, len) step_full(__LINE__, c, type, txh, 0, buf, len, false)
/* Start transaction handle h on conn c. */
#define TS(c, h) step_full(__LINE__, c, XS_TRANSACTION_START, 0, h, "", 1, false)

static uint32_t mkpath(char *buf, const char *prefix, uint32_t total)
{
    uint32_t n = (uint32_t)strlen(prefix);

    memcpy(buf, prefix, n);
    while (n < total) {
        uint32_t seg = total - n - 1 < 40 ? total - n - 1 : 40;

        if (seg == 0) {
            buf[n++] = 'b';
            continue;
        }
        buf[n++] = '/';
        memset(buf + n, 'a', seg);
        n += seg;
    }
    buf[n] = '\0';
    return n;
}

static void script_basic(void)
{
    char buf[XENSTORE_PAYLOAD_MAX + 64];
    uint32_t n;

    S(0, XS_READ, 0, "/\0");
    S(0, XS_READ, 0, "/tool\0");
    S(0, XS_DIRECTORY, 0, "/\0");
    S(0, XS_DIRECTORY, 0, "/tool\0");
    S(0, XS_GET_PERMS, 0, "/tool/xenstored\0");
    S(0, XS_WRITE, 0, "/a/b\0one");
    S(0, XS_WRITE, 0, "/a/c\0");
    S(0, XS_READ, 0, "/a/b\0");
    S(0, XS_READ, 0, "/a/c\0");
    S(0, XS_READ, 0, "/a\0");
    S(0, XS_WRITE, 0, "/bin\0a\0b\0c");
    S(0, XS_READ, 0, "/bin\0");
    S(0, XS_WRITE, 0, "rel/x\0v");
    S(0, XS_READ, 0, "rel/x\0");
    S(0, XS_READ, 0, "/local/domain/0/rel/x\0");
    S(0, XS_DIRECTORY, 0, "/local/domain/0\0");
    S(0, XS_DIRECTORY, 0, "/local\0");
    S(0, XS_GET_PERMS, 0, "/local/domain\0");
    /* children listed in creation order, whatever their names */
    S(0, XS_WRITE, 0, "/d/zeta\0z");
    S(0, XS_WRITE, 0, "/d/alpha\0a");
    S(0, XS_MKDIR, 0, "/d/mid\0");
    S(0, XS_WRITE, 0, "/d/beta/deep\0b");
    S(0, XS_WRITE, 0, "/d/0\0");
    S(0, XS_WRITE, 0, "/d/_x\0");
    S(0, XS_WRITE, 0, "/d/-y\0");
    S(0, XS_WRITE, 0, "/d/@at\0");
    S(0, XS_DIRECTORY, 0, "/d\0");
    S(0, XS_RM, 0, "/d/mid\0");
    S(0, XS_WRITE, 0, "/d/mid\0again");
    S(0, XS_WRITE, 0, "/d/alpha\0rewritten");
    S(0, XS_DIRECTORY, 0, "/d\0");
    S(0, XS_DIRECTORY, 0, "/d/beta\0");
    S(0, XS_DIRECTORY, 0, "/d/zeta\0");
    S(0, XS_MKDIR, 0, "/d\0");
    S(0, XS_MKDIR, 0, "/m/n/o\0");
    S(0, XS_READ, 0, "/m/n\0");
    S(0, XS_DIRECTORY, 0, "/m\0");
    S(0, XS_RM, 0, "/m\0");
    S(0, XS_READ, 0, "/m/n/o\0");
    S(0, XS_RM, 0, "/m\0");
    S(0, XS_RM, 0, "/m/deeper\0");
    S(0, XS_RM, 0, "/tool/xenstored\0");
    S(0, XS_DIRECTORY, 0, "/tool\0");
    S(0, XS_WRITE, 0, "/\0rootval");
    S(0, XS_READ, 0, "/\0");
    /* values up to the payload limit */
    memcpy(buf, "/big\0", 5);
    memset(buf + 5, 'x', XENSTORE_PAYLOAD_MAX - 5);
    SB(0, XS_WRITE, 0, buf, XENSTORE_PAYLOAD_MAX);
    S(0, XS_READ, 0, "/big\0");

    /* errors */
    S(0, XS_READ, 0, "/nonexistent\0");
    S(0, XS_READ, 0, "/a/b/c/d\0");
    S(0, XS_DIRECTORY, 0, "/nonexistent\0");
    S(0, XS_GET_PERMS, 0, "/nonexistent\0");
    S(0, XS_READ, 0, "//a\0");
    S(0, XS_READ, 0, "/a/\0");
    S(0, XS_READ, 0, "/a b\0");
    S(0, XS_READ, 0, "/a.b\0");
    S(0, XS_READ, 0, "\0");
    S(0, XS_READ, 0, "@introduceDomain\0");
    S(0, XS_GET_PERMS, 0, "@releaseDomain\0");
    S(0, XS_WRITE, 0, "/a//b\0v");
    S(0, XS_WRITE, 0, "/a/b/\0v");
    S(0, XS_WRITE, 0, "/a/b");
    S(0, XS_MKDIR, 0, "/x y\0");
    S(0, XS_RM, 0, "/\0");
    S(0, XS_RM, 0, "/a/\0");
    S(0, XS_DIRECTORY_PART, 0, "/a\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/a\0"
      "0\0"
      "0\0");
    S(0, 20, 0, "x\0");
    S(0, 30, 0, "x\0");
    S(0, XS_WATCH_EVENT, 0, "/a\0t\0");
    S(0, XS_ERROR, 0, "EINVAL\0");
    S(0, XS_INVALID, 0, "");
    S(0, XS_READ, -12345, "/a/b\0");
    S(0, XS_TRANSACTION_END, 0, "T\0");
    S(0, XS_TRANSACTION_END, -99, "T\0");

    /* path length limits: 2048 after /local/domain/<id>/ or overall */
    for (uint32_t total = 2047; total <= 2050; total++) {
        n = mkpath(buf, "/lim", total);
        memcpy(buf + n + 1, "v", 1);
        SB(0, XS_WRITE, 0, buf, n + 2);
        SB(0, XS_READ, 0, buf, n + 1);
        n = mkpath(buf, "/local/domain/7", total + 16);
        memcpy(buf + n + 1, "v", 1);
        SB(0, XS_WRITE, 0, buf, n + 2);
        n = mkpath(buf, "/local/domain/123456", total + 21);
        memcpy(buf + n + 1, "v", 1);
        SB(0, XS_WRITE, 0, buf, n + 2);
        n = mkpath(buf, "relative", total);
        memcpy(buf + n + 1, "v", 1);
        SB(0, XS_WRITE, 0, buf, n + 2);
    }
}

static void script_perms(void)
{
    S(0, XS_WRITE, 0, "/p\0v");
    S(0, XS_GET_PERMS, 0, "/p\0");
    S(0, XS_SET_PERMS, 0, "/p\0r0\0");
    S(0, XS_GET_PERMS, 0, "/p\0");
    S(0, XS_SET_PERMS, 0, "/p\0b0\0r3\0w4\0n5\0");
    S(0, XS_GET_PERMS, 0, "/p\0");
    S(0, XS_WRITE, 0, "/p/x/y\0v");
    S(0, XS_GET_PERMS, 0, "/p/x\0");
    S(0, XS_GET_PERMS, 0, "/p/x/y\0");
    S(0, XS_MKDIR, 0, "/p/m\0");
    S(0, XS_GET_PERMS, 0, "/p/m\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0n1\0"); /* owner must exist */
    S(0, XS_SET_PERMS, 0, "/p/x\0r65535\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0n-1\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0x0\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0n\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0n0x\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0n00\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0n0\0\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0");
    S(0, XS_SET_PERMS, 0, "/p/x");
    S(0, XS_SET_PERMS, 0, "/p/x\0n0");
    S(0, XS_SET_PERMS, 0, "/p/x\0w0\0junk");
    S(0, XS_GET_PERMS, 0, "/p/x\0");
    S(0, XS_SET_PERMS, 0, "/p/x\0n4294967296\0r0\0r0\0");
    S(0, XS_GET_PERMS, 0, "/p/x\0");
    S(0, XS_SET_PERMS, 0, "/p/nonexistent\0n0\0");
    S(0, XS_SET_PERMS, 0, "/p//x\0n0\0");
    S(0, XS_SET_PERMS, 0, "@introduceDomain\0n0\0r0\0");
    S(0, XS_SET_PERMS, 0, "@releaseDomain\0n0\0");
    S(0, XS_SET_PERMS, 0, "@other\0n0\0");
    S(0, XS_SET_PERMS, 0, "/\0n0\0");
    S(0, XS_GET_PERMS, 0, "/\0");
}

static void script_watches(void)
{
    S(1, XS_WATCH, 0, "/w\0tok\0");
    S(1, XS_WATCH, 0, "/w\0tok\0");
    S(1, XS_WATCH, 0, "/w\0tok2\0");
    S(1, XS_WATCH, 0, "relw\0rt\0");
    S(1, XS_WATCH, 0, "@introduceDomain\0intro\0");
    S(1, XS_WATCH, 0, "@releaseDomain\0rel\0");
    S(1, XS_WATCH, 0, "@other thing\0sp\0");
    S(1, XS_WATCH, 0, "/w\0");
    S(1, XS_WATCH, 0, "/w\0a\0b\0");
    S(1, XS_WATCH, 0, "/w//x\0t\0");
    S(1, XS_WATCH, 0, "/w/deep/er\0deep\0");
    S(1, XS_WATCH, 0, "/\0root\0");
    S(0, XS_WRITE, 0, "/w/x/y\0v");
    S(0, XS_WRITE, 0, "relw/q\0v");
    S(0, XS_WRITE, 0, "/w/deep/er/est\0v");
    S(0, XS_MKDIR, 0, "/w/deep\0");
    S(0, XS_SET_PERMS, 0, "/w/x\0n0\0");
    S(0, XS_RM, 0, "/w\0"); /* removal of a watched parent */
    S(0, XS_RM, 0, "/w\0");
    S(0, XS_WRITE, 0, "/w2\0v");
    /* removal order: children first, in list order */
    S(2, XS_WRITE, 0, "/s/b/1\0v");
    S(2, XS_WRITE, 0, "/s/a/2\0v");
    S(2, XS_WRITE, 0, "/s/c\0v");
    S(2, XS_WRITE, 0, "/s/b/0\0v");
    S(3, XS_WATCH, 0, "/s/a/2\0t\0");
    S(3, XS_WATCH, 0, "/s/b\0t\0");
    S(3, XS_WATCH, 0, "/s\0t\0");
    S(3, XS_WATCH, 0, "/s/b/1\0t\0");
    S(3, XS_WATCH, 0, "/s/b/0\0t\0");
    S(3, XS_WATCH, 0, "/s/c\0t\0");
    S(3, XS_WATCH, 0, "/s/nonexistent/x\0t\0");
    S(2, XS_RM, 0, "/s\0");
    /* events on the requesting connection come before its reply */
    S(3, XS_WATCH, 0, "/own\0mine\0");
    S(3, XS_WRITE, 0, "/own/x\0v");
    S(3, XS_UNWATCH, 0, "/own\0mine\0");
    S(3, XS_UNWATCH, 0, "/own\0mine\0");
    S(3, XS_UNWATCH, 0, "/s\0t\0extra\0");
    S(1, XS_UNWATCH, 0, "/local/domain/0/relw\0rt\0");
    S(1, XS_WATCH, 0, "/local/domain/0/relw2\0rt2\0");
    S(1, XS_UNWATCH, 0, "relw2\0rt2\0");
    S(1, XS_WATCH, 0, "/local/domain/0\0home\0");
    S(1, XS_WATCH, 0, "rel4\0r4\0");
    S(0, XS_WRITE, 0, "rel4\0v");
    S(0, XS_RM, 0, "/local/domain/0\0");
    S(1, XS_WATCH, -777, "/tx-ignored\0t\0");
    S(1, XS_UNWATCH, -777, "/tx-ignored\0t\0");
    S(3, XS_RESET_WATCHES, 0, "");
    S(3, XS_UNWATCH, 0, "/s\0t\0");
    S(0, XS_WRITE, 0, "/s/again\0v");
}

static void script_transactions(void)
{
    S(2, XS_WATCH, 0, "/t\0tw\0");
    S(0, XS_WRITE, 0, "/t/a\0v");
    S(0, XS_WRITE, 0, "/t/c/d\0v");
    S(0, XS_WRITE, 0, "/t/e\0v");
    TS(0, 1);
    S(0, XS_WRITE, 1, "/t/b\0in-tx");
    S(0, XS_READ, 1, "/t/b\0");
    S(0, XS_READ, 0, "/t/b\0");
    S(0, XS_DIRECTORY, 1, "/t\0");
    S(0, XS_DIRECTORY, 0, "/t\0");
    S(0, XS_DIRECTORY_PART, 1,
      "/t\0"
      "0\0");
    S(1, XS_READ, 1, "/t/b\0"); /* another connection's transaction */
    S(0, XS_TRANSACTION_START, 1, "");
    S(0, XS_WATCH, 1, "/t2\0w\0");
    S(0, XS_TRANSACTION_END, 1, "X\0");
    S(0, XS_TRANSACTION_END, 1, "");
    S(0, XS_TRANSACTION_END, 1, "T\0extra\0");
    S(0, XS_TRANSACTION_END, 1, "T");
    S(0, XS_TRANSACTION_END, 1, "T\0");
    S(0, XS_TRANSACTION_END, 1, "T\0");
    /* conflict: a node read in the transaction changes outside */
    TS(0, 2);
    S(0, XS_READ, 2, "/t/a\0");
    S(1, XS_WRITE, 0, "/t/a\0changed");
    S(0, XS_WRITE, 2, "/t/f\0v");
    S(0, XS_TRANSACTION_END, 2, "T\0");
    S(0, XS_READ, 0, "/t/f\0");
    /* a new sibling created outside conflicts with one created inside */
    TS(0, 3);
    S(0, XS_WRITE, 3, "/t/g\0v");
    S(1, XS_WRITE, 0, "/t/h\0v");
    S(0, XS_TRANSACTION_END, 3, "T\0");
    /* ... but not with a changed value of an existing node */
    TS(0, 4);
    S(0, XS_WRITE, 4, "/t/a\0v2");
    S(1, XS_WRITE, 0, "/t/i\0v");
    S(0, XS_TRANSACTION_END, 4, "T\0");
    /* commit events in first-access order, once per node */
    TS(0, 5);
    S(0, XS_READ, 5, "/t/e\0");
    S(0, XS_WRITE, 5, "/t/b2\0v");
    S(0, XS_WRITE, 5, "/t/a\0v3");
    S(0, XS_RM, 5, "/t/c\0");
    S(0, XS_MKDIR, 5, "/t/m/n\0");
    S(0, XS_WRITE, 5, "/t/b2\0again");
    S(0, XS_SET_PERMS, 5, "/t/e\0n0\0r0\0");
    S(0, XS_WRITE, 5, "/t/q/x\0v");
    S(0, XS_RM, 5, "/t/q\0");
    S(0, XS_RM, 5, "/t/zz\0");
    S(0, XS_RM, 5, "/t/zz/yy\0");
    S(0, XS_GET_PERMS, 5, "/t/e\0");
    S(0, XS_TRANSACTION_END, 5, "T\0");
    S(0, XS_GET_PERMS, 0, "/t/e\0");
    /* reading a missing node records its parent */
    TS(0, 6);
    S(0, XS_READ, 6, "/t/missing\0");
    S(1, XS_WRITE, 0, "/t/other\0v");
    S(0, XS_TRANSACTION_END, 6, "T\0");
    /* abort */
    TS(0, 7);
    S(0, XS_WRITE, 7, "/t/aborted\0v");
    S(0, XS_RM, 7, "/t/a\0");
    S(0, XS_TRANSACTION_END, 7, "F\0");
    S(0, XS_READ, 0, "/t/aborted\0");
    S(0, XS_READ, 0, "/t/a\0");
    /* recursive delete in a transaction, then recreate */
    S(0, XS_WRITE, 0, "/t/r/s/u\0v");
    S(0, XS_WRITE, 0, "/t/r/k\0v");
    S(2, XS_WATCH, 0, "/t/r/s/u\0u\0");
    S(2, XS_WATCH, 0, "/t/r/k\0k\0");
    TS(0, 8);
    S(0, XS_RM, 8, "/t/r\0");
    S(0, XS_WRITE, 8, "/t/r/s\0back");
    S(0, XS_DIRECTORY, 8, "/t/r\0");
    S(0, XS_TRANSACTION_END, 8, "T\0");
    S(0, XS_DIRECTORY, 0, "/t/r\0");
    /* an empty transaction; a reset drops open transactions */
    TS(0, 9);
    S(0, XS_TRANSACTION_END, 9, "T\0");
    TS(0, 10);
    S(0, XS_RESET_WATCHES, 0, "");
    S(0, XS_TRANSACTION_END, 10, "T\0");
    TS(4, 11);
    TS(4, 12);
    S(4, XS_TRANSACTION_END, 11, "F\0");
    TS(4, 13);
}

static void script_directory_part(void)
{
    char buf[256];

    for (int i = 0; i < 300; i++) {
        int n = snprintf(buf, sizeof(buf), "/big-dir/child_with_a_long_name_%04d", (i * 7) % 300);

        memcpy(buf + n + 1, "v", 1);
        SB(0, XS_WRITE, 0, buf, (uint32_t)n + 2);
    }
    S(0, XS_DIRECTORY, 0, "/big-dir\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "0\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "4088\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "4090\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "8176\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "8400\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "99999\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "-5\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "abc\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/big-dir\0"
      "\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/d\0"
      "3\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/d/zeta\0"
      "0\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/nonexistent\0"
      "0\0");
    /* fit boundary: 10-byte names, offsets leaving 4086..4092 bytes */
    for (int i = 0; i < 500; i++) {
        int n = snprintf(buf, sizeof(buf), "/dp/c%08d", i);

        SB(0, XS_WRITE, 0, buf, (uint32_t)n + 1);
    }
    for (int rem = 4086; rem <= 4096; rem++) {
        int n = snprintf(buf, sizeof(buf), "/dp%c%d", '\0', 5000 - rem);

        SB(0, XS_DIRECTORY_PART, 0, buf, (uint32_t)n + 1);
    }
}

static void script_domains(void)
{
    S(0, XS_GET_DOMAIN_PATH, 0, "0\0");
    S(0, XS_GET_DOMAIN_PATH, 0, "5\0");
    S(0, XS_GET_DOMAIN_PATH, 0, "65535\0");
    S(0, XS_GET_DOMAIN_PATH, 0, "-1\0");
    S(0, XS_GET_DOMAIN_PATH, 0, "99999999999\0");
    S(0, XS_GET_DOMAIN_PATH, 0, " 7\0");
    S(0, XS_GET_DOMAIN_PATH, 0, "0x10\0");
    S(0, XS_GET_DOMAIN_PATH, 0, "abc\0");
    S(0, XS_GET_DOMAIN_PATH, 0,
      "1\0"
      "2\0");
    S(0, XS_IS_DOMAIN_INTRODUCED, 0, "0\0");
    S(0, XS_IS_DOMAIN_INTRODUCED, 0, "7\0");
    S(0, XS_IS_DOMAIN_INTRODUCED, 0, "x\0");
    S(0, XS_INTRODUCE, 0,
      "1\0"
      "100\0"
      "5\0");
    S(0, XS_INTRODUCE, 0,
      "0\0"
      "100\0"
      "5\0");
    S(0, XS_INTRODUCE, 0,
      "0\0"
      "100\0"
      "0\0");
    S(0, XS_INTRODUCE, 0,
      "0\0"
      "x\0"
      "-3\0");
    S(0, XS_INTRODUCE, 0,
      "0\0"
      "100\0"
      "5\0"
      "extra\0");
    S(0, XS_INTRODUCE, 0,
      "1\0"
      "100\0");
    S(0, XS_RELEASE, 0, "0\0");
    S(0, XS_RELEASE, 0, "1\0");
    S(0, XS_RELEASE, 0, "x\0");
    S(0, XS_RESUME, 0, "0\0");
    S(0, XS_RESUME, 0, "1\0");
    S(0, XS_SET_TARGET, 0, "0\0");
    S(0, XS_SET_TARGET, 0,
      "0\0"
      "0\0");
    S(0, XS_SET_TARGET, 0,
      "1\0"
      "0\0");
    S(0, XS_CONTROL, 0, "check\0");
    S(0, XS_CONTROL, 0, "print\0hello\0");
    S(0, XS_CONTROL, 0, "print\0");
    S(0, XS_CONTROL, 0, "no-such-command\0");
    S(0, XS_CONTROL, 0, "");
}

static void script_oversized(void)
{
    char buf[sizeof(struct xsd_sockmsg) + 8];
    struct xsd_sockmsg h = {.type = XS_READ, .len = XENSTORE_PAYLOAD_MAX + 1};

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), "/a/b", 4);
    step_full(__LINE__, 5, 0, 0, 0, buf, sizeof(h) + 4, true);
    S(5, XS_READ, 0, "/a/b\0"); /* a new connection works */
    S(0, XS_READ, 0, "/a/b\0");
}

static bool domain_exists_none(void *ctx, unsigned int domid)
{
    return false;
}

static void stop_reference(const char *dir);

static int start_reference(const char *dir)
{
    char cmd[4096], script[2048];
    struct stat st;

    snprintf(script, sizeof(script),
             "%s/../shared/tools/reference-xenstored/start-reference-xenstored", XENSIM_SOURCE_DIR);
    if (stat(script, &st) != 0) {
        printf("SKIP: no reference xenstored tool (../shared/tools/reference-xenstored)\n");
        return -1;
    }
    stop_reference(dir); /* one left running by a run that crashed */
    snprintf(cmd, sizeof(cmd), "'%s' '%s' >'%s.start.log' 2>&1", script, dir, dir);
    if (system(cmd) != 0) {
        printf("SKIP: the reference xenstored did not start (see %s.start.log)\n", dir);
        return -1;
    }
    return 0;
}

/* Stop the reference daemon this test started (its pid file names it;
 * checked to be a xenstored, so that a reused pid is left alone). */
static void stop_reference(const char *dir)
{
    char path[600], comm[64] = "";
    FILE *f;
    long pid = 0;

    snprintf(path, sizeof(path), "%s/xenstored.pid", dir);
    f = fopen(path, "r");
    if (f == NULL)
        return;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    unlink(path);
    if (pid <= 1)
        return;
    snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
    f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(comm, sizeof(comm), f) == NULL)
            comm[0] = '\0';
        fclose(f);
    }
    if (f == NULL || strncmp(comm, "xenstored", 9) == 0)
        kill((pid_t)pid, SIGTERM);
}

int main(void)
{
    struct xsim_xs_config cfg;
    struct xst_server srv;
    char dir[512];

    /* The reference keeps its downloaded package in `dir` between runs. A
     * socket path must fit in 108 bytes. */
    snprintf(dir, sizeof(dir), "%s/xs-reference", XENSIM_BINARY_DIR);
    if (strlen(dir) + sizeof("/run/socket") > 100)
        snprintf(dir, sizeof(dir), "/tmp/xensim-xs-reference-%ld", (long)getuid());
    if (start_reference(dir) != 0)
        return 77;
    if (strlen(dir) + sizeof("/run/socket") > sizeof(ref.path))
        return 77;
    memcpy(ref.path, dir, strlen(dir));
    memcpy(ref.path + strlen(dir), "/run/socket", sizeof("/run/socket"));

    /* Our daemon as the reference runs: no domain exists but dom0. */
    xsim_xs_config_init(&cfg);
    cfg.domain_exists = domain_exists_none;
    xst_sock_path(ours.path, sizeof(ours.path), "ref-ours");
    if (xst_server_start(&srv, &cfg, ours.path) != 0) {
        printf("cannot start our daemon\n");
        stop_reference(dir);
        return 1;
    }
    for (int c = 0; c < NCONN; c++) {
        ref.fd[c] = xst_connect(ref.path, 3000);
        ours.fd[c] = xst_connect(ours.path, 3000);
        if (ref.fd[c] < 0 || ours.fd[c] < 0) {
            printf("cannot connect (%d %d)\n", ref.fd[c], ours.fd[c]);
            stop_reference(dir);
            xst_server_stop(&srv);
            return ref.fd[c] < 0 ? 77 : 1;
        }
    }

    script_basic();
    script_perms();
    script_watches();
    script_transactions();
    script_directory_part();
    script_domains();
    script_oversized();

    for (int c = 0; c < NCONN; c++) {
        close(ref.fd[c]);
        close(ours.fd[c]);
    }
    xst_server_stop(&srv);
    stop_reference(dir);
    printf("%u requests compared with the reference xenstored, %u differences\n", steps, diffs);
    return diffs == 0 ? 0 : 1;
}
