/*
 * test_xs_memory.c - what socket clients cost the XenStore daemon: idle
 * clients, and watchers that never read, measured twice, as the bytes the
 * store's allocator holds (exact: a counting allocator) and as the
 * process's resident memory (/proc/self/status VmRSS and VmHWM).
 *
 * Bounds asserted, and why they hold on any Linux host:
 * - An idle client holds at most 2 KB of counted allocations: its struct
 *   xsim_xs_conn and socket client, under 1 KB together on LP64, whatever
 *   its earlier requests were (buffers grow with a message and go after
 *   it). Once the clients close, the counts return exactly to where they
 *   were, and a second round of clients reuses what the first freed.
 * - A watcher that never reads holds at most 8 KB when the writes repeat a
 *   few nodes (identical pending events merge), and at most
 *   XSIM_XS_MAX_QUEUED_EVENTS events of under 128 bytes each (these paths
 *   are short) plus those 8 KB when every write is a new node.
 * - Resident memory grows by at most 4x the counted bound per client, plus
 *   4 MB. The slack covers malloc's per-block overhead and free lists,
 *   libuv's per-fd table (8 bytes a fd) and page rounding (pages up to
 *   64 KB); kernel socket buffers are not resident memory of the process.
 *   A client with its own 64 KB I/O buffers exceeds the idle bound once it
 *   has touched a few KB of them. Under valgrind or a sanitizer resident
 *   memory says nothing and only the counts are checked.
 *
 * Each case raises RLIMIT_NOFILE to its hard limit; if that still cannot
 * hold both ends of every client, the case runs with fewer clients and
 * says so.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "xenstore/xs_test_util.h"

#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

#define IDLE_CLIENTS     2000
#define WATCHERS         200
#define IDLE_BYTES_MAX   2048
#define REPEAT_BYTES_MAX 8192
#define DISTINCT_NODES   1500
#define RSS_SLACK_KB     4096

struct mem {
    long rss_kb, hwm_kb; /* -1: not available */
    long bytes, allocs;
};

static long status_kb(const char *key)
{
    char line[256];
    size_t klen = strlen(key);
    long v = -1;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtol(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Sample once the server has finished what it was doing. */
static void sample(struct xst_server *srv, const struct xst_counts *c, struct mem *m)
{
    xst_server_sync(srv);
    m->rss_kb = status_kb("VmRSS");
    m->hwm_kb = status_kb("VmHWM");
    m->bytes = atomic_load(&c->bytes);
    m->allocs = atomic_load(&c->allocs);
}

/* How many clients fit the fd limit: raise the soft limit to the hard one
 * and keep two fds a client (both ends live in this process) plus 64. */
static int fit_clients(int want)
{
    struct rlimit rl;
    long room;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
        (void)getrlimit(RLIMIT_NOFILE, &rl);
    }
    room = rl.rlim_cur == RLIM_INFINITY ? 2L * want + 64 : ((long)rl.rlim_cur - 64) / 2;
    if (room >= want)
        return want;
    if (room < 10)
        room = 10;
    printf("NOTE: RLIMIT_NOFILE allows %ld fds: %ld clients instead of %d\n", (long)rl.rlim_cur,
           room, want);
    return (int)room;
}

/* Reset VmHWM to VmRSS (Linux 4.0+), so that a case's peak is its own;
 * where that is not allowed the peak includes earlier cases, which only
 * makes its growth look smaller: the VmRSS checks still hold. */
static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");

    if (f == NULL)
        return;
    fputs("5", f);
    fclose(f);
}

struct fixture {
    struct xst_counts counts;
    struct xst_server srv;
    char path[108];
};

static void start(struct fixture *f, const char *tag)
{
    struct xsim_xs_config cfg;

    memset(&f->counts, 0, sizeof(f->counts));
    xsim_xs_config_init(&cfg);
    cfg.alloc = xst_count_alloc;
    cfg.ctx = &f->counts;
    xst_sock_path(f->path, sizeof(f->path), tag);
    assert_int_equal(xst_server_start(&f->srv, &cfg, f->path), 0);
    reset_peak();
}

static void stop(struct fixture *f)
{
    xst_server_stop(&f->srv);
    assert_int_equal(atomic_load(&f->counts.allocs), 0);
}

/* Wait (a liveness guard, not a measurement) until the server has freed
 * what closed clients held: the live allocations are back to `allocs`. */
static void wait_allocs(struct fixture *f, long allocs)
{
    struct timespec ts = {0, 10 * 1000 * 1000};

    for (int i = 0; i < 6000; i++) {
        xst_server_sync(&f->srv);
        if (atomic_load(&f->counts.allocs) == allocs)
            break;
        nanosleep(&ts, NULL);
    }
    assert_int_equal(atomic_load(&f->counts.allocs), allocs);
}

static void call_ok(int fd, uint32_t type, const void *p, uint32_t len, uint32_t want_type)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg h;

    assert_int_equal(xst_call(fd, type, 0, p, len, &h, buf, NULL), 0);
    assert_int_equal(h.type, want_type);
}

/* Why resident memory says nothing here, or NULL: a sanitizer's shadow
 * memory or valgrind's own grow with every allocation. The counted bytes
 * are checked all the same. */
static const char *rss_skewed(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return "a sanitizer";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
    return "a sanitizer";
#endif
#endif
    char line[512];
    const char *why = NULL;
    FILE *f = fopen("/proc/self/maps", "r");

    while (f != NULL && why == NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, "vgpreload") != NULL)
            why = "valgrind";
    }
    if (f != NULL)
        fclose(f);
    return why;
}

static void check_rss(const char *what, const struct mem *a, const struct mem *b, long n,
                      long per_kb)
{
    const char *skew = rss_skewed();

    if (a->rss_kb < 0 || b->rss_kb < 0) {
        printf("%s: no /proc/self/status, resident memory not checked\n", what);
        return;
    }
    if (skew != NULL) {
        printf("%s: running under %s, resident memory not checked\n", what, skew);
        return;
    }
    assert_true(b->rss_kb - a->rss_kb <= n * per_kb + RSS_SLACK_KB);
    assert_true(b->hwm_kb - a->hwm_kb <= n * per_kb + RSS_SLACK_KB);
}

static void test_idle_clients(void **state)
{
    int n = fit_clients(IDLE_CLIENTS);
    int *fd = calloc((size_t)n, sizeof(*fd));
    static char big[8 + 3000];
    struct mem m0, m1, m2, m3;
    struct fixture f;
    int ctl;

    start(&f, "mem-idle");
    ctl = xst_connect(f.path, 10000);
    assert_true(ctl >= 0);
    memcpy(big, "/big", 5);
    memset(big + 5, 'v', sizeof(big) - 5);
    call_ok(ctl, XS_WRITE, big, sizeof(big), XS_WRITE);
    /* a daemon that has run a while has seen clients come and go (and its
     * malloc has adapted to them) */
    sample(&f.srv, &f.counts, &m0);
    for (int i = 0; i < 4; i++) {
        int c = xst_connect(f.path, 10000);

        assert_true(c >= 0);
        call_ok(c, XS_READ, "/big", 5, XS_READ);
        close(c);
    }
    wait_allocs(&f, m0.allocs);
    sample(&f.srv, &f.counts, &m0);
    /* each client sends a long request and gets a long reply, then idles */
    for (int i = 0; i < n; i++) {
        fd[i] = xst_connect(f.path, 10000);
        assert_true(fd[i] >= 0);
        call_ok(fd[i], XS_WRITE, big, sizeof(big), XS_WRITE);
        call_ok(fd[i], XS_READ, "/big", 5, XS_READ);
    }
    sample(&f.srv, &f.counts, &m1);
    printf("%d idle clients: %ld bytes counted each, resident +%ld KB (%.2f KB each), "
           "peak +%ld KB\n",
           n, (m1.bytes - m0.bytes) / n, m1.rss_kb - m0.rss_kb, (double)(m1.rss_kb - m0.rss_kb) / n,
           m1.hwm_kb - m0.hwm_kb);
    assert_true(m1.bytes - m0.bytes <= (long)n * IDLE_BYTES_MAX);
    check_rss("idle clients", &m0, &m1, n, 4 * IDLE_BYTES_MAX / 1024);

    /* closed clients give everything back */
    for (int i = 0; i < n; i++)
        close(fd[i]);
    wait_allocs(&f, m0.allocs);
    sample(&f.srv, &f.counts, &m2);
    assert_int_equal(m2.bytes, m0.bytes);
    printf("after they close: counted bytes back to the start, resident +%ld KB\n",
           m2.rss_kb - m0.rss_kb);
#ifdef __GLIBC__
    /* What stays resident is malloc's free lists, kept for reuse (checked
     * below); glibc hands them back to the kernel when asked. */
    malloc_trim(0);
    printf("after malloc_trim: resident +%ld KB\n", status_kb("VmRSS") - m0.rss_kb);
#endif
    /* ... to be used again: a second round needs no new memory to speak of */
    for (int i = 0; i < n; i++) {
        fd[i] = xst_connect(f.path, 10000);
        assert_true(fd[i] >= 0);
        call_ok(fd[i], XS_READ, "/big", 5, XS_READ);
    }
    sample(&f.srv, &f.counts, &m3);
    printf("a second round of %d: peak +%ld KB over the first\n", n, m3.hwm_kb - m1.hwm_kb);
    if (m3.hwm_kb >= 0 && rss_skewed() == NULL)
        assert_true(m3.hwm_kb - m1.hwm_kb <= (long)n * IDLE_BYTES_MAX / 1024 + RSS_SLACK_KB);
    for (int i = 0; i < n; i++)
        close(fd[i]);
    wait_allocs(&f, m0.allocs);
    close(ctl);
    stop(&f);
    free(fd);
}

/* Open `n` watchers of "/" and "/q" with one token, read their replies and
 * first events, then never read again. */
static void open_watchers(const struct fixture *f, int *fd, int n)
{
    for (int i = 0; i < n; i++) {
        char buf[XENSTORE_PAYLOAD_MAX + 1];
        struct xsd_sockmsg h;

        fd[i] = xst_connect(f->path, 10000);
        assert_true(fd[i] >= 0);
        call_ok(fd[i], XS_WATCH, "/\0tok", 6, XS_WATCH);
        call_ok(fd[i], XS_WATCH, "/q\0tok", 7, XS_WATCH);
        /* the second watch's first event (the first one's came before
         * the second reply) */
        assert_int_equal(xst_recv(fd[i], &h, buf), 0);
        assert_int_equal(h.type, XS_WATCH_EVENT);
    }
}

static void test_watchers(void **state)
{
    int n = fit_clients(WATCHERS + 1) - 1;
    int *fd = calloc((size_t)n, sizeof(*fd));
    struct mem m0, m1, m2;
    struct fixture f;
    char path[64];
    int w;

    start(&f, "mem-watch");
    w = xst_connect(f.path, 10000);
    assert_true(w >= 0);
    call_ok(w, XS_WRITE, "/q\0", 3, XS_WRITE);
    sample(&f.srv, &f.counts, &m0);
    open_watchers(&f, fd, n);

    /* 4000 writes to 8 nodes: each watcher's queue holds one event a node */
    for (int i = 0; i < 4000; i++) {
        int len = snprintf(path, sizeof(path), "/q/n%d", i % 8);

        call_ok(w, XS_WRITE, path, (uint32_t)len + 1, XS_WRITE);
    }
    sample(&f.srv, &f.counts, &m1);
    printf("%d watchers not reading, 4000 writes to 8 nodes: %ld bytes counted each, "
           "resident +%ld KB, peak +%ld KB\n",
           n, (m1.bytes - m0.bytes) / n, m1.rss_kb - m0.rss_kb, m1.hwm_kb - m0.hwm_kb);
    assert_true(m1.bytes - m0.bytes <= (long)n * REPEAT_BYTES_MAX);
    check_rss("watchers, repeated nodes", &m0, &m1, n, 4 * REPEAT_BYTES_MAX / 1024);

    /* new nodes every time: the per-connection event cap holds */
    for (int i = 0; i < DISTINCT_NODES; i++) {
        int len = snprintf(path, sizeof(path), "/q/d%d", i);

        call_ok(w, XS_WRITE, path, (uint32_t)len + 1, XS_WRITE);
    }
    sample(&f.srv, &f.counts, &m2);
    {
        /* a queued event: its struct xs_msg (56 bytes on LP64), header,
         * payload ("/q/dNNNN\0tok\0", 14 bytes) and at most two
         * pending-set buckets, 102 bytes: 128 is a bound */
        long cap = XSIM_XS_MAX_QUEUED_EVENTS * 128L;

        printf("... then %d writes to new nodes: %ld bytes counted each (cap %ld), "
               "resident +%ld KB, peak +%ld KB\n",
               DISTINCT_NODES, (m2.bytes - m0.bytes) / n, cap, m2.rss_kb - m0.rss_kb,
               m2.hwm_kb - m0.hwm_kb);
        assert_true(m2.bytes - m0.bytes <= (long)n * (cap + REPEAT_BYTES_MAX));
        check_rss("watchers, new nodes", &m0, &m2, n, 4 * (cap + REPEAT_BYTES_MAX) / 1024);
    }
    for (int i = 0; i < n; i++)
        close(fd[i]);
    /* the tree as it was at the start: then all the watchers held is back */
    call_ok(w, XS_RM, "/q", 3, XS_RM);
    call_ok(w, XS_WRITE, "/q\0", 3, XS_WRITE);
    wait_allocs(&f, m0.allocs);
    close(w);
    stop(&f);
    free(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_clients),
        cmocka_unit_test(test_watchers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
