/*
 * test_model.c - the performance model against queueing theory.
 *
 * With the `zero` cost profile only declared work takes time, so one CPU
 * serving one device's queue is a single-server queue: Poisson arrivals
 * and exponential, deterministic or general service make M/M/1, M/D/1 and
 * M/G/1, whose mean sojourn times are known in closed form (the
 * Pollaczek-Khinchine formula), and for M/M/1 and M/D/1 the 99th
 * percentile too. Each case runs the scenario through xsim_run, as a user
 * would, lengthening the run until the 95% confidence interval of the
 * mean sojourn is within 1.5%, then asserts the mean within 3% and the p99
 * within 5%. The IRQ callback (every port on CPU 0) against the per-vCPU
 * vector (ports spread) is one M/M/1 at the total rate against N at
 * rate/N. Two ports of different service on CPU 0 are a two-queue
 * exhaustive polling system: each port's mean wait against its closed
 * form; three such ports, on either event channel ABI, keep Kleinrock's
 * conservation law. Prints the table the README quotes.
 *
 * XSIM_MODEL_FAST=1 runs a reduced grid (for sanitizer builds).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xensim/cost.h"
#include "xensim/scenario.h"

#define S_NS       5000.0 /* mean service, 5 us */
#define MEAN_TOL   0.03
#define P99_TOL    0.05
#define CI_TARGET  0.015
#define MAX_TIME_S 400.0 /* simulated seconds, the longest run a case may take */

static const char *profile(void)
{
    const char *p = getenv("XSIM_MODEL_PROFILE");

    return p != NULL ? p : "zero";
}

static bool fast(void)
{
    const char *f = getenv("XSIM_MODEL_FAST");

    return f != NULL && strcmp(f, "0") != 0;
}

/* ---- closed forms ---- */

/* M/D/1 waiting time distribution (Erlang 1909; e.g. Kleinrock, Queueing
 * Systems vol. 1): with D = 1 and rho = lambda,
 *   P(W <= t) = (1 - rho) sum_{k=0}^{floor t} (rho (k - t))^k / k! e^{-rho (k - t)}.
 * The alternating terms grow with t; long double keeps about 19 digits,
 * enough for the t (< 60) that a p99 at rho <= 0.9 needs. */
static long double md1_wait_cdf(long double rho, long double t)
{
    long double sum = 0;

    for (int k = 0; k <= (int)floorl(t); k++) {
        long double x = rho * ((long double)k - t);
        sum += powl(x, k) / tgammal(k + 1) * expl(-x);
    }
    return (1 - rho) * sum;
}

/* The q-quantile of the M/D/1 wait in units of D, by bisection. */
static double md1_wait_quantile(double rho, double q)
{
    long double lo = 0, hi = 1;

    if (md1_wait_cdf(rho, 0) >= q)
        return 0;
    while (md1_wait_cdf(rho, hi) < q)
        hi *= 2;
    for (int i = 0; i < 100; i++) {
        long double mid = (lo + hi) / 2;
        if (md1_wait_cdf(rho, mid) < q)
            lo = mid;
        else
            hi = mid;
    }
    return (double)((lo + hi) / 2);
}

enum svc { SVC_EXP, SVC_DET, SVC_LOGN, SVC_H2 };

struct svc_kind {
    const char *queue; /* "M/M/1" */
    const char *spec;  /* scenario service, %s = mean */
    double cv;
};

static const struct svc_kind svcs[] = {
    [SVC_EXP] = {"M/M/1", "exp:5us", 1.0},
    [SVC_DET] = {"M/D/1", "fixed:5us", 0.0},
    [SVC_LOGN] = {"M/G/1 lognormal cv 1.5", "lognormal:5us:1.5", 1.5},
    [SVC_H2] = {"M/G/1 hyperexp cv 2", "hyperexp:5us:2", 2.0},
};

/* Pollaczek-Khinchine: mean sojourn = S + lambda E[S^2] / (2 (1 - rho)),
 * E[S^2] = S^2 (1 + cv^2). */
static double pk_sojourn(double rho, double cv)
{
    return S_NS + rho * S_NS * (1 + cv * cv) / (2 * (1 - rho));
}

/* The p99 sojourn where a closed form exists, else -1. */
static double p99_sojourn(enum svc k, double rho)
{
    if (k == SVC_EXP) /* the M/M/1 FIFO sojourn is exponential, rate mu - lambda */
        return log(100.0) * S_NS / (1 - rho);
    if (k == SVC_DET)
        return S_NS * (md1_wait_quantile(rho, 0.99) + 1);
    return -1;
}

/* ---- running a case ---- */

struct result {
    double mean, ci, p99, seconds;
    uint64_t n;
    char detail[256];
};

/* Run a scenario text; fills the mean sojourn over the workloads named
 * p0..p{nports-1} (weighted by items), its CI (the item-weighted sum of
 * the workloads' half-widths: they share queues, so no cancellation is
 * assumed), and the p99 of the first. Returns 0 or -1. */
static int run_text(const char *text, int nports, struct result *r)
{
    struct xsim_scenario s;
    struct xsim_error err;
    struct xsim_report *rep = calloc(1, sizeof(*rep));
    char path[512];
    int rc = -1;

    memset(r, 0, sizeof(*r));
    assert_non_null(rep);
    /* Named inside the source tree so that the profile resolves. */
    snprintf(path, sizeof(path), "%s/tests/data/model/case.json", XENSIM_SOURCE_DIR);
    if (xsim_scenario_load_buffer(&s, path, text, strlen(text), &err) != 0) {
        char msg[512];
        xsim_error_format(&err, msg, sizeof(msg));
        fail_msg("scenario: %s\n%s", msg, text);
    }
    struct xsim_run_options opt = {.quiet = true};
    if (xsim_run(&s, &opt, rep, NULL, NULL) == 0 && rep->all_pass) {
        double wsum = 0, ci = 0;
        uint64_t n = 0;
        for (size_t i = 0; i < rep->nwl && (int)i < nports; i++) {
            const struct xsim_wl_result *w = &rep->wl[i];
            n += w->sojourn.n;
            wsum += w->sojourn.mean * (double)w->sojourn.n;
            ci += (w->sojourn_ns_mean_ci95 >= 0 ? w->sojourn_ns_mean_ci95 : INFINITY) *
                  (double)w->sojourn.n;
        }
        if (n > 0) {
            r->n = n;
            r->mean = wsum / (double)n;
            r->ci = ci / (double)n;
            r->p99 = (double)rep->wl[0].sojourn.p99;
            rc = 0;
        }
        for (size_t i = 0; i < rep->nlaws; i++) {
            if (!rep->laws[i].pass)
                fail_msg("law %s broken: %s", rep->laws[i].name, rep->laws[i].detail);
        }
    } else {
        snprintf(r->detail, sizeof(r->detail), "run failed: %.200s", rep->failure);
    }
    xsim_report_free(rep);
    xsim_scenario_free(&s);
    free(rep);
    return rc;
}

static void scenario_text(char *buf, size_t size, int vcpus, const char *callback, int nports,
                          double total_rate, const char *dist, const char *service,
                          double seconds)
{
    size_t len;

    len = (size_t)snprintf(buf, size,
                           "{\"name\": \"model\", \"machine\": {\"vcpus\": %d, \"cost_profile\": "
                           "\"%s\"}, \"guest\": {\"callback\": \"%s\"}, \"workloads\": [",
                           vcpus, profile(), callback);
    for (int i = 0; i < nports; i++)
        len += (size_t)snprintf(buf + len, size - len,
                                "%s{\"name\": \"p%d\", \"rate\": %.6f, \"distribution\": "
                                "\"%s\", \"service\": \"%s\"}",
                                i ? ", " : "", i, total_rate / nports, dist, service);
    snprintf(buf + len, size - len, "], \"stop\": {\"time\": \"%.0fms\"}}", seconds * 1000);
}

/* Lengthen the run until the CI target holds (or the cap). */
static void run_case_dist(int vcpus, const char *callback, int nports, double total_rate,
                          const char *dist, const char *service, double seconds, struct result *r)
{
    char text[8192];

    for (;;) {
        scenario_text(text, sizeof(text), vcpus, callback, nports, total_rate, dist, service,
                      seconds);
        if (run_text(text, nports, r) != 0)
            fail_msg("%s", r->detail);
        r->seconds = seconds;
        if (r->ci <= CI_TARGET * r->mean || seconds >= MAX_TIME_S)
            return;
        seconds *= 2;
    }
}

static void run_case(int vcpus, const char *callback, int nports, double total_rate,
                     const char *service, double seconds, struct result *r)
{
    run_case_dist(vcpus, callback, nports, total_rate, "poisson", service, seconds, r);
}

static void row(const char *what, double rho, const char *measure, double closed, double sim,
                double ci, double secs)
{
    double err = (sim - closed) / closed;

    if (ci >= 0)
        printf("| %-24s | %.2f | %-7s | %10.2f | %10.2f | %+6.2f%% | %5.2f%% | %6.1f |\n", what, rho,
               measure, closed / 1000, sim / 1000, 100 * err, 100 * ci / sim, secs);
    else
        printf("| %-24s | %.2f | %-7s | %10.2f | %10.2f | %+6.2f%% |     - | %6.1f |\n", what, rho,
               measure, closed / 1000, sim / 1000, 100 * err, secs);
    fflush(stdout);
}

static void header(void)
{
    printf("\n| queue                    | rho  | measure | closed, us | simulated  | error   | CI95  | "
           "sim s  |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
}

static void check_single(enum svc k, const double *rhos, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        double rho = rhos[i], lambda = rho / (S_NS * 1e-9);
        double mean = pk_sojourn(rho, svcs[k].cv), p99 = p99_sojourn(k, rho);
        struct result r;
        /* Enough items for the low loads at once; the CI decides the rest. */
        run_case(1, "auto", 1, lambda, svcs[k].spec, 0.5, &r);
        row(svcs[k].queue, rho, "mean", mean, r.mean, r.ci, r.seconds);
        if (p99 > 0)
            row(svcs[k].queue, rho, "p99", p99, r.p99, -1, r.seconds);
        if (r.ci > CI_TARGET * r.mean)
            fail_msg("%s rho %.2f: CI %.2f%% above the target after %.0f s", svcs[k].queue, rho,
                     100 * r.ci / r.mean, r.seconds);
        if (fabs(r.mean - mean) > MEAN_TOL * mean)
            fail_msg("%s rho %.2f: mean sojourn %.1f ns, closed form %.1f ns", svcs[k].queue, rho,
                     r.mean, mean);
        if (p99 > 0 && fabs(r.p99 - p99) > P99_TOL * p99)
            fail_msg("%s rho %.2f: p99 sojourn %.1f ns, closed form %.1f ns", svcs[k].queue, rho,
                     r.p99, p99);
    }
}

static const double rhos_full[] = {0.3, 0.5, 0.7, 0.8, 0.9};
static const double rhos_fast[] = {0.5, 0.8};

static void rhos(const double **r, size_t *n)
{
    *r = fast() ? rhos_fast : rhos_full;
    *n = fast() ? 2 : 5;
}

static void test_mm1(void **state)
{
    const double *r;
    size_t n;

    (void)state;
    rhos(&r, &n);
    header();
    check_single(SVC_EXP, r, n);
}

static void test_md1(void **state)
{
    const double *r;
    size_t n;

    (void)state;
    rhos(&r, &n);
    header();
    check_single(SVC_DET, r, n);
}

static void test_mg1(void **state)
{
    const double *r;
    size_t n;

    (void)state;
    rhos(&r, &n);
    header();
    check_single(SVC_LOGN, r, n);
    check_single(SVC_H2, r, n);
}

/* D/M/1: periodic arrivals (the scenario default), exponential service.
 * A G/M/1 queue's sojourn is exponential with rate mu (1 - sigma), sigma
 * the root in (0, 1) of sigma = A*(mu (1 - sigma)), A* the Laplace
 * transform of the interarrival time; for a constant 1/lambda that is
 * sigma = exp(-(1 - sigma) / rho) (Kleinrock vol. 1, section 6.4). */
static double dm1_sigma(double rho)
{
    double sigma = 0.5;

    /* The map is a contraction near its root below 1 (its slope there is
     * sigma / rho < 1); 0.5 lies in its basin for every rho < 1. */
    for (int i = 0; i < 10000; i++) {
        double next = exp(-(1 - sigma) / rho);
        if (fabs(next - sigma) < 1e-15)
            return next;
        sigma = next;
    }
    return sigma;
}

static void test_dm1(void **state)
{
    const double *r;
    size_t n;

    (void)state;
    /* The root's own check: at rho 0.5, sigma = 0.2031878699... */
    assert_true(fabs(dm1_sigma(0.5) - 0.2031878699) < 1e-9);
    rhos(&r, &n);
    header();
    for (size_t i = 0; i < n; i++) {
        double rho = r[i], lambda = rho / (S_NS * 1e-9), sigma = dm1_sigma(rho);
        double mean = S_NS / (1 - sigma), p99 = log(100.0) * mean;
        struct result res;
        run_case_dist(1, "auto", 1, lambda, "periodic", "exp:5us", 0.5, &res);
        row("D/M/1", rho, "mean", mean, res.mean, res.ci, res.seconds);
        row("D/M/1", rho, "p99", p99, res.p99, -1, res.seconds);
        if (res.ci > CI_TARGET * res.mean)
            fail_msg("D/M/1 rho %.2f: CI %.2f%% above the target", rho, 100 * res.ci / res.mean);
        if (fabs(res.mean - mean) > MEAN_TOL * mean)
            fail_msg("D/M/1 rho %.2f: mean sojourn %.1f ns, closed form %.1f ns", rho, res.mean,
                     mean);
        if (fabs(res.p99 - p99) > P99_TOL * p99)
            fail_msg("D/M/1 rho %.2f: p99 sojourn %.1f ns, closed form %.1f ns", rho, res.p99, p99);
    }
}

/* Nothing in the model is tied to microseconds: M/M/1 at rho 0.5 with a
 * 200 ns and a 1 ms mean service gives 2 S as well. */
static void test_mm1_scale(void **state)
{
    static const struct {
        const char *queue, *spec;
        double s_ns, seconds;
    } c[] = {{"M/M/1, S = 200 ns", "exp:200ns", 200.0, 0.05},
             {"M/M/1, S = 1 ms", "exp:1ms", 1e6, 100.0}};

    (void)state;
    header();
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        double mean = 2 * c[i].s_ns;
        struct result res;
        run_case(1, "auto", 1, 0.5 / (c[i].s_ns * 1e-9), c[i].spec, c[i].seconds, &res);
        row(c[i].queue, 0.5, "mean", mean, res.mean, res.ci, res.seconds);
        if (fabs(res.mean - mean) > MEAN_TOL * mean)
            fail_msg("M/M/1 %s: mean sojourn %.1f ns, closed form %.1f ns", c[i].spec, res.mean,
                     mean);
    }
}

/* A scenario text run once under `time`, as `xensim run` would. */
struct ran {
    struct xsim_scenario s;
    struct xsim_report *rep;
};

static void ran_text(struct ran *r, const char *path, const char *text)
{
    struct xsim_error err;

    r->rep = calloc(1, sizeof(*r->rep));
    assert_non_null(r->rep);
    assert_int_equal(xsim_scenario_load_buffer(&r->s, path, text, strlen(text), &err), 0);
    assert_int_equal(xsim_run(&r->s, NULL, r->rep, NULL, NULL), 0);
}

static void ran_free(struct ran *r)
{
    xsim_report_free(r->rep);
    xsim_scenario_free(&r->s);
    free(r->rep);
}

/* The utilisation law counts an item still in service when the run stops:
 * its handler was charged for it, so its service is in X S. (It used to be
 * left out, and the law reported itself broken whenever the time limit
 * fell inside a long service.) */
static void test_law_item_in_service_at_stop(void **state)
{
    static const char *const svc[] = {"fixed:20ms", "batch:20ms", "exp:20ms"};

    (void)state;
    for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++) {
        struct ran r;
        char text[1024];
        /* One item at t = 0 on one CPU, served across the 10 ms limit. */
        snprintf(text, sizeof(text),
                 "{\"name\": \"long\", \"machine\": {\"vcpus\": 1, \"cost_profile\": "
                 "\"zero\"}, \"workloads\": [{\"name\": \"p0\", \"rate\": \"1k/s\", "
                 "\"count\": 1, \"service\": \"%s\"}], \"stop\": {\"time\": \"10ms\"}}",
                 svc[i]);
        ran_text(&r, XENSIM_SOURCE_DIR "/tests/data/model/x.json", text);
        const struct xsim_report *rep = r.rep;
        assert_int_equal(rep->wl[0].sent, 1);
        assert_true(rep->cpu[0].handler_ns > 0);
        assert_int_equal(rep->cpu[0].handler_ns, rep->cpu[0].service_ns);
        bool found = false;
        for (size_t k = 0; k < rep->nlaws; k++) {
            if (strcmp(rep->laws[k].name, "utilization") == 0) {
                found = true;
                if (!rep->laws[k].pass)
                    fail_msg("%s: %s", svc[i], rep->laws[k].detail);
            }
        }
        assert_true(found);
        ran_free(&r);
    }
}

/* IRQ callback: every port on CPU 0, one M/M/1 at the total rate. Per-vCPU
 * vector with the ports bound round robin: N M/M/1 at rate/N. */
static void test_irq_vs_vector(void **state)
{
    const double total = 150000.0; /* 150k/s of 5 us: rho 0.75 on one CPU */
    int ns[] = {2, 4, 8};

    (void)state;
    header();
    for (size_t i = 0; i < (fast() ? 1u : 3u); i++) {
        int n = ns[i];
        double rho1 = total * S_NS * 1e-9, rhon = rho1 / n;
        double irq = S_NS / (1 - rho1), vec = S_NS / (1 - rhon);
        struct result a, b;
        char what[64];
        run_case(n, "pci-intx", n, total, "exp:5us", 1.0, &a);
        run_case(n, "percpu-vector", n, total, "exp:5us", 1.0, &b);
        snprintf(what, sizeof(what), "IRQ, %d ports on CPU 0", n);
        row(what, rho1, "mean", irq, a.mean, a.ci, a.seconds);
        snprintf(what, sizeof(what), "vector, %d ports on %d", n, n);
        row(what, rhon, "mean", vec, b.mean, b.ci, b.seconds);
        if (fabs(a.mean - irq) > MEAN_TOL * irq || fabs(b.mean - vec) > MEAN_TOL * vec)
            fail_msg("N %d: IRQ %.1f ns (closed %.1f), vector %.1f ns (closed %.1f)", n, a.mean,
                     irq, b.mean, vec);
        if (a.ci > CI_TARGET * a.mean || b.ci > CI_TARGET * b.mean)
            fail_msg("N %d: CI above target", n);
        if (n == 2) {
            /* The golden figures: 20.0 us against 8.00 us. */
            assert_true(fabs(irq - 20000.0) < 1e-6 && fabs(vec - 8000.0) < 1e-6);
            printf("golden: S = 5 us exp, 150k/s, N = 2: %.2f us on CPU 0 (closed 20.00), %.2f us "
                   "spread (closed 8.00)\n",
                   a.mean / 1000, b.mean / 1000);
        }
    }
}

/*
 * Two ports of different service on CPU 0 (the IRQ callback). The guest's
 * upcall scans the pending ports from just after the last one it served and
 * each handler drains its own queue, so the CPU is a two-queue polling
 * system with exhaustive service and no switchover time, not a FIFO queue:
 * a port waits for the other's whole run, and the ports' mean waits differ
 * (only the rho-weighted sum of the waits is FIFO's, Kleinrock's
 * conservation law). Closed form, with b_i the mean service, r_i =
 * E[S_i^2] / (2 b_i) the mean residual service and rho_i = lambda_i b_i.
 * A port-1 arrival (PASTA) finds the CPU idle, serving port 1 (it waits for
 * the residual service and the port-1 items ahead of it) or serving port 2
 * (it waits for the rest of that run, the busy period that port 2's work
 * present starts, mean (residual + b_2 N_2) / (1 - rho_2), then the port-1
 * items ahead). The port-2 items queued while port 2 is served number
 * lambda_2 (rho_2 W_2 + rho_2 r_2) on average (Little, over the part of a
 * port-2 wait spent while port 2 is served), so
 *   W_1 (1 - rho_1) = rho_1 r_1 + rho_2 (r_2 (1 + rho_2) + rho_2 W_2) / (1 - rho_2)
 * and symmetrically for W_2: two linear equations. Checked against an
 * independent event-by-event simulation of exhaustive polling (rho 0.7,
 * exp 4 us and exp 10 us at 50k/s each: 29.29 and 15.32 us against 29.33
 * and 15.33 us); and rho_1 W_1 + rho_2 W_2 equals the conservation law's
 * rho / (1 - rho) sum lambda_i E[S_i^2] / 2, as it must.
 */
static void polling2_waits(const double lambda[2], const double b[2], const double r[2],
                           double w[2])
{
    double p1 = lambda[0] * b[0], p2 = lambda[1] * b[1];
    double a1 = p1 * r[0] + p2 * r[1] * (1 + p2) / (1 - p2), c12 = p2 * p2 / (1 - p2);
    double a2 = p2 * r[1] + p1 * r[0] * (1 + p1) / (1 - p1), c21 = p1 * p1 / (1 - p1);

    w[0] = (a1 * (1 - p2) + c12 * a2) / ((1 - p1) * (1 - p2) - c12 * c21);
    w[1] = (a2 + c21 * w[0]) / (1 - p2);
}

struct polling_case {
    double lambda[2]; /* per second */
    const char *spec[2];
    double b[2], r[2]; /* ns: mean service, mean residual service */
    const char *abi;   /* the guest's event channel ABI */
};

static const struct polling_case polling_cases[] = {
    /* exp 4 us and exp 10 us, 50k/s each: rho 0.7 */
    {{50e3, 50e3}, {"exp:4us", "exp:10us"}, {4000, 10000}, {4000, 10000}, "auto"},
    /* the same on the 2-level ABI (its scan resumes after the last port
     * served; FIFO links ports in the order they became pending: with two
     * ports both alternate exhaustive runs) */
    {{50e3, 50e3}, {"exp:4us", "exp:10us"}, {4000, 10000}, {4000, 10000}, "2l"},
    /* fixed 2 us at 100k/s and exp 15 us at 30k/s: rho 0.65 */
    {{100e3, 30e3}, {"fixed:2us", "exp:15us"}, {2000, 15000}, {1000, 15000}, "auto"},
    /* exp 20 us at 20k/s and fixed 1 us at 200k/s: rho 0.6 */
    {{20e3, 200e3}, {"exp:20us", "fixed:1us"}, {20000, 1000}, {20000, 500}, "auto"},
    /* exp 3 us at 150k/s and fixed 30 us at 10k/s: rho 0.75 */
    {{150e3, 10e3}, {"exp:3us", "fixed:30us"}, {3000, 30000}, {3000, 15000}, "auto"},
};

/* Run n ports on CPU 0 (the IRQ callback) with the guest's event channel
 * ABI `abi`, lengthening the run until every port's mean-sojourn interval
 * is within CI_TARGET (the sanitizer grid: one run of `*seconds`). Returns
 * the report (the caller frees it). */
static struct xsim_report *run_ports(const char *abi, int n, const double *lambda,
                                     const char *const *spec, double *seconds)
{
    for (;;) {
        char text[2048], path[512];
        struct xsim_scenario s;
        struct xsim_error err;
        struct xsim_run_options opt = {.quiet = true};
        struct xsim_report *rep;
        size_t len;
        bool ok = true;

        len = (size_t)snprintf(text, sizeof(text),
                               "{\"name\": \"polling\", \"machine\": {\"vcpus\": 2, "
                               "\"cost_profile\": \"%s\"}, \"guest\": {\"callback\": "
                               "\"pci-intx\", \"event_abi\": \"%s\"}, \"workloads\": [",
                               profile(), abi);
        for (int i = 0; i < n; i++)
            len += (size_t)snprintf(text + len, sizeof(text) - len,
                                    "%s{\"name\": \"p%d\", \"rate\": %.3f, \"distribution\": "
                                    "\"poisson\", \"service\": \"%s\"}",
                                    i ? ", " : "", i, lambda[i], spec[i]);
        snprintf(text + len, sizeof(text) - len, "], \"stop\": {\"time\": \"%.0fms\"}}",
                 *seconds * 1000);
        snprintf(path, sizeof(path), "%s/tests/data/model/case.json", XENSIM_SOURCE_DIR);
        if (xsim_scenario_load_buffer(&s, path, text, strlen(text), &err) != 0)
            fail_msg("scenario: %s", text);
        rep = calloc(1, sizeof(*rep));
        assert_non_null(rep);
        if (xsim_run(&s, &opt, rep, NULL, NULL) != 0 || !rep->all_pass || (int)rep->nwl < n)
            fail_msg("the run failed: %.200s\n%s", rep->failure, text);
        xsim_scenario_free(&s);
        for (int i = 0; i < n; i++) {
            const struct xsim_wl_result *wl = &rep->wl[i];
            if (wl->sojourn_ns_mean_ci95 < 0 ||
                wl->sojourn_ns_mean_ci95 > CI_TARGET * wl->sojourn.mean)
                ok = false;
        }
        /* The sanitizer builds' reduced grid: one short run, a wider
         * tolerance (in the callers). */
        if (ok || *seconds >= MAX_TIME_S || fast())
            return rep;
        xsim_report_free(rep);
        free(rep);
        *seconds *= 2;
    }
}

static void test_irq_two_services(void **state)
{
    (void)state;
    header();
    for (size_t c = 0; c < (fast() ? 1u : sizeof(polling_cases) / sizeof(polling_cases[0])); c++) {
        const struct polling_case *pc = &polling_cases[c];
        double lam_ns[2] = {pc->lambda[0] * 1e-9, pc->lambda[1] * 1e-9};
        double w[2], rho = lam_ns[0] * pc->b[0] + lam_ns[1] * pc->b[1];
        double seconds = fast() ? 2.0 : 8.0;
        double tol = fast() ? 0.10 : MEAN_TOL;
        struct xsim_report *rep;

        polling2_waits(lam_ns, pc->b, pc->r, w);
        /* The conservation law, from the closed form's own numbers. */
        double w0 = (lam_ns[0] * 2 * pc->b[0] * pc->r[0] + lam_ns[1] * 2 * pc->b[1] * pc->r[1]) / 2;
        assert_true(fabs(lam_ns[0] * pc->b[0] * w[0] + lam_ns[1] * pc->b[1] * w[1] -
                         rho * w0 / (1 - rho)) < 1e-6 * w0);
        rep = run_ports(pc->abi, 2, pc->lambda, pc->spec, &seconds);
        for (int i = 0; i < 2; i++) {
            const struct xsim_wl_result *wl = &rep->wl[i];
            char what[64];
            snprintf(what, sizeof(what), "IRQ, 2 ports%s: %s, wait",
                     strcmp(pc->abi, "2l") == 0 ? " (2-level)" : "", pc->spec[i]);
            row(what, rho, "mean", w[i], wl->wait.mean, wl->sojourn_ns_mean_ci95, seconds);
            /* Judged by the sojourn's interval: the sojourn adds the
             * item's service, which lengthens the waits after it rather
             * than shortening them, so its interval is the wider. */
            if (!fast() && wl->sojourn_ns_mean_ci95 > CI_TARGET * wl->sojourn.mean)
                fail_msg("case %zu port %d: CI above the target after %.0f s", c, i, seconds);
            if (fabs(wl->wait.mean - w[i]) > tol * w[i])
                fail_msg("case %zu port %d (%s): mean wait %.1f ns, closed form %.1f ns", c, i,
                         pc->spec[i], wl->wait.mean, w[i]);
        }
        xsim_report_free(rep);
        free(rep);
    }
}

/*
 * Three ports of different service on CPU 0. With more than two ports the
 * two ABIs serve them in different orders (2-level: cyclic, resuming after
 * the last port served; FIFO: in the order the ports became pending), and
 * the ports' waits differ between them, but both are work-conserving and
 * non-preemptive and neither looks at service times, so both keep
 * Kleinrock's conservation law: sum rho_i W_i = rho / (1 - rho) *
 * sum lambda_i E[S_i^2] / 2.
 */
static void test_irq_conservation_law(void **state)
{
    static const double lambda[3] = {60e3, 20e3, 100e3};
    static const char *const spec[3] = {"exp:4us", "fixed:12us", "exp:1us"};
    static const double b[3] = {4000, 12000, 1000},
                        es2[3] = {2.0 * 4000 * 4000, 12000.0 * 12000, 2.0 * 1000 * 1000};
    static const char *const abis[2] = {"2l", "fifo"};
    double rho = 0, w0 = 0;

    (void)state;
    for (int i = 0; i < 3; i++) {
        rho += lambda[i] * 1e-9 * b[i];
        w0 += lambda[i] * 1e-9 * es2[i] / 2;
    }
    double closed = rho * w0 / (1 - rho);
    header();
    for (int a = 0; a < (fast() ? 1 : 2); a++) {
        double seconds = fast() ? 2.0 : 8.0, sum = 0, ci = 0;
        struct xsim_report *rep = run_ports(abis[a], 3, lambda, spec, &seconds);
        char what[64];

        for (int i = 0; i < 3; i++) {
            double rho_i = lambda[i] * 1e-9 * b[i];
            sum += rho_i * rep->wl[i].wait.mean;
            ci += rho_i * rep->wl[i].sojourn_ns_mean_ci95;
            print_message("  %s port %d (%s): mean wait %.2f us\n", abis[a], i, spec[i],
                          rep->wl[i].wait.mean / 1000);
        }
        snprintf(what, sizeof(what), "IRQ, 3 ports, %s: sum rho W", abis[a]);
        row(what, rho, "mean", closed, sum, ci, seconds);
        if (fabs(sum - closed) > (fast() ? 0.10 : MEAN_TOL) * closed)
            fail_msg("%s: sum of rho_i W_i %.1f ns, the conservation law %.1f ns", abis[a], sum,
                     closed);
        xsim_report_free(rep);
        free(rep);
    }
}

/* The closed form used for M/D/1 percentiles is right: its mean (the
 * integral of the tail) is the Pollaczek-Khinchine mean wait. */
static void test_md1_formula(void **state)
{
    (void)state;
    /* Up to rho 0.7 the tail beyond 40 D is negligible and the sum is
     * still well conditioned there. */
    for (double rho = 0.3; rho < 0.75; rho += 0.2) {
        long double mean = 0, h = 0.002;
        for (long double t = 0; t < 40; t += h)
            mean += (1 - md1_wait_cdf(rho, t + h / 2)) * h;
        double pk = rho / (2 * (1 - rho));
        assert_true(fabsl(mean - pk) < 1e-3 * pk);
    }
    /* P(W = 0) = 1 - rho. */
    assert_true(fabsl(md1_wait_cdf(0.7L, 0) - 0.3L) < 1e-12L);
}

/* With a real profile, an event that finds its CPU idle waits exactly the
 * sum of named costs, and the report shows which. */
static void test_zero_load_decomposition(void **state)
{
    struct xsim_cost_profile cp;
    struct xsim_scenario s;
    struct xsim_error err;
    struct xsim_report *rep = calloc(1, sizeof(*rep));
    const char *text = "{\"name\": \"idle\", \"machine\": {\"vcpus\": 2}, \"workloads\": "
                       "[{\"name\": \"p0\", \"rate\": \"1k/s\", \"distribution\": \"poisson\", "
                       "\"service\": \"fixed:2us\", \"vcpu\": 1}], \"stop\": {\"time\": \"200ms\"}}";
    double sum = 0;

    (void)state;
    assert_non_null(rep);
    xsim_cost_profile_default(&cp);
    assert_int_equal(xsim_scenario_load_buffer(&s, "idle.json", text, strlen(text), &err), 0);
    assert_int_equal(xsim_run(&s, NULL, rep, NULL, NULL), 0);
    assert_true(rep->all_pass);
    const struct xsim_wl_result *w = &rep->wl[0];
    /* At 1k/s of 2 us nearly every send finds CPU 1 idle. */
    assert_true(w->idle_n > w->sent * 9 / 10);
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++)
        sum += w->idle_ns_mean[r];
    assert_true(fabs(sum - w->idle_wait_mean) < 1e-6);
    assert_true(w->idle_wait_mean > 0);
    assert_true(fabs(w->idle_ns_mean[XSIM_COST_WAKE] - (double)cp.ns[XSIM_COST_WAKE]) < 1e-6);
    assert_true(fabs(w->idle_ns_mean[XSIM_COST_INJECT] - (double)cp.ns[XSIM_COST_INJECT]) < 1e-6);
    /* Nothing of the handler's own work is in the wait of an idle arrival. */
    assert_true(w->idle_ns_mean[XSIM_COST_HANDLER] == 0);
    printf("zero-load wait %.0f ns:", w->idle_wait_mean);
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        if (w->idle_ns_mean[r] > 0)
            printf(" %s %.0f", xsim_cost_reason_name((enum xsim_cost_reason)r),
                   w->idle_ns_mean[r]);
    }
    printf("\n");
    xsim_report_free(rep);
    xsim_scenario_free(&s);
    free(rep);
}

/* A run of 2 ms or less still drains: event sources stop sending at half
 * the time limit, so `time` ends with every item served (they used to send
 * up to the limit, and no_lost_events failed with an item in flight). */
static void test_short_runs_drain(void **state)
{
    static const char *const stops[] = {"100us", "500us", "1ms", "1500us", "2ms"};

    (void)state;
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        struct ran r;
        char text[1024];
        snprintf(text, sizeof(text),
                 "{\"name\": \"short\", \"machine\": {\"vcpus\": 2}, \"workloads\": ["
                 "{\"name\": \"a\", \"rate\": \"200k/s\", \"distribution\": \"poisson\", "
                 "\"handler_work\": \"2us\"},"
                 "{\"name\": \"b\", \"rate\": \"100k/s\", \"distribution\": \"burst\", "
                 "\"burst\": 4, \"handler_work\": \"3us\"}], "
                 "\"stop\": {\"time\": \"%s\"}, \"oracles\": {\"no_lost_events\": true}}",
                 stops[i]);
        ran_text(&r, "short.json", text);
        for (size_t k = 0; k < r.rep->nwl; k++) {
            assert_true(r.rep->wl[k].sent > 0);
            assert_int_equal(r.rep->wl[k].consumed, r.rep->wl[k].sent);
        }
        assert_true(r.rep->all_pass);
        ran_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md1_formula),
        cmocka_unit_test(test_zero_load_decomposition),
        cmocka_unit_test(test_mm1),
        cmocka_unit_test(test_short_runs_drain),
        cmocka_unit_test(test_md1),
        cmocka_unit_test(test_dm1),
        cmocka_unit_test(test_mm1_scale),
        cmocka_unit_test(test_law_item_in_service_at_stop),
        cmocka_unit_test(test_mg1),
        cmocka_unit_test(test_irq_vs_vector),
        cmocka_unit_test(test_irq_two_services),
        cmocka_unit_test(test_irq_conservation_law),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
