/*
 * bench_callback - what the per-vCPU upcall vector buys over the platform
 * PCI INTx callback, in the model: eight devices with Poisson arrivals and
 * exponential 5 us handlers on a 4-vCPU guest, at three offered loads,
 * under the two real cost profiles. For each: the mean and p99 sojourn
 * (send to handler done) and the VM exits per event with the IRQ callback
 * (every port on CPU 0) and with the vector (ports spread), and the ratio
 * IRQ / vector, the vector run being the baseline measured in the same run.
 *
 * Virtual time only: the figures do not depend on the host. The last line
 * is one JSON object. --quick runs shorter simulated runs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/scenario.h"

#define NDEV  8
#define VCPUS 4

struct point {
    double mean, p99, exits_per_event;
    bool pass;
};

static double exits_per_event(const struct xsim_report *rep, uint64_t events)
{
    uint64_t n = 0;

    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        const char *name = xsim_cost_reason_name((enum xsim_cost_reason)r);
        if (strcmp(name, "hypercall") == 0 || strncmp(name, "exit_", 5) == 0)
            n += rep->stats.count[r];
    }
    return events ? (double)n / (double)events : 0;
}

static int run_point(const char *profile, const char *callback, double total_rate, double secs,
                     struct point *pt)
{
    char text[4096];
    size_t len;
    struct xsim_scenario s;
    struct xsim_error err;
    struct xsim_report *rep = calloc(1, sizeof(*rep));
    uint64_t n = 0;
    double sum = 0;

    if (rep == NULL)
        return -1;
    len = (size_t)snprintf(text, sizeof(text),
                           "{\"name\": \"bench-callback\", \"machine\": {\"vcpus\": %d, "
                           "\"cost_profile\": \"%s\"}, \"guest\": {\"callback\": \"%s\"}, "
                           "\"workloads\": [",
                           VCPUS, profile, callback);
    for (int i = 0; i < NDEV; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len,
                                "%s{\"name\": \"dev%d\", \"rate\": %.3f, \"distribution\": "
                                "\"poisson\", \"service\": \"exp:5us\"}",
                                i ? ", " : "", i, total_rate / NDEV);
    snprintf(text + len, sizeof(text) - len, "], \"stop\": {\"time\": \"%.0fms\"}}", secs * 1e3);
    /* Named inside the source tree, like a shipped scenario. */
    if (xsim_scenario_load_buffer(&s, XENSIM_SOURCE_DIR "/sim/scenarios/bench.json", text,
                                  strlen(text), &err) != 0) {
        char msg[512];
        xsim_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "bench_callback: %s\n", msg);
        free(rep);
        return -1;
    }
    if (xsim_run(&s, NULL, rep, NULL, NULL) != 0) {
        fprintf(stderr, "bench_callback: %s\n", rep->failure);
        xsim_scenario_free(&s);
        free(rep);
        return -1;
    }
    pt->p99 = 0;
    for (size_t i = 0; i < rep->nwl; i++) {
        n += rep->wl[i].sojourn.n;
        sum += rep->wl[i].sojourn.mean * (double)rep->wl[i].sojourn.n;
        if ((double)rep->wl[i].sojourn.p99 > pt->p99)
            pt->p99 = (double)rep->wl[i].sojourn.p99; /* the worst device's */
    }
    pt->mean = n ? sum / (double)n : 0;
    pt->exits_per_event = exits_per_event(rep, n);
    pt->pass = rep->all_pass;
    xsim_report_free(rep);
    xsim_scenario_free(&s);
    free(rep);
    return 0;
}

int main(int argc, char **argv)
{
    const char *profiles[] = {"haswell-xen44", "icelake-xen417"};
    const double rates[] = {40000, 100000, 140000};
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    double secs = quick ? 0.05 : 1.0;
    double ratio[2][3];

    printf("bench_callback: %d devices, exp 5 us handlers, %d vCPUs, %.2f s simulated per "
           "point\n\n",
           NDEV, VCPUS, secs);
    printf("| profile | offered | IRQ mean | IRQ p99 | IRQ exits/ev | vector mean | vector p99 | "
           "vector exits/ev | IRQ/vector mean |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int p = 0; p < 2; p++) {
        for (int r = 0; r < 3; r++) {
            struct point irq, vec;
            if (run_point(profiles[p], "pci-intx", rates[r], secs, &irq) != 0 ||
                run_point(profiles[p], "percpu-vector", rates[r], secs, &vec) != 0)
                return 1;
            ratio[p][r] = vec.mean > 0 ? irq.mean / vec.mean : 0;
            printf("| %s | %.0fk/s | %.2f us%s | %.2f us | %.2f | %.2f us | %.2f us | %.2f | %.2fx "
                   "|\n",
                   profiles[p], rates[r] / 1e3, irq.mean / 1e3, irq.pass ? "" : " (overloaded)",
                   irq.p99 / 1e3, irq.exits_per_event, vec.mean / 1e3, vec.p99 / 1e3,
                   vec.exits_per_event, ratio[p][r]);
        }
    }
    printf("\n{");
    for (int p = 0; p < 2; p++) {
        for (int r = 0; r < 3; r++)
            printf("%s\"%s_%.0fk_irq_over_vector\": %.3f", p + r ? ", " : "", profiles[p],
                   rates[r] / 1e3, ratio[p][r]);
    }
    printf("}\n");
    return 0;
}
