/*
 * test_xs_reference.c - differential test: the same request sequence goes
 * to Debian's own xenstored 4.17 (started by reference/launch.sh with the
 * stub libraries of reference/) and to ours, over Unix sockets, and every
 * reply and watch event must match byte for byte.
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
 * Scripted parts, then a random part: seeded sequences of requests from
 * three connections (reads, writes, removals, listings, permissions,
 * watches, transactions started, committed, aborted or reused after their
 * end), every reply and event compared as above, then the resulting trees.
 * A failing seed is printed with the command that replays it alone
 * (XS_REFERENCE_SEED=<seed>).
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

#define NCONN 9
#define NTX   40

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
static char where[96]; /* said with every difference: e.g. the random step */

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

static void print_payload(const void *p, uint32_t len)
{
    for (uint32_t i = 0; i < len && i < 80; i++) {
        unsigned char ch = ((const unsigned char *)p)[i];

        if (isprint(ch))
            putchar(ch);
        else
            printf("\\x%02x", ch);
    }
    if (len > 80)
        printf("...");
}

static void step_full(int line, int c, uint32_t type, int txh, int store_tx, const void *p,
                      uint32_t len, bool raw)
{
    steps++;
    if (type == XS_WATCH)
        watching[c] = true;
    run_one(&ref, c, type, txh, store_tx, p, len, raw);
    run_one(&ours, c, type, txh, store_tx, p, len, raw);
    if (getenv("XS_REFERENCE_VERBOSE") != NULL) {
        printf("line %d (conn %d, type %u, tx T%d, payload ", line, c, type, txh);
        print_payload(p, len);
        printf("):\n%.*s", (int)ours.outlen, ours.out);
    }
    if (ref.outlen != ours.outlen || memcmp(ref.out, ours.out, ref.outlen) != 0) {
        diffs++;
        printf("DIFF at script line %d (conn %d, type %u, payload ", line, c, type);
        print_payload(p, len);
        printf(")%s\n  reference:\n%.*s  xensim:\n%.*s", where, (int)ref.outlen, ref.out,
               (int)ours.outlen, ours.out);
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
    S(0, XS_TRANSACTION_END, 0, "F\0");
    S(0, XS_TRANSACTION_END, 0, "\0");
    S(0, XS_TRANSACTION_END, 0, "X\0");
    S(0, XS_TRANSACTION_END, 0, "");
    S(0, XS_TRANSACTION_END, 0, "T");
    S(0, XS_TRANSACTION_END, -99, "T\0");
    S(0, XS_TRANSACTION_END, -99, "X\0");

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

/* Reads in a transaction are repeatable: other connections write, remove
 * and create under what it read, and it keeps seeing what it saw. */
static void script_txn_snapshot(void)
{
    S(3, XS_WATCH, 0, "/rp\0rp\0");
    S(0, XS_WRITE, 0, "/rp/x\0old");
    S(0, XS_WRITE, 0, "/rp/y\0v");
    TS(0, 14);
    S(0, XS_READ, 14, "/rp/x\0");
    S(0, XS_DIRECTORY, 14, "/rp\0");
    S(0, XS_DIRECTORY_PART, 14,
      "/rp\0"
      "0\0");
    S(0, XS_READ, 14, "/rp/z\0");
    S(0, XS_GET_PERMS, 14, "/rp/z\0");
    S(0, XS_GET_PERMS, 14, "/rp/y\0");
    S(0, XS_READ, 14, "/rq/a\0");
    S(1, XS_WRITE, 0, "/rp/x\0new");
    S(0, XS_READ, 14, "/rp/x\0");
    S(1, XS_RM, 0, "/rp/x\0");
    S(1, XS_WRITE, 0, "/rp/z\0now");
    S(1, XS_SET_PERMS, 0, "/rp/y\0b0\0");
    S(1, XS_WRITE, 0, "/rp/w\0later");
    S(1, XS_WRITE, 0, "/rq/a\0made");
    S(0, XS_READ, 14, "/rp/x\0");
    S(0, XS_DIRECTORY, 14, "/rp\0");
    S(0, XS_DIRECTORY_PART, 14,
      "/rp\0"
      "0\0");
    S(0, XS_DIRECTORY_PART, 0,
      "/rp\0"
      "0\0");
    S(0, XS_READ, 14, "/rp/z\0");
    S(0, XS_GET_PERMS, 14, "/rp/z\0");
    S(0, XS_SET_PERMS, 14, "/rp/z\0n0\0");
    S(0, XS_WRITE, 14, "/rp/z/under\0v");
    S(0, XS_GET_PERMS, 14, "/rp/y\0");
    S(0, XS_READ, 14, "/rq\0");
    S(0, XS_READ, 14, "/rq/a\0");
    S(0, XS_DIRECTORY, 14, "/rq\0");
    S(0, XS_READ, 14, "/rp/w\0");
    S(0, XS_WRITE, 14, "/rp/w\0mine");
    S(0, XS_WRITE, 14, "/rp/x/kid\0k");
    S(0, XS_DIRECTORY, 14, "/rp/x\0");
    S(0, XS_READ, 14, "/rp/x\0");
    S(0, XS_DIRECTORY, 14, "/rp\0");
    S(0, XS_TRANSACTION_END, 14, "T\0");
    S(0, XS_DIRECTORY, 0, "/rp\0");
    S(0, XS_READ, 0, "/rp/x\0");
    /* absent, created outside, then created inside: EAGAIN */
    TS(0, 15);
    S(0, XS_READ, 15, "/ab/c\0");
    S(1, XS_WRITE, 0, "/ab/c\0outside");
    S(0, XS_READ, 15, "/ab/c\0");
    S(0, XS_READ, 15, "/ab\0");
    S(0, XS_MKDIR, 15, "/ab/c\0");
    S(0, XS_READ, 15, "/ab/c\0");
    S(0, XS_DIRECTORY, 15, "/ab\0");
    S(0, XS_TRANSACTION_END, 15, "T\0");
    S(0, XS_READ, 0, "/ab/c\0");
    /* an outside change to something it did not read: the commit stands */
    TS(0, 16);
    S(0, XS_READ, 16, "/rp/y\0");
    S(1, XS_WRITE, 0, "/rp/z\0again");
    S(1, XS_WRITE, 0, "/elsewhere\0v");
    S(0, XS_WRITE, 16, "/rp/y\0from-tx");
    S(0, XS_READ, 16, "/rp/z\0");
    S(0, XS_TRANSACTION_END, 16, "T\0");
    S(0, XS_READ, 0, "/rp/y\0");
    S(0, XS_GET_PERMS, 0, "/rp/y\0");
    /* removed outside, then removed inside */
    TS(0, 17);
    S(0, XS_DIRECTORY, 17, "/rp\0");
    S(0, XS_READ, 17, "/rp/w\0");
    S(1, XS_RM, 0, "/rp/w\0");
    S(0, XS_RM, 17, "/rp/w\0");
    S(0, XS_DIRECTORY, 17, "/rp\0");
    S(0, XS_READ, 17, "/rp/w\0");
    S(0, XS_TRANSACTION_END, 17, "T\0");
    /* a subtree removed outside under a transaction that listed it */
    S(0, XS_WRITE, 0, "/rs/a/b\0v");
    S(0, XS_WRITE, 0, "/rs/a/c\0v");
    TS(0, 18);
    TS(1, 19);
    S(0, XS_DIRECTORY, 18, "/rs/a\0");
    S(1, XS_DIRECTORY, 19, "/rs/a\0");
    S(2, XS_RM, 0, "/rs/a\0");
    S(0, XS_DIRECTORY, 18, "/rs/a\0");
    S(0, XS_READ, 18, "/rs/a/b\0");
    S(0, XS_READ, 18, "/rs/a/c\0");
    S(1, XS_READ, 19, "/rs/a/c\0");
    S(1, XS_RM, 19, "/rs/a\0");
    S(1, XS_DIRECTORY, 19, "/rs\0");
    S(0, XS_WRITE, 18, "/rs/a/d\0v");
    S(0, XS_DIRECTORY, 18, "/rs/a\0");
    S(1, XS_TRANSACTION_END, 19, "T\0");
    S(0, XS_TRANSACTION_END, 18, "T\0");
    S(0, XS_DIRECTORY, 0, "/rs\0");
    /* removal in a view others made inconsistent: a listed child gone
     * (first, or after a sibling), a child not listed, the parent gone */
    S(0, XS_WRITE, 0, "/ru/a/b\0v");
    S(0, XS_WRITE, 0, "/ru/a/c/d\0v");
    S(0, XS_WRITE, 0, "/ru/a/e\0v");
    TS(0, 25);
    S(0, XS_DIRECTORY, 25, "/ru/a\0");
    S(1, XS_RM, 0, "/ru/a/c\0");
    S(0, XS_RM, 25, "/ru/a\0");
    S(0, XS_DIRECTORY, 25, "/ru/a\0");
    S(0, XS_READ, 25, "/ru/a/b\0");
    S(0, XS_READ, 25, "/ru/a/e\0");
    S(0, XS_TRANSACTION_END, 25, "T\0");
    TS(0, 26);
    S(0, XS_DIRECTORY, 26, "/ru\0");
    S(1, XS_WRITE, 0, "/ru/n/m\0v");
    S(0, XS_RM, 26, "/ru/n\0");
    S(0, XS_READ, 26, "/ru/n/m\0");
    S(0, XS_DIRECTORY, 26, "/ru\0");
    S(0, XS_TRANSACTION_END, 26, "T\0");
    TS(0, 27);
    S(0, XS_READ, 27, "/ru/a/b\0");
    S(1, XS_RM, 0, "/ru/a\0");
    S(0, XS_RM, 27, "/ru/a/b\0");
    S(0, XS_READ, 27, "/ru/a/b\0");
    S(0, XS_TRANSACTION_END, 27, "T\0");
    S(0, XS_DIRECTORY, 0, "/ru\0");
    /* two transactions of one connection, each with its own view */
    S(0, XS_WRITE, 0, "/rt\0zero");
    TS(0, 20);
    S(0, XS_READ, 20, "/rt\0");
    S(0, XS_WRITE, 0, "/rt\0one");
    TS(0, 21);
    S(0, XS_READ, 21, "/rt\0");
    S(0, XS_WRITE, 21, "/rt\0two");
    S(0, XS_READ, 20, "/rt\0");
    S(0, XS_TRANSACTION_END, 21, "T\0");
    S(0, XS_READ, 20, "/rt\0");
    S(0, XS_WRITE, 20, "/rt\0three");
    S(0, XS_TRANSACTION_END, 20, "T\0");
    S(0, XS_READ, 0, "/rt\0");
    /* a transaction that only read: its commit fails if that changed */
    TS(0, 22);
    S(0, XS_READ, 22, "/rt\0");
    S(1, XS_WRITE, 0, "/rt\0four");
    S(0, XS_TRANSACTION_END, 22, "T\0");
    TS(0, 23);
    S(0, XS_READ, 23, "/rt\0");
    S(0, XS_TRANSACTION_END, 23, "T\0");
}

/* Watches that overlap, with one token or several, on one connection:
 * a change makes one event per distinct (path, token). */
static void script_watch_overlap(void)
{
    S(6, XS_WATCH, 0, "/\0tok\0");
    S(6, XS_WATCH, 0, "/ov\0tok\0");
    S(6, XS_WATCH, 0, "/ov/a\0tok\0");
    S(6, XS_WATCH, 0, "/ov\0other\0");
    S(6, XS_WATCH, 0, "ov\0tok\0");
    S(6, XS_WATCH, 0, "/local/domain/0/ov\0tok\0");
    S(0, XS_WRITE, 0, "/ov/a/b\0v");
    S(0, XS_WRITE, 0, "/ov/a/b\0v");
    S(0, XS_WRITE, 0, "ov/a\0v");
    S(0, XS_MKDIR, 0, "/ov/c\0");
    S(0, XS_SET_PERMS, 0, "/ov/a\0n0\0r0\0");
    S(0, XS_RM, 0, "/ov/a\0");
    S(0, XS_RM, 0, "ov\0");
    S(6, XS_WRITE, 0, "/ov/own\0v");
    /* at commit too, and a node changed twice in a transaction fires once */
    TS(0, 24);
    S(0, XS_WRITE, 24, "/ov/t/u\0v");
    S(0, XS_WRITE, 24, "/ov/t/u\0w");
    S(0, XS_WRITE, 24, "/ov/t\0x");
    S(0, XS_RM, 24, "/ov/c\0");
    S(0, XS_TRANSACTION_END, 24, "T\0");
    S(6, XS_UNWATCH, 0, "/ov\0tok\0");
    S(0, XS_WRITE, 0, "/ov/t/u\0again");
    S(6, XS_RESET_WATCHES, 0, "");
    S(0, XS_WRITE, 0, "/ov/t/u\0quiet");
}

/* ---- a random differential with transactions ---- */

static uint64_t rnd_state;

static uint32_t rnd(uint32_t n)
{
    /* splitmix64 */
    uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (uint32_t)(z % n);
}

/* A random node under /r: one to three of a, b, c. */
static uint32_t rnd_path(char *buf)
{
    uint32_t n = (uint32_t)snprintf(buf, 16, "/r");

    for (uint32_t d = 0, depth = 1 + rnd(3); d < depth; d++) {
        buf[n++] = '/';
        buf[n++] = (char)('a' + rnd(3));
    }
    buf[n] = '\0';
    return n;
}

#define RND_CONNS  3 /* connections 6, 7, 8 */
#define RND_HANDLE 30

/* One random request from one of the random connections. */
static void random_step(bool open[RND_CONNS])
{
    static const char *const wpaths[] = {"/", "/r", "/r/a", "/r/a/b", "/r/b"};
    static const char *const tokens[] = {"t0", "t1"};
    static const char *const perms[] = {"n0", "r0", "b0", "w0"};
    int k = (int)rnd(RND_CONNS), c = 6 + k, h = RND_HANDLE + k;
    int txh = open[k] && rnd(10) < 7 ? h : 0;
    char p[64];
    uint32_t n = rnd_path(p), op = rnd(100);

    if (op < 14) {
        step_full(__LINE__, c, XS_READ, txh, 0, p, n + 1, false);
    } else if (op < 30) {
        n += 1 + (uint32_t)snprintf(p + n + 1, sizeof(p) - n - 1, "v%u", rnd(1000));
        step_full(__LINE__, c, XS_WRITE, txh, 0, p, n, false);
    } else if (op < 35) {
        step_full(__LINE__, c, XS_MKDIR, txh, 0, p, n + 1, false);
    } else if (op < 44) {
        step_full(__LINE__, c, XS_RM, txh, 0, p, n + 1, false);
    } else if (op < 55) {
        if (rnd(4) == 0) {
            memcpy(p, "/r", 3); /* the top, now and then */
            n = 2;
        }
        step_full(__LINE__, c, XS_DIRECTORY, txh, 0, p, n + 1, false);
    } else if (op < 59) {
        memcpy(p + n + 1, "0", 2);
        step_full(__LINE__, c, XS_DIRECTORY_PART, txh, 0, p, n + 3, false);
    } else if (op < 64) {
        step_full(__LINE__, c, XS_GET_PERMS, txh, 0, p, n + 1, false);
    } else if (op < 68) {
        n += 1 + (uint32_t)snprintf(p + n + 1, sizeof(p) - n - 1, "%s", perms[rnd(4)]);
        if (rnd(2) == 0)
            n += 1 + (uint32_t)snprintf(p + n + 1, sizeof(p) - n - 1, "%s", perms[rnd(4)]);
        step_full(__LINE__, c, XS_SET_PERMS, txh, 0, p, n + 1, false);
    } else if (op < 74) {
        int len = snprintf(p, sizeof(p), "%s%c%s", wpaths[rnd(5)], '\0', tokens[rnd(2)]);

        step_full(__LINE__, c, XS_WATCH, 0, 0, p, (uint32_t)len + 1, false);
    } else if (op < 77) {
        int len = snprintf(p, sizeof(p), "%s%c%s", wpaths[rnd(5)], '\0', tokens[rnd(2)]);

        step_full(__LINE__, c, XS_UNWATCH, 0, 0, p, (uint32_t)len + 1, false);
    } else if (op < 87) {
        step_full(__LINE__, c, XS_TRANSACTION_START, 0, open[k] ? 0 : h, "", 1, false);
        open[k] = true;
    } else if (op < 97) {
        /* commit mostly; a stale handle now and then */
        step_full(__LINE__, c, XS_TRANSACTION_END, h, 0, rnd(4) == 0 ? "F" : "T", 2, false);
        open[k] = false;
    } else {
        step_full(__LINE__, c, XS_RESET_WATCHES, 0, 0, "", 0, false);
        open[k] = false;
    }
}

/* A text dump of the subtree at `path` (value, permissions, children in
 * order), asked on connection 0 of `d`. */
static void dump_tree(struct daemon *d, const char *path, char *out, size_t cap, size_t *len)
{
    char buf[XENSTORE_PAYLOAD_MAX + 1], kids[XENSTORE_PAYLOAD_MAX + 1], child[256];
    uint32_t plen = (uint32_t)strlen(path) + 1, klen;
    struct xsd_sockmsg h;
    int n;

    if (xst_call(d->fd[0], XS_READ, 0, path, plen, &h, buf, NULL) != 0)
        return;
    n = snprintf(out + *len, cap - *len, "%s = %s [", path, h.type == XS_READ ? buf : "?");
    *len += n > 0 && (size_t)n < cap - *len ? (size_t)n : 0;
    if (xst_call(d->fd[0], XS_GET_PERMS, 0, path, plen, &h, buf, NULL) != 0)
        return;
    for (uint32_t i = 0; i < h.len; i++)
        buf[i] = buf[i] == '\0' ? ' ' : buf[i];
    n = snprintf(out + *len, cap - *len, "%.*s]\n", (int)h.len, buf);
    *len += n > 0 && (size_t)n < cap - *len ? (size_t)n : 0;
    if (xst_call(d->fd[0], XS_DIRECTORY, 0, path, plen, &h, kids, NULL) != 0 ||
        h.type != XS_DIRECTORY)
        return;
    klen = h.len;
    for (uint32_t off = 0; off < klen; off += (uint32_t)strlen(kids + off) + 1) {
        snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") == 0 ? "" : path, kids + off);
        dump_tree(d, child, out, cap, len);
    }
}

/* `steps_n` random requests from three connections, seeded, each compared
 * as the scripted ones are; then the trees under /r. */
static void script_random(uint64_t seed, unsigned int steps_n)
{
    static char dref[1 << 16], dours[1 << 16];
    bool open[RND_CONNS] = {false};
    unsigned int diffs_before = diffs;
    size_t lref = 0, lours = 0;

    rnd_state = seed;
    S(0, XS_RM, 0, "/r\0");
    S(0, XS_MKDIR, 0, "/r\0");
    for (int k = 0; k < RND_CONNS; k++)
        step_full(__LINE__, 6 + k, XS_RESET_WATCHES, 0, 0, "", 0, false);
    for (unsigned int i = 0; i < steps_n; i++) {
        snprintf(where, sizeof(where), " [random seed %llu, step %u]", (unsigned long long)seed, i);
        random_step(open);
    }
    for (int k = 0; k < RND_CONNS; k++) {
        snprintf(where, sizeof(where), " [random seed %llu, end]", (unsigned long long)seed);
        step_full(__LINE__, 6 + k, XS_RESET_WATCHES, 0, 0, "", 0, false);
    }
    where[0] = '\0';
    dump_tree(&ref, "/r", dref, sizeof(dref), &lref);
    dump_tree(&ours, "/r", dours, sizeof(dours), &lours);
    if (lref != lours || memcmp(dref, dours, lref) != 0) {
        diffs++;
        printf("DIFF in the final tree of random seed %llu\n  reference:\n%.*s  xensim:\n%.*s",
               (unsigned long long)seed, (int)lref, dref, (int)lours, dours);
    }
    if (diffs != diffs_before)
        printf("random differential failed: replay with XS_REFERENCE_SEED=%llu %s\n",
               (unsigned long long)seed, "tests/xenstore/test_xs_reference");
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
    char cmd[4096];

    stop_reference(dir); /* one left running by a run that crashed */
    snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' '%s' >'%s.start.log' 2>&1", XSIM_REFXS_LAUNCH, dir,
             XSIM_REFXS_LIBDIR, XSIM_REFXS_PRELOAD, dir);
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
    script_txn_snapshot();
    script_watch_overlap();
    {
        /* a fixed set of seeds, or the one given to replay a failure */
        const char *env = getenv("XS_REFERENCE_SEED");

        if (env != NULL) {
            script_random(strtoull(env, NULL, 0), 600);
        } else {
            for (uint64_t seed = 1; seed <= 4; seed++)
                script_random(seed, 600);
        }
    }

    for (int c = 0; c < NCONN; c++) {
        close(ref.fd[c]);
        close(ours.fd[c]);
    }
    xst_server_stop(&srv);
    stop_reference(dir);
    printf("%u requests compared with the reference xenstored, %u differences\n", steps, diffs);
    return diffs == 0 ? 0 : 1;
}
