/*
 * test_scenario_variants.c - valid but unusual machines, disks and
 * workloads, drawn from a seeded PRNG and run for a few milliseconds: every
 * run must set up (or refuse with an error), end normally and never crash,
 * hang or leak; the data oracles must hold whatever the configuration.
 * XSIM_VARIANTS=N changes the count (default 40); a failure prints the
 * seed and the scenario text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xensim/prng.h"
#include "xensim/scenario.h"

static const char *pick(struct xsim_rng *r, const char *const *v, size_t n)
{
    return v[xsim_rng_below(r, n)];
}

static const char *tf(struct xsim_rng *r)
{
    return xsim_rng_below(r, 2) ? "true" : "false";
}

/* One random scenario into buf. */
static void make(uint64_t seed, char *buf, size_t size)
{
    static const char *const stops[] = {"3ms", "6ms", "10ms"};
    static const char *const rates[] = {"500/s", "5k/s", "50k/s"};
    static const unsigned int sectors[] = {1, 8, 16, 88, 512, 2048};
    struct xsim_rng r;
    int vcpus, cdrom, migr;
    unsigned int io;
    char mig[512] = "";

    xsim_rng_init(&r, seed, "variants");
    vcpus = 1 + (int)xsim_rng_below(&r, 4);
    cdrom = xsim_rng_below(&r, 5) == 0;
    migr = !cdrom && xsim_rng_below(&r, 2);
    io = sectors[xsim_rng_below(&r, 6)];
    if (migr)
        snprintf(mig, sizeof(mig),
                 ",\"migrations\":[{\"at\":\"1ms\",\"downtime\":\"%uus\",\"cancel\":%s,"
                 "\"disk_features\":{\"flush\":%s,\"barrier\":%s,\"discard\":%s,"
                 "\"indirect_segments\":%u,\"max_ring_page_order\":%u}}]",
                 (unsigned)(10 + xsim_rng_below(&r, 500)), tf(&r), tf(&r), tf(&r), tf(&r),
                 (unsigned)(xsim_rng_below(&r, 2) ? 0 : 8 + xsim_rng_below(&r, 300)),
                 (unsigned)xsim_rng_below(&r, 5));
    snprintf(buf, size,
             "{\"name\":\"variant\",\"machine\":{\"vcpus\":%d,\"features\":"
             "{\"hvm_callback_vector\":%s,\"percpu_upcall_vector\":%s}},"
             "\"disks\":[{\"name\":\"d\",\"kind\":\"%s\",\"sectors\":%u,\"write_cache\":%s,"
             "\"features\":{\"flush\":%s,\"barrier\":%s,\"discard\":%s,\"indirect_segments\":%u,"
             "\"max_ring_page_order\":%u},\"latency\":\"%uus\",\"jitter\":0.%u,"
             "\"faults\":{\"refuse_flush\":%s,\"refuse_barrier\":%s},"
             "\"ring_pages\":%u,\"indirect\":%s}],"
             "\"workloads\":[{\"name\":\"io\",\"type\":\"block-io\",\"disk\":\"d\",\"vcpu\":%d,"
             "\"rate\":\"%s\",\"mix\":%s,\"io_sectors\":%u,\"queue_depth\":%u}]%s,"
             "\"stop\":{\"time\":\"%s\"},\"oracles\":{}}",
             vcpus, tf(&r), tf(&r), cdrom ? "cdrom" : "disk",
             (unsigned)(4096 + xsim_rng_below(&r, 1u << 20)), tf(&r), tf(&r), tf(&r), tf(&r),
             (unsigned)(xsim_rng_below(&r, 2) ? 0 : 1 + xsim_rng_below(&r, 512)),
             (unsigned)xsim_rng_below(&r, 5), (unsigned)(1 + xsim_rng_below(&r, 200)),
             (unsigned)xsim_rng_below(&r, 10), tf(&r), tf(&r),
             (unsigned)(1 + xsim_rng_below(&r, 16)), tf(&r),
             (int)xsim_rng_below(&r, (uint64_t)vcpus), pick(&r, rates, 3),
             cdrom ? "{\"read\":1,\"flush\":0.1}"
                   : "{\"read\":0.4,\"write\":0.3,\"flush\":0.1,\"barrier\":0.1,\"discard\":0.1}",
             io, (unsigned)(1 + xsim_rng_below(&r, 64)), mig, pick(&r, stops, 3));
}

static void test_variants(void **state)
{
    const char *env = getenv("XSIM_VARIANTS");
    unsigned int n = env != NULL ? (unsigned int)strtoul(env, NULL, 10) : 40;
    char text[4096];
    unsigned int ran = 0;

    (void)state;
    for (uint64_t seed = 1; seed <= n; seed++) {
        struct xsim_scenario s;
        struct xsim_error err;
        struct xsim_run_options ro = {.quiet = true};
        struct xsim_report rep;

        make(seed, text, sizeof(text));
        if (xsim_scenario_load_buffer(&s, "variant", text, strlen(text), &err) != 0)
            continue; /* the loader refused it with a positioned error: fine */
        int rc = xsim_run(&s, &ro, &rep, NULL, NULL);
        if (rc == 0) {
            ran++;
            /* oracles[0] is "run": ended normally, booted, everything set up. */
            /* I/O may still be in flight at the time limit (a short run of
             * barrier-serialised work), never once the world went quiet. */
            bool ok = rep.noracles > 0 && rep.oracles[0].pass && rep.nwl == 1 &&
                      rep.wl[0].verify_failed == 0 &&
                      (rep.wl[0].consumed == rep.wl[0].sent || rep.stop == XSIM_STOP_TIME_LIMIT);
            if (!ok) {
                fprintf(stderr, "seed %llu: %s; %llu of %llu I/Os completed, %llu bad reads\n%s\n",
                        (unsigned long long)seed,
                        rep.noracles ? rep.oracles[0].detail : rep.failure,
                        (unsigned long long)rep.wl[0].consumed, (unsigned long long)rep.wl[0].sent,
                        (unsigned long long)rep.wl[0].verify_failed, text);
                fail();
            }
            xsim_report_free(&rep);
        }
        xsim_scenario_free(&s);
    }
    assert_true(ran >= n / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_variants)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
