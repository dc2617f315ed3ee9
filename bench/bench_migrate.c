/*
 * bench_migrate - what resuming on a new host costs the guest, against the
 * same run whose suspend is cancelled (resumed in place) at the same time,
 * in the same process (virtual figures from the default cost profile):
 *
 *   extra_hypercalls_N      hypercalls of the new-host run minus those of the
 *                           cancelled run, for N = 1, 4, 16, 64 vCPUs (the
 *                           resume maps shared_info, registers every
 *                           vcpu_info, binds the timer and IPI ports again,
 *                           re-arms timers, reconnects xenstore and the disk)
 *   fixed_hypercalls, per_vcpu_hypercalls  a least-squares line through them
 *   slope_ratio             (extra_64 - extra_16) / 48 over (extra_16 - extra_4) / 12:
 *                           near 1 when the per-vCPU work does not grow with N
 *                           (1 vCPU is left out of it: it has no IPI ports)
 * The last line is one JSON object. --quick runs 1 and 4 vCPUs only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/scenario.h"

struct result {
    uint64_t hypercalls;
    bool pass;
};

static int run_one(unsigned int vcpus, bool migrate, struct result *out)
{
    char text[2048];
    struct xsim_scenario s;
    struct xsim_error err;
    struct xsim_run_options ro = {.quiet = true};
    struct xsim_report rep;
    int rc;

    snprintf(text, sizeof(text),
             "{\"name\":\"bench-mig\",\"machine\":{\"vcpus\":%u},"
             "\"disks\":[{\"name\":\"xvda\",\"latency\":\"50us\"}],"
             "\"workloads\":[{\"name\":\"io\",\"type\":\"block-io\",\"disk\":\"xvda\",\"vcpu\":0,"
             "\"rate\":\"5k/s\",\"mix\":{\"read\":0.5,\"write\":0.5},\"region\":65536,"
             "\"queue_depth\":8},{\"name\":\"tick\",\"type\":\"timer\",\"period\":\"1ms\"}%s],"
             "\"migrations\":[{\"at\":\"10ms\",\"downtime\":\"2ms\",\"cancel\":%s}],"
             "\"stop\":{\"time\":\"30ms\"},"
             "\"oracles\":{\"blk_no_lost_io\":true,\"timers\":true,\"migration\":true}}",
             vcpus, vcpus > 1 ? ",{\"name\":\"ipi\",\"type\":\"ipi\",\"rate\":\"1k/s\"}" : "",
             migrate ? "false" : "true");
    /* The baseline is the same run with a cancelled suspend at the same
     * time: it parks, suspends and resumes in place, so the difference is
     * what a new host costs (rebuilding every binding), not the pause. */
    memset(out, 0, sizeof(*out));
    if (xsim_scenario_load_buffer(&s, "bench", text, strlen(text), &err) != 0) {
        fprintf(stderr, "bench_migrate: %s\n", err.text);
        return -1;
    }
    rc = xsim_run(&s, &ro, &rep, NULL, NULL);
    if (rc == 0) {
        for (unsigned int op = 0; op < XSIM_MAX_HYPERCALLS; op++)
            out->hypercalls += rep.stats.hypercalls[op];
        out->pass = rep.all_pass;
        for (size_t i = 0; i < rep.noracles; i++)
            if (!rep.oracles[i].pass)
                fprintf(stderr, "bench_migrate: %u vCPUs: %s: %s\n", vcpus, rep.oracles[i].name,
                        rep.oracles[i].detail);
        xsim_report_free(&rep);
    }
    xsim_scenario_free(&s);
    return rc;
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const unsigned int sizes[] = {1, 4, 16, 64};
    unsigned int nsizes = quick ? 2 : 4;
    double extra[4] = {0}, sx = 0, sy = 0, sxx = 0, sxy = 0;
    struct result mig[4], base[4];

    printf("resume on a new host (2 ms downtime) against a cancelled suspend at the same time:\n");
    for (unsigned int i = 0; i < nsizes; i++) {
        if (run_one(sizes[i], true, &mig[i]) != 0 || run_one(sizes[i], false, &base[i]) != 0 ||
            !mig[i].pass || !base[i].pass)
            return 1;
        extra[i] = (double)mig[i].hypercalls - (double)base[i].hypercalls;
        printf("  %2u vCPUs: %" PRIu64 " hypercalls against %" PRIu64 ": %+.0f\n", sizes[i],
               mig[i].hypercalls, base[i].hypercalls, extra[i]);
        sx += sizes[i];
        sy += extra[i];
        sxx += (double)sizes[i] * sizes[i];
        sxy += (double)sizes[i] * extra[i];
    }
    double per_vcpu = (nsizes * sxy - sx * sy) / (nsizes * sxx - sx * sx);
    double fixed = (sy - per_vcpu * sx) / nsizes;
    printf("  fit: %.1f hypercalls + %.2f per vCPU\n", fixed, per_vcpu);
    printf("{\"bench\":\"migrate\"");
    for (unsigned int i = 0; i < nsizes; i++)
        printf(",\"extra_hypercalls_%u\":%.0f", sizes[i], extra[i]);
    printf(",\"fixed_hypercalls\":%.1f,\"per_vcpu_hypercalls\":%.2f", fixed, per_vcpu);
    if (!quick)
        printf(",\"slope_ratio\":%.3f",
               ((extra[3] - extra[2]) / 48) / ((extra[2] - extra[1]) / 12));
    printf("}\n");
    return 0;
}
