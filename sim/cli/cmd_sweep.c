/*
 * cmd_sweep.c - `xensim sweep`: one scenario run over a grid of parameter
 * values (the cartesian product of every --vary) times K seeds, in worker
 * processes; every point is checked before anything runs, and the results
 * land in one table per run and one summary per point (sweep_results.c)
 * with plots (sweep_plot.c).
 *
 * Workers are forked once and fed one task at a time over a pipe; each
 * answers with the run's JSON report on one line. Rows are stored by task,
 * so what is written does not depend on --jobs or on which worker was
 * faster. A worker that dies takes only its current run with it (recorded
 * as an error row); another is forked in its place.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/sweep.h"
#include "xensim/scenario.h"

#define MAX_SETS  256
#define MAX_VARY  16
#define MAX_JOBS  256
#define MAX_TASKS 100000u

static const char usage[] =
    "Usage: xensim sweep SCENARIO --vary PATH=V1,V2,... [--vary PATH=A..B:N]...\n"
    "                    [--set PATH=VALUE]... [--seeds K] [--seed S] [--policy P]\n"
    "                    [--jobs J] --out DIR\n"
    "Run SCENARIO at every point of a grid - the cartesian product of the --vary\n"
    "values, the last --vary varying fastest - with K seeds each, and write a table\n"
    "of the runs, a summary per point and plots.\n"
    "  --vary PATH=V1,V2,...  the values PATH takes (a JSON path as in --set; each\n"
    "                         value parsed as a --set VALUE; commas inside [], {}\n"
    "                         or \"\" do not split)\n"
    "  --vary PATH=A..B:N     N >= 2 evenly spaced values from A to B inclusive; A\n"
    "                         and B are numbers, durations (1ms..10ms:4, in ns) or\n"
    "                         rates (20k/s..200k/s:10, per second)\n"
    "  --set PATH=VALUE       change one value for every point (as in xensim run;\n"
    "                         a --vary of the same PATH wins)\n"
    "  --seeds K              seeds per point (default 1): S .. S+K-1\n"
    "  --seed S               the first seed (default: the scenario's)\n"
    "  --policy P             schedule policy of every run (default: the scenario's)\n"
    "  --jobs J               worker processes (default: the online CPUs)\n"
    "  --out DIR              where results go (created if missing):\n"
    "      results.csv   one row per run: point, each PATH, seed, digest, pass,\n"
    "                    oracle:<name> (1/0), <workload>:<metric>, cpu<k>:utilization,\n"
    "                    exits_per_s:<reason>, error (the run could not be set up)\n"
    "      results.json  the same rows, and per point the mean and the 95% confidence\n"
    "                    half-width (Student t) of every metric across its seeds\n"
    "      points.dat, plot.gp  the per-point data and a gnuplot script; with gnuplot\n"
    "                    on PATH, sojourn.png/.svg, exits.png/.svg, cpu.png/.svg\n"
    "The x axis of the plots is the last --vary whose values are numbers, durations\n"
    "or rates (else the last --vary); each workload, exit reason or vCPU is a line,\n"
    "for every combination of the other --vary values.\n"
    "Every point's scenario is loaded before anything runs: an invalid point is a\n"
    "usage error naming the point. A run whose oracles fail is a row with pass 0.\n"
    "Exit status: 0 the grid ran (whatever the oracles said), 2 usage or input error.\n"
    "Reference: docs/sweep.md.\n";

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- progress ---- */

struct progress {
    bool tty;
    size_t total, done;
    double t0, last;
};

static void show(struct progress *pg, bool final)
{
    double t = now_s(), rate = (double)pg->done / (t - pg->t0 > 1e-9 ? t - pg->t0 : 1e-9);

    if (pg->tty) {
        int width = 30, fill = pg->total ? (int)(width * pg->done / pg->total) : width;
        fprintf(stderr, "\r[%.*s%*s] %zu/%zu runs, %.1f runs/s", fill,
                "##############################", width - fill, "", pg->done, pg->total, rate);
        if (final)
            fputc('\n', stderr);
    } else if (final || t - pg->last >= 5.0) {
        fprintf(stderr, "sweep: %zu/%zu runs, %.1f runs/s\n", pg->done, pg->total, rate);
        pg->last = t;
    }
}

/* ---- the grid ---- */

/* "guest.callback=pci-intx, workloads[0].rate=20000" for messages. */
static const char *point_label(const struct xsim_sweep *sw, size_t p, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t k = 0; k < sw->nvary && len + 1 < size; k++) {
        const struct xsim_vary *v = &sw->vary[k];
        struct xsim_override o = {
            .path = v->path, .value = json_array_get(v->values, xsim_sweep_value_index(sw, p, k))};
        char one[128];
        int n = snprintf(buf + len, size - len, "%s%s", k ? ", " : "",
                         xsim_override_format(&o, one, sizeof(one)));
        len = n < 0 ? len : len + (size_t)n;
    }
    return buf;
}

/* Load point p's scenario: the --set overrides, then its --vary values. */
static int load_point(const struct xsim_sweep *sw, size_t p, struct xsim_scenario *s,
                      struct xsim_error *err)
{
    struct xsim_override ov[MAX_SETS + MAX_VARY];
    size_t n = 0;

    /* Borrowed paths and values: nothing here is freed. */
    for (size_t i = 0; i < sw->nsets; i++)
        ov[n++] = sw->sets[i];
    for (size_t k = 0; k < sw->nvary; k++) {
        ov[n].path = sw->vary[k].path;
        ov[n].value = json_array_get(sw->vary[k].values, xsim_sweep_value_index(sw, p, k));
        ov[n++].what = "--vary";
    }
    return xsim_scenario_load_overrides(s, sw->path, sw->text, sw->len, ov, n, err);
}

static bool policy_ok(const char *spec, char *why, size_t size)
{
    struct xsim_error err;
    struct xsim_policy *p = xsim_policy_create(spec, &err);

    if (p == NULL) {
        snprintf(why, size, "%s", err.text);
        return false;
    }
    xsim_policy_destroy(p);
    if (strncmp(spec, "replay", 6) == 0 || strncmp(spec, "bytes", 5) == 0) {
        snprintf(why, size, "policy '%s': a sweep needs time, random, pct:D[:K] or dfs:B", spec);
        return false;
    }
    return true;
}

/* Check every point before anything runs; note each one's first seed. */
static int build_grid(struct xsim_sweep *sw)
{
    char label[512], ebuf[1024], why[512];

    if (sw->policy != NULL && !policy_ok(sw->policy, why, sizeof(why))) {
        fprintf(stderr, "xensim sweep: --policy: %s\n", why);
        return -EINVAL;
    }
    sw->first_seed = calloc(sw->npoints, sizeof(*sw->first_seed));
    if (sw->first_seed == NULL)
        return -ENOMEM;
    for (size_t p = 0; p < sw->npoints; p++) {
        struct xsim_scenario s;
        struct xsim_error err;
        int rc = load_point(sw, p, &s, &err);
        if (rc != 0) {
            fprintf(stderr, "xensim sweep: point %zu (%s): %s\n", p + 1,
                    point_label(sw, p, label, sizeof(label)),
                    xsim_error_format(&err, ebuf, sizeof(ebuf)));
            return rc;
        }
        if (p == 0)
            snprintf(sw->name, sizeof(sw->name), "%s", s.name);
        why[0] = '\0';
        sw->first_seed[p] = sw->seed_set ? sw->seed : s.seed;
        if (!policy_ok(sw->policy != NULL ? sw->policy : s.policy, why, sizeof(why)) ||
            sw->first_seed[p] > UINT64_MAX - (sw->seeds - 1)) {
            fprintf(stderr, "xensim sweep: point %zu (%s): %s\n", p + 1,
                    point_label(sw, p, label, sizeof(label)),
                    why[0] ? why : "the seeds run past 2^64-1");
            xsim_scenario_free(&s);
            return -EINVAL;
        }
        xsim_scenario_free(&s);
    }
    return 0;
}

/* ---- workers ---- */

/* Pin worker j to the j-th CPU this process may use, so that workers do
 * not share a CPU (a world pins its vCPU threads where it starts). */
static void pin_worker(unsigned int j)
{
#ifdef __linux__
    cpu_set_t allowed, one;
    int n = 0;

    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) == 0)
        return;
    int pick = (int)(j % (unsigned int)CPU_COUNT(&allowed));
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &allowed) && n++ == pick) {
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            sched_setaffinity(0, sizeof(one), &one);
            return;
        }
    }
#else
    (void)j;
#endif
}

/* One run in a worker; writes "TASK R <report>\n" or "TASK E <why>\n". */
static void run_task(const struct xsim_sweep *sw, size_t t, FILE *out)
{
    size_t p = t / sw->seeds;
    struct xsim_scenario s;
    struct xsim_error err;
    struct xsim_run_options ro = {
        .seed = sw->first_seed[p] + t % sw->seeds, .seed_set = true, .quiet = true};
    struct xsim_report rep;
    char why[1024] = "", *json = NULL;
    size_t jlen = 0;

    /* Built again here rather than kept from the check: a large grid's
     * texts would cost more memory than building them costs time. */
    if (load_point(sw, p, &s, &err) != 0) {
        xsim_error_format(&err, why, sizeof(why));
    } else {
        char gated[96];
        ro.policy = xsim_policy_create(
            xsim_scenario_policy_spec(&s, sw->policy != NULL ? sw->policy : s.policy, gated,
                                      sizeof(gated)),
            &err);
        if (ro.policy == NULL) {
            snprintf(why, sizeof(why), "%s", err.text);
        } else if (xsim_run(&s, &ro, &rep, NULL, NULL) != 0) {
            snprintf(why, sizeof(why), "%s", rep.failure[0] ? rep.failure : "the run failed");
            xsim_report_free(&rep);
        } else {
            FILE *m = open_memstream(&json, &jlen);
            if (m == NULL || xsim_report_print_json(&rep, m) != 0)
                snprintf(why, sizeof(why), "cannot write the report");
            if (m != NULL)
                fclose(m);
            xsim_report_free(&rep);
        }
        xsim_policy_destroy(ro.policy);
        xsim_scenario_free(&s);
    }
    if (why[0] != '\0') {
        /* One line per answer. */
        for (char *c = why; *c; c++)
            *c = *c == '\n' || *c == '\r' ? ' ' : *c;
        fprintf(out, "%zu E %s\n", t, why);
    } else {
        while (jlen > 0 && json[jlen - 1] == '\n')
            jlen--;
        fprintf(out, "%zu R %.*s\n", t, (int)jlen, json);
    }
    free(json);
    fflush(out);
}

struct worker {
    pid_t pid;
    int cmd, res; /* our ends: tasks out, answers in; -1 when closed */
    char *buf;
    size_t len, cap;
    long task; /* the task it runs, -1: none */
};

static void worker_main(const struct xsim_sweep *sw, int cmd, int res)
{
    FILE *in = fdopen(cmd, "r"), *out = fdopen(res, "w");
    char line[64];

    if (in == NULL || out == NULL)
        _exit(3);
    while (fgets(line, sizeof(line), in) != NULL) {
        size_t t;
        if (sscanf(line, "%zu", &t) == 1 && t < sw->ntasks)
            run_task(sw, t, out);
    }
    fclose(in);
    fclose(out);
}

static int worker_start(const struct xsim_sweep *sw, struct worker *ws, unsigned int j)
{
    int cmd[2], res[2];

    if (pipe(cmd) != 0)
        return -errno;
    if (pipe(res) != 0) {
        int e = -errno;
        close(cmd[0]);
        close(cmd[1]);
        return e;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(cmd[0]);
        close(cmd[1]);
        close(res[0]);
        close(res[1]);
        return e;
    }
    if (pid == 0) {
        /* Only our own pipes stay open, so that every worker sees the end
         * of its task list when the parent closes it. */
        for (unsigned int k = 0; k < sw->jobs; k++) {
            if (ws[k].cmd >= 0)
                close(ws[k].cmd);
            if (ws[k].res >= 0)
                close(ws[k].res);
        }
        close(cmd[1]);
        close(res[0]);
        pin_worker(j);
        worker_main(sw, cmd[0], res[1]);
        _exit(0);
    }
    close(cmd[0]);
    close(res[1]);
    ws[j].pid = pid;
    ws[j].cmd = cmd[1];
    ws[j].res = res[0];
    ws[j].len = 0;
    ws[j].task = -1;
    return 0;
}

/* Give worker j the next task, or tell it there is none left. */
static void worker_feed(struct worker *w, size_t *next, size_t ntasks)
{
    char line[32];

    if (*next < ntasks) {
        int n = snprintf(line, sizeof(line), "%zu\n", *next);
        if (write(w->cmd, line, (size_t)n) == n) {
            w->task = (long)(*next)++;
            return;
        }
    }
    close(w->cmd);
    w->cmd = -1;
}

/* One answer line from a worker. */
static void take_answer(struct xsim_sweep *sw, struct worker *w, char *line, struct progress *pg)
{
    size_t t;
    char kind;
    int off = 0;

    if (sscanf(line, "%zu %c %n", &t, &kind, &off) < 2 || off == 0 || t >= sw->ntasks ||
        sw->rows[t].done)
        return;
    if (kind == 'R') {
        if (xsim_sweep_row_parse(&sw->rows[t], line + off, strlen(line + off)) != 0)
            xsim_sweep_row_fail(&sw->rows[t], "the run's report did not parse");
    } else {
        xsim_sweep_row_fail(&sw->rows[t], line + off);
    }
    if ((long)t == w->task)
        w->task = -1;
    pg->done++;
    show(pg, false);
}

/* Read what worker w wrote; false at its end. */
static bool worker_read(struct xsim_sweep *sw, struct worker *w, struct progress *pg, size_t *next)
{
    char *nl;
    ssize_t got;

    if (w->cap - w->len < 65536) {
        size_t cap = w->cap ? w->cap * 2 : 1 << 20;
        char *b = realloc(w->buf, cap);
        if (b == NULL)
            return false;
        w->buf = b;
        w->cap = cap;
    }
    got = read(w->res, w->buf + w->len, w->cap - w->len - 1);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0)
        return false;
    w->len += (size_t)got;
    w->buf[w->len] = '\0';
    while ((nl = strchr(w->buf, '\n')) != NULL) {
        *nl = '\0';
        take_answer(sw, w, w->buf, pg);
        w->len -= (size_t)(nl + 1 - w->buf);
        memmove(w->buf, nl + 1, w->len + 1);
        if (w->task < 0 && w->cmd >= 0)
            worker_feed(w, next, sw->ntasks);
    }
    return true;
}

/* A worker's answers ended: reap it; its unfinished task is an error row. */
static void worker_end(struct xsim_sweep *sw, struct worker *w, struct progress *pg)
{
    int st = 0;
    char why[128];

    close(w->res);
    w->res = -1;
    if (w->cmd >= 0) {
        close(w->cmd);
        w->cmd = -1;
    }
    waitpid(w->pid, &st, 0);
    w->pid = -1;
    if (w->task >= 0 && !sw->rows[w->task].done) {
        if (WIFSIGNALED(st))
            snprintf(why, sizeof(why), "the worker running it died of signal %d", WTERMSIG(st));
        else
            snprintf(why, sizeof(why), "the worker running it exited with status %d",
                     WEXITSTATUS(st));
        xsim_sweep_row_fail(&sw->rows[w->task], why);
        pg->done++;
        show(pg, false);
    }
    w->task = -1;
}

static int run_all(struct xsim_sweep *sw)
{
    struct worker ws[MAX_JOBS];
    struct pollfd pfd[MAX_JOBS];
    struct progress pg = {.tty = isatty(2), .total = sw->ntasks};
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    size_t next = 0;
    int rc = 0;

    sw->rows = calloc(sw->ntasks, sizeof(*sw->rows));
    if (sw->rows == NULL)
        return -ENOMEM;
    for (unsigned int j = 0; j < sw->jobs; j++)
        ws[j] = (struct worker){.pid = -1, .cmd = -1, .res = -1, .task = -1};
    /* A worker that died must not take us with it when we write to it. */
    sigaction(SIGPIPE, &ign, &old);
    pg.t0 = pg.last = now_s();
    while (pg.done < sw->ntasks && rc == 0) {
        nfds_t n = 0;
        unsigned int idx[MAX_JOBS];
        for (unsigned int j = 0; j < sw->jobs && rc == 0; j++) {
            if (ws[j].res < 0 && next < sw->ntasks) {
                rc = worker_start(sw, ws, j);
                if (rc == 0)
                    worker_feed(&ws[j], &next, sw->ntasks);
            }
            if (ws[j].res >= 0) {
                pfd[n] = (struct pollfd){.fd = ws[j].res, .events = POLLIN};
                idx[n++] = j;
            }
        }
        if (rc != 0 || n == 0)
            break;
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        for (nfds_t i = 0; i < n; i++) {
            struct worker *w = &ws[idx[i]];
            if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) && !worker_read(sw, w, &pg, &next))
                worker_end(sw, w, &pg);
        }
    }
    for (unsigned int j = 0; j < sw->jobs; j++) {
        if (ws[j].cmd >= 0)
            close(ws[j].cmd);
        if (ws[j].res >= 0)
            close(ws[j].res);
        if (ws[j].pid > 0)
            waitpid(ws[j].pid, NULL, 0);
        free(ws[j].buf);
    }
    sigaction(SIGPIPE, &old, NULL);
    show(&pg, true);
    if (rc != 0)
        fprintf(stderr, "xensim sweep: cannot run workers: %s\n", strerror(-rc));
    return rc;
}

/* ---- options ---- */

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

static int default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : (int)n;
}

/* Parse the options into sw; 0, or 2 (usage error, printed), or -1 for
 * --help (printed). */
static int parse_args(struct xsim_sweep *sw, int argc, char **argv)
{
    static const struct option opts[] = {
        {"vary", required_argument, NULL, 'v'},
        {"set", required_argument, NULL, 'S'},
        {"seeds", required_argument, NULL, 'k'},
        {"seed", required_argument, NULL, 's'},
        {"policy", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t u;
    char why[512];
    int c;

    sw->seeds = 1;
    sw->jobs = (unsigned int)default_jobs();
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (sw->nvary == MAX_VARY) {
                fprintf(stderr, "xensim sweep: at most %d --vary options\n", MAX_VARY);
                return 2;
            }
            if (xsim_vary_parse(&sw->vary[sw->nvary], optarg, why, sizeof(why)) != 0) {
                fprintf(stderr, "xensim sweep: --vary: %s\n", why);
                return 2;
            }
            sw->nvary++;
            break;
        case 'S':
            if (sw->nsets == MAX_SETS) {
                fprintf(stderr, "xensim sweep: at most %d --set options\n", MAX_SETS);
                return 2;
            }
            if (xsim_override_parse(&sw->sets[sw->nsets], optarg, why, sizeof(why)) != 0) {
                fprintf(stderr, "xensim sweep: --set: %s\n", why);
                return 2;
            }
            sw->nsets++;
            break;
        case 'k':
            if (parse_u64(optarg, &sw->seeds) != 0 || sw->seeds == 0 || sw->seeds > MAX_TASKS) {
                fprintf(stderr, "xensim sweep: --seeds wants 1..%u, got '%s'\n", MAX_TASKS, optarg);
                return 2;
            }
            break;
        case 's':
            if (parse_u64(optarg, &sw->seed) != 0) {
                fprintf(stderr, "xensim sweep: --seed wants a number, got '%s'\n", optarg);
                return 2;
            }
            sw->seed_set = true;
            break;
        case 'p':
            sw->policy = optarg;
            break;
        case 'j':
            if (parse_u64(optarg, &u) != 0 || u == 0 || u > MAX_JOBS) {
                fprintf(stderr, "xensim sweep: --jobs wants 1..%d, got '%s'\n", MAX_JOBS, optarg);
                return 2;
            }
            sw->jobs = (unsigned int)u;
            break;
        case 'o':
            sw->out = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || sw->nvary == 0 || sw->out == NULL || sw->out[0] == '\0') {
        fprintf(stderr, "xensim sweep: %s\n\n",
                optind != argc - 1 ? "give one SCENARIO"
                : sw->nvary == 0   ? "give at least one --vary"
                                   : "give --out DIR");
        fputs(usage, stderr);
        return 2;
    }
    sw->path = argv[optind];
    return 0;
}

/* The sizes of the grid, checked; the x axis. */
static int check_grid(struct xsim_sweep *sw)
{
    static const char *const fixed[] = {"point", "seed", "digest", "pass", "error"};

    sw->npoints = 1;
    for (size_t k = 0; k < sw->nvary; k++) {
        for (size_t f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++) {
            if (strcmp(sw->vary[k].path, fixed[f]) == 0) {
                fprintf(stderr, "xensim sweep: --vary %s: '%s' is a column of the results%s\n",
                        fixed[f], fixed[f], f == 1 ? "; use --seeds and --seed" : "");
                return 2;
            }
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(sw->vary[j].path, sw->vary[k].path) == 0) {
                fprintf(stderr, "xensim sweep: '%s' is varied twice\n", sw->vary[k].path);
                return 2;
            }
        }
        if (sw->npoints > MAX_TASKS / sw->vary[k].n) {
            fprintf(stderr, "xensim sweep: the grid has more than %u points\n", MAX_TASKS);
            return 2;
        }
        sw->npoints *= sw->vary[k].n;
    }
    if (sw->npoints > MAX_TASKS / sw->seeds) {
        fprintf(stderr, "xensim sweep: more than %u runs (points x seeds)\n", MAX_TASKS);
        return 2;
    }
    sw->ntasks = sw->npoints * sw->seeds;
    if (sw->jobs > sw->ntasks)
        sw->jobs = (unsigned int)sw->ntasks;
    sw->xvary = sw->nvary - 1;
    for (size_t k = sw->nvary; k-- > 0;) {
        if (sw->vary[k].numeric) {
            sw->xvary = k;
            break;
        }
    }
    return 0;
}

static void summary(const struct xsim_sweep *sw, double secs)
{
    size_t pass = 0, fail = 0, errors = 0;

    for (size_t t = 0; t < sw->ntasks; t++) {
        if (sw->rows[t].error != NULL)
            errors++;
        else if (sw->rows[t].pass == 1)
            pass++;
        else
            fail++;
    }
    printf("sweep: %zu points x %" PRIu64 " seed%s = %zu runs in %.1f s: %zu passed, %zu failed "
           "an oracle, %zu could not run\n",
           sw->npoints, sw->seeds, sw->seeds == 1 ? "" : "s", sw->ntasks, secs, pass, fail, errors);
    printf("wrote %s/results.csv and %s/results.json\n", sw->out, sw->out);
}

int xsim_cmd_sweep(int argc, char **argv)
{
    struct xsim_override sets[MAX_SETS];
    struct xsim_vary vary[MAX_VARY];
    struct xsim_sweep sw = {.sets = sets, .vary = vary};
    struct xsim_error err;
    char ebuf[1024];
    double t0 = now_s();
    int rc;

    rc = parse_args(&sw, argc, argv);
    if (rc == 0)
        rc = check_grid(&sw);
    if (rc != 0) {
        xsim_sweep_free(&sw);
        return rc < 0 ? 0 : rc;
    }
    if (xsim_text_read_file(sw.path, &sw.text, &sw.len, &err) != 0) {
        fprintf(stderr, "xensim sweep: %s\n", xsim_error_format(&err, ebuf, sizeof(ebuf)));
        rc = 2;
    } else if (build_grid(&sw) != 0) {
        rc = 2;
    } else if (mkdir(sw.out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "xensim sweep: cannot create %s: %s\n", sw.out, strerror(errno));
        rc = 2;
    } else if (run_all(&sw) != 0 || xsim_sweep_summarise(&sw) != 0 ||
               xsim_sweep_write_csv(&sw) != 0 || xsim_sweep_write_json(&sw) != 0) {
        rc = 2;
    } else {
        summary(&sw, now_s() - t0);
        rc = xsim_sweep_plot(&sw) == 0 ? 0 : 2;
    }
    xsim_sweep_free(&sw);
    return rc;
}
