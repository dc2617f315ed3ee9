/*
 * bench_blk - the modelled cost of PV block I/O, each figure against a
 * baseline run in the same process (virtual time from the default cost
 * profile; host time only for the simulator's own speed):
 *
 *   vector_latency_ns, intx_latency_ns   mean submit-to-completion latency of
 *                                        4 KiB I/Os issued from vCPU 1 of 4, with
 *                                        the per-vCPU upcall vector (the port
 *                                        balanced off CPU 0) and with the
 *                                        platform PCI INTx (completions on CPU 0)
 *   busy_vector_latency_ns, busy_intx_latency_ns  the same with CPU 0 40% busy
 *                                        serving another device
 *   vector_exits_per_io, intx_exits_per_io  VM exits + hypercalls per I/O
 *   intx_latency_ratio, busy_intx_latency_ratio, intx_exit_ratio  INTx / vector
 *   ring1_iops, ring16_iops              completed I/Os per virtual second at
 *                                        queue depth 128 with a 1-page (32 slots)
 *                                        and a 16-page (512 slots) ring
 *   ring_ratio                           ring16 / ring1
 *   sim_ios_per_host_s                   simulated I/Os per host second (the
 *                                        vector run), and sim_events_per_host_s
 *                                        for plain events (the baseline), with
 *                                        their ratio
 * The last line is one JSON object. --quick runs short versions.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xensim/scenario.h"
#include "bench_util.h"

struct result {
    uint64_t ios, latency_ns_mean, latency_ns_p99, exits;
    uint64_t end_ns;
    double host_s;
    bool pass;
};

static uint64_t exits_of(const struct xsim_stats *st)
{
    uint64_t n = 0;

    for (unsigned int r = XSIM_COST_HYPERCALL; r <= XSIM_COST_EXIT_HLT; r++)
        n += st->count[r];
    return n + st->count[XSIM_COST_EXIT_INTR] + st->count[XSIM_COST_EXIT_EOI_INDUCED];
}

static int run_json(const char *text, struct result *out)
{
    struct xsim_scenario s;
    struct xsim_error err;
    struct xsim_run_options ro = {.quiet = true};
    struct xsim_report rep;
    double t0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (xsim_scenario_load_buffer(&s, "bench", text, strlen(text), &err) != 0) {
        fprintf(stderr, "bench_blk: scenario: %s\n", err.text);
        return -1;
    }
    t0 = now_s();
    rc = xsim_run(&s, &ro, &rep, NULL, NULL);
    out->host_s = now_s() - t0;
    if (rc == 0) {
        /* The first workload is the one measured. */
        out->ios = rep.wl[0].consumed;
        out->latency_ns_mean = rep.wl[0].latency_ns_mean;
        out->latency_ns_p99 = rep.wl[0].latency_ns_p99;
        out->exits = exits_of(&rep.stats);
        out->end_ns = rep.stats.end_time_ns;
        out->pass = rep.all_pass;
        if (!rep.all_pass)
            for (size_t i = 0; i < rep.noracles; i++)
                if (!rep.oracles[i].pass)
                    fprintf(stderr, "bench_blk: oracle %s failed: %s\n", rep.oracles[i].name,
                            rep.oracles[i].detail);
        xsim_report_free(&rep);
    } else {
        fprintf(stderr, "bench_blk: run: %s\n", rep.failure);
    }
    xsim_scenario_free(&s);
    return rc;
}

static int callback_run(bool vector, const char *net_rate, const char *stop, struct result *r)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "{\"name\":\"bench-cb\",\"machine\":{\"vcpus\":4,\"features\":"
             "{\"hvm_callback_vector\":%s,\"percpu_upcall_vector\":%s}},"
             "\"disks\":[{\"name\":\"xvda\",\"latency\":\"30us\"}],"
             "\"workloads\":[{\"name\":\"io\",\"type\":\"block-io\",\"disk\":\"xvda\",\"vcpu\":1,"
             "\"rate\":\"20k/s\",\"mix\":{\"read\":0.6,\"write\":0.4},\"io_sectors\":8,"
             "\"region\":65536,\"queue_depth\":8},"
             "{\"name\":\"net\",\"rate\":\"%s\",\"distribution\":\"poisson\",\"vcpu\":0,"
             "\"handler_work\":\"8us\"}],"
             "\"stop\":{\"time\":\"%s\"},\"oracles\":{\"blk_data\":true,\"blk_no_lost_io\":true}}",
             vector ? "true" : "false", vector ? "true" : "false", net_rate, stop);
    return run_json(text, r);
}

/* The device saturated on purpose (arrivals far above what it serves), so
 * I/Os are still in flight at the stop: every read must return what the
 * disk holds (blk_data), and throughput counts the completed ones. */
static int ring_run(unsigned int pages, const char *stop, struct result *r)
{
    char text[2048];

    snprintf(text, sizeof(text),
             "{\"name\":\"bench-ring\",\"machine\":{\"vcpus\":2},"
             "\"disks\":[{\"name\":\"xvda\",\"latency\":\"100us\",\"ring_pages\":%u}],"
             "\"workloads\":[{\"name\":\"io\",\"type\":\"block-io\",\"disk\":\"xvda\",\"vcpu\":1,"
             "\"rate\":\"5M/s\",\"mix\":{\"read\":1},\"io_sectors\":8,\"region\":1048576,"
             "\"queue_depth\":128}],"
             "\"stop\":{\"time\":\"%s\"},\"oracles\":{\"blk_data\":true}}",
             pages, stop);
    return run_json(text, r);
}

static int events_run(const char *stop, struct result *r)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "{\"name\":\"bench-ev\",\"machine\":{\"vcpus\":4},"
             "\"workloads\":[{\"name\":\"ev\",\"rate\":\"20k/s\",\"distribution\":\"poisson\"}],"
             "\"stop\":{\"time\":\"%s\"},\"oracles\":{\"no_lost_events\":true}}",
             stop);
    return run_json(text, r);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const char *stop = quick ? "10ms" : "200ms";
    struct result vec, intx, bvec, bintx, r1, r16, ev;

    /* CPU 0 idle but for a trickle, then CPU 0 40% busy with another
     * device (50k/s events of 8 us handler work bound to it). */
    if (callback_run(true, "10/s", stop, &vec) != 0 ||
        callback_run(false, "10/s", stop, &intx) != 0 ||
        callback_run(true, "50k/s", stop, &bvec) != 0 ||
        callback_run(false, "50k/s", stop, &bintx) != 0 || ring_run(1, stop, &r1) != 0 ||
        ring_run(16, stop, &r16) != 0 || events_run(stop, &ev) != 0)
        return 1;
    if (!vec.pass || !intx.pass || !bvec.pass || !bintx.pass || !r1.pass || !r16.pass || !ev.pass ||
        vec.ios == 0 || intx.ios == 0 || bvec.ios == 0 || bintx.ios == 0 || r1.ios == 0 ||
        ev.ios == 0)
        return 1;
    /* Throughput over the whole run (the drain period included for both). */
    double iops1 = (double)r1.ios / ((double)r1.end_ns * 1e-9);
    double iops16 = (double)r16.ios / ((double)r16.end_ns * 1e-9);
    double vexits = (double)vec.exits / (double)vec.ios,
           iexits = (double)intx.exits / (double)intx.ios;

    printf("completion callback, 4 KiB I/Os from vCPU 1 of 4 at 20k/s, 30 us service (%s):\n",
           stop);
    printf("  CPU 0 idle, per-vCPU vector: latency mean %" PRIu64 " ns, p99 <= %" PRIu64
           " ns; %.2f exits+hypercalls per I/O (all CPUs)\n",
           vec.latency_ns_mean, vec.latency_ns_p99, vexits);
    printf("  CPU 0 idle, platform INTx:   latency mean %" PRIu64 " ns, p99 <= %" PRIu64
           " ns; %.2f exits+hypercalls per I/O (all CPUs)\n",
           intx.latency_ns_mean, intx.latency_ns_p99, iexits);
    printf("  CPU 0 40%% busy, vector:      latency mean %" PRIu64 " ns, p99 <= %" PRIu64 " ns\n",
           bvec.latency_ns_mean, bvec.latency_ns_p99);
    printf("  CPU 0 40%% busy, INTx:        latency mean %" PRIu64 " ns, p99 <= %" PRIu64 " ns\n",
           bintx.latency_ns_mean, bintx.latency_ns_p99);
    printf("ring size at queue depth 128, 100 us service: 1 page %.0f IOPS, 16 pages %.0f IOPS\n",
           iops1, iops16);
    printf("host: %.0f simulated I/Os/s, %.0f simulated events/s\n", (double)vec.ios / vec.host_s,
           (double)ev.ios / ev.host_s);
    printf("{\"bench\":\"blk\",\"vector_latency_ns\":%" PRIu64 ",\"intx_latency_ns\":%" PRIu64
           ",\"intx_latency_ratio\":%.3f,\"busy_vector_latency_ns\":%" PRIu64
           ",\"busy_intx_latency_ns\":%" PRIu64 ",\"busy_intx_latency_ratio\":%.3f,"
           "\"vector_exits_per_io\":%.2f,\"intx_exits_per_io\":%.2f,"
           "\"intx_exit_ratio\":%.3f,\"ring1_iops\":%.0f,\"ring16_iops\":%.0f,\"ring_ratio\":%.3f,"
           "\"sim_ios_per_host_s\":%.0f,\"sim_events_per_host_s\":%.0f,\"sim_io_event_ratio\":%.3f}"
           "\n",
           vec.latency_ns_mean, intx.latency_ns_mean,
           (double)intx.latency_ns_mean / (double)vec.latency_ns_mean, bvec.latency_ns_mean,
           bintx.latency_ns_mean, (double)bintx.latency_ns_mean / (double)bvec.latency_ns_mean,
           vexits, iexits, iexits / vexits, iops1, iops16, iops16 / iops1,
           (double)vec.ios / vec.host_s, (double)ev.ios / ev.host_s,
           ((double)vec.ios / vec.host_s) / ((double)ev.ios / ev.host_s));
    return 0;
}
