/*
 * cmd_explore.c - `xensim explore`: many schedules of one scenario, in
 * parallel worker processes; the first failure is written as a replay file.
 *
 * Schedule i (1-based) runs with seed = scenario seed + i - 1. --shard K/N
 * keeps the schedules with (i - 1) % N == K - 1, so N machines (GNU
 * parallel, Slurm arrays, Kubernetes indexed Jobs) split one exploration
 * without talking to each other. dfs:B enumerates instead of seeding and
 * runs in one process.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli/commands.h"
#include "xensim/guestprog.h"
#include "xensim/replayfile.h"
#include "xensim/scenario.h"

#include <jansson.h>

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char usage[] =
    "Usage: xensim explore SCENARIO --schedules N [--policy P] [--seed S] [--jobs J]\n"
    "                      [--shard K/N] [--out DIR] [--json] [--keep-going]\n"
    "                      [--guest PROGRAM.so]\n"
    "Run N schedules (seeds S .. S+N-1; S defaults to the scenario's seed) under policy P\n"
    "(default: the scenario's; random, pct:D[:K], dfs:B, ...; add +time, as in\n"
    "pct:3+time, so that devices and timers keep pace with the vCPUs - what scenarios\n"
    "with block I/O, timers or migrations need). On the first failure,\n"
    "write DIR/<scenario>-seed<S>.replay.json and print the command that replays it.\n"
    "  --jobs J     worker processes (default: one per online CPU, at most 256);\n"
    "               the outcome is the same for any J\n"
    "  --seed S     the first schedule's seed\n"
    "  --shard K/N  run only this machine's share: schedules with (i-1) % N == K-1\n"
    "               (seeded policies; dfs enumerates one space in one process)\n"
    "  --out DIR    where replay files go (default .)\n"
    "  --json       print the outcome as one JSON object on standard output\n"
    "  --keep-going run every schedule instead of stopping at the first failure,\n"
    "               and count the failures (a policy's detection rate); the replay\n"
    "               file is the first failing schedule's\n"
    "  --guest PROGRAM.so\n"
    "               explore this guest program (xensim/guestprog.h) instead of\n"
    "               xensim's own\n"
    "  --backend B  thread or fiber (default: the scenario's, else fiber where\n"
    "               available); schedules and digests are the same on both\n"
    "Exit status: 0 every schedule held, 1 a schedule failed, 2 usage or input error.\n";

struct progress {
    bool tty;
    uint64_t total, done;
    double t0, last;
};

static void show(struct progress *pg, bool final)
{
    double t = now_s(), rate = pg->done / (t - pg->t0 > 1e-9 ? t - pg->t0 : 1e-9);

    if (pg->tty) {
        int width = 30, fill = pg->total ? (int)(width * pg->done / pg->total) : width;
        fprintf(stderr, "\r[%.*s%*s] %" PRIu64 "/%" PRIu64 " schedules, %.0f schedules/s", fill,
                "##############################", width - fill, "", pg->done, pg->total, rate);
        if (final)
            fputc('\n', stderr);
    } else if (final || t - pg->last >= 5.0) {
        fprintf(stderr, "explore: %" PRIu64 "/%" PRIu64 " schedules, %.0f schedules/s\n", pg->done,
                pg->total, rate);
        pg->last = t;
    }
}

/* The --guest program (NULL: xensim's own) and the path it came from. */
static const struct xsim_guest_program *guest;
static const char *guest_path;
/* --backend: XSIM_BACKEND_AUTO = the scenario's. */
static int explore_backend;

/* One schedule: 0 held, 1 failed, <0 could not run. */
static int one(const struct xsim_scenario *s, struct xsim_policy *pol, uint64_t seed)
{
    struct xsim_run_options ro = {
        .seed = seed, .seed_set = true, .policy = pol, .guest = guest, .backend = explore_backend};
    struct xsim_report rep;
    int rc = xsim_run(s, &ro, &rep, NULL, NULL);

    if (rc != 0)
        return rc;
    rc = rep.all_pass ? 0 : 1;
    xsim_report_free(&rep);
    return rc;
}

/* What the exploration came to, for the closing line or --json. */
struct outcome {
    bool json;
    uint64_t first_seed; /* the first schedule's seed */
    uint64_t failed_seed;
    bool failed, error, whole_space;
    bool keep_going;
    uint64_t failures; /* failing schedules (all of them under --keep-going) */
    uint64_t jobs;     /* worker processes (dfs: 1) */
    char replay[1024]; /* the replay file written, or "" */
    char oracles[512]; /* the failing oracles */
};

/* A scenario name as one file-name component: anything but letters,
 * digits, '-', '_' and '.' becomes '_', and it never starts with '.', so
 * the replay file lands in --out whatever the scenario calls itself. */
static void file_component(const char *name, char *buf, size_t size)
{
    size_t n = 0;

    for (const char *c = name; *c != '\0' && n + 1 < size; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || (*c == '.' && n > 0);
        buf[n++] = ok ? *c : '_';
    }
    if (n == 0 && size > 1)
        buf[n++] = '_';
    buf[n] = '\0';
}

static int write_replay(const struct xsim_scenario *s, const char *spec, uint64_t seed,
                        const char *dir, struct xsim_policy *dfs_pol, struct outcome *oc)
{
    struct xsim_run_options ro = {
        .seed = seed, .seed_set = true, .guest = guest, .backend = explore_backend};
    struct xsim_report rep;
    struct xsim_error err;
    char path[1024], ebuf[1024], qpath[1100], qguest[1100], name[128];
    FILE *say = oc->json ? stderr : stdout;

    /* Re-run the failing schedule here to record its choice list (a dfs
     * policy object is positioned on the failing schedule already). */
    ro.policy = dfs_pol;
    if (ro.policy == NULL) {
        ro.policy = xsim_policy_create(spec, &err);
        if (ro.policy == NULL)
            return -EINVAL;
    }
    if (xsim_run(s, &ro, &rep, NULL, NULL) != 0) {
        if (dfs_pol == NULL)
            xsim_policy_destroy(ro.policy);
        return -EIO;
    }
    file_component(s->name, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s-seed%" PRIu64 ".replay.json", dir, name, seed);
    for (size_t i = 0; i < rep.noracles; i++) {
        size_t len = strlen(oc->oracles);
        if (!rep.oracles[i].pass)
            snprintf(oc->oracles + len, sizeof(oc->oracles) - len, "%s%s", len ? "," : "",
                     rep.oracles[i].name);
    }
    if (xsim_replay_write(path, s, &rep, &rep.choices, &err) != 0) {
        fprintf(stderr, "xensim explore: %s\n", xsim_error_format(&err, ebuf, sizeof(ebuf)));
    } else {
        snprintf(oc->replay, sizeof(oc->replay), "%s", path);
        fprintf(stderr, "xensim explore: schedule with seed %" PRIu64 " failed:", seed);
        for (size_t i = 0; i < rep.noracles; i++) {
            if (!rep.oracles[i].pass)
                fprintf(stderr, " %s (%s)", rep.oracles[i].name, rep.oracles[i].detail);
        }
        fprintf(stderr, "\n");
        const char *g = guest_path != NULL ? " --guest " : "";
        const char *gp =
            guest_path != NULL ? xsim_cli_shell_word(guest_path, qguest, sizeof(qguest)) : "";
        xsim_cli_shell_word(path, qpath, sizeof(qpath));
        fprintf(say, "replay it with: xensim replay %s%s%s\n", qpath, g, gp);
        fprintf(say, "shrink it with: xensim shrink %s%s%s\n", qpath, g, gp);
    }
    xsim_report_free(&rep);
    if (dfs_pol == NULL)
        xsim_policy_destroy(ro.policy);
    return 0;
}

static int explore_dfs(const struct xsim_scenario *s, const char *spec, uint64_t n, const char *dir,
                       struct progress *pg, struct outcome *oc)
{
    struct xsim_error err;
    struct xsim_policy *pol = xsim_policy_create(spec, &err);
    int rc = 0;

    if (pol == NULL) {
        fprintf(stderr, "xensim explore: %s\n", err.text);
        return 2;
    }
    xsim_world_session_begin();
    do {
        int r = one(s, pol, oc->first_seed);
        pg->done++;
        show(pg, false);
        if (r < 0) {
            show(pg, true);
            oc->error = true;
            rc = 2;
            break;
        }
        if (r != 0) {
            oc->failures++;
            if (!oc->failed) {
                if (!oc->keep_going)
                    show(pg, true);
                /* Re-running a dfs policy would advance it: rebuild the
                 * same schedule from the recorded position instead. */
                oc->failed = true;
                oc->failed_seed = oc->first_seed;
                write_replay(s, spec, oc->first_seed, dir, pol, oc);
            }
            rc = 1;
            if (!oc->keep_going)
                break;
        }
    } while (pg->done < n && xsim_policy_dfs_next(pol));
    xsim_world_session_end();
    if (rc == 0 || (rc == 1 && oc->keep_going)) {
        show(pg, true);
        oc->whole_space = pg->done < n;
    }
    xsim_policy_destroy(pol);
    return rc;
}

/* A count option: digits only (no sign, no wrap), min..max. */
static int parse_count(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *v)
{
    char *end;

    errno = 0;
    if (arg[0] < '0' || arg[0] > '9' || (*v = strtoull(arg, &end, 10), errno != 0) ||
        *end != '\0' || *v < min || *v > max) {
        fprintf(stderr, "xensim explore: %s wants a number %" PRIu64 "..%" PRIu64 ", got '%s'\n",
                opt, min, max, arg);
        return -1;
    }
    return 0;
}

static void print_outcome(const struct xsim_scenario *s, const char *spec, uint64_t shard_k,
                          uint64_t shard_n, const struct progress *pg, const struct outcome *oc)
{
    double secs = now_s() - pg->t0;

    if (!oc->json) {
        if (!oc->failed && !oc->error)
            printf("explore: %" PRIu64 " schedules under %s (shard %" PRIu64 "/%" PRIu64
                   ")%s, every oracle held\n",
                   pg->done, spec, shard_k, shard_n,
                   oc->whole_space ? " (the whole bounded space)" : "");
        else if (oc->keep_going && !oc->error)
            printf("explore: %" PRIu64 " of %" PRIu64 " schedules under %s (shard %" PRIu64
                   "/%" PRIu64 ")%s failed; the first: seed %" PRIu64 "\n",
                   oc->failures, pg->done, spec, shard_k, shard_n,
                   oc->whole_space ? " (the whole bounded space)" : "", oc->failed_seed);
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:f, s:f, s:b}", "scenario",
                          s->name, "policy", spec, "first_seed", (json_int_t)oc->first_seed,
                          "schedules", (json_int_t)pg->done, "shard",
                          "", "shard_k", (json_int_t)shard_k, "shard_n", (json_int_t)shard_n,
                          "seconds", secs, "schedules_per_s", secs > 0 ? pg->done / secs : 0.0,
                          "whole_space", oc->whole_space);
    if (o == NULL)
        return;
    json_object_del(o, "shard");
    json_object_set_new(o, "result",
                        json_string(oc->error ? "error" : oc->failed ? "failed" : "held"));
    json_object_set_new(o, "failed_seed",
                        oc->failed ? json_integer((json_int_t)oc->failed_seed) : json_null());
    json_object_set_new(o, "failed_oracles", oc->failed ? json_string(oc->oracles) : json_null());
    json_object_set_new(o, "replay", oc->replay[0] ? json_string(oc->replay) : json_null());
    json_object_set_new(o, "keep_going", json_boolean(oc->keep_going));
    json_object_set_new(o, "failures", json_integer((json_int_t)oc->failures));
    json_object_set_new(o, "jobs", json_integer((json_int_t)oc->jobs));
    json_dumpf(o, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    json_decref(o);
}

int xsim_cmd_explore(int argc, char **argv)
{
    static const struct option opts[] = {
        {"schedules", required_argument, NULL, 'n'},
        {"policy", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},
        {"shard", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'J'},
        {"keep-going", no_argument, NULL, 'k'},
        {"guest", required_argument, NULL, 'g'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct xsim_scenario s;
    struct xsim_error err;
    const char *spec = NULL, *dir = ".";
    uint64_t n = 0, jobs = 0, shard_k = 1, shard_n = 1, start_seed = 0;
    bool seed_set = false;
    struct outcome oc = {0};
    char ebuf[1024];
    struct progress pg = {0};
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (parse_count("--schedules", optarg, 1, UINT64_MAX / 2, &n) != 0)
                return 2;
            break;
        case 'p':
            spec = optarg;
            break;
        case 'j':
            if (parse_count("--jobs", optarg, 1, 256, &jobs) != 0)
                return 2;
            break;
        case 's':
            if (sscanf(optarg, "%" SCNu64 "/%" SCNu64, &shard_k, &shard_n) != 2 || shard_n == 0 ||
                shard_k == 0 || shard_k > shard_n || optarg[0] == '-' || strchr(optarg, '-')) {
                fprintf(stderr, "xensim explore: --shard wants K/N with 1 <= K <= N\n");
                return 2;
            }
            break;
        case 'o':
            dir = optarg;
            break;
        case 'S':
            if (parse_count("--seed", optarg, 0, UINT64_MAX / 2, &start_seed) != 0)
                return 2;
            seed_set = true;
            break;
        case 'J':
            oc.json = true;
            break;
        case 'k':
            oc.keep_going = true;
            break;
        case 'g':
            guest_path = optarg;
            break;
        case 'b':
            if (!xsim_cli_backend("explore", optarg, &explore_backend))
                return 2;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || n == 0) {
        fputs(usage, stderr);
        return 2;
    }
    if (xsim_scenario_load_file(&s, argv[optind], &err) != 0) {
        fprintf(stderr, "xensim: %s\n", xsim_error_format(&err, ebuf, sizeof(ebuf)));
        return 2;
    }
    oc.first_seed = seed_set ? start_seed : s.seed;
    void *guest_handle = NULL;
    if (xsim_cli_guest_open("explore", guest_path, &guest, &guest_handle) != 0) {
        xsim_scenario_free(&s);
        return 2;
    }
    char why[512];
    if (xsim_guest_program_accepts(guest != NULL ? guest : &xsim_builtin_guest_program, &s, why,
                                   sizeof(why)) != 0) {
        fprintf(stderr, "xensim explore: %s\n", why);
        xsim_guest_program_close(guest_handle);
        xsim_scenario_free(&s);
        return 2;
    }
    char gated[96];
    spec = xsim_scenario_policy_spec(&s, spec != NULL ? spec : s.policy, gated, sizeof(gated));
    struct xsim_policy *check = xsim_policy_create(spec, &err);
    if (check == NULL || strncmp(spec, "replay", 6) == 0 || strncmp(spec, "bytes", 5) == 0) {
        fprintf(stderr, "xensim explore: %s\n",
                check == NULL
                    ? err.text
                    : "explore needs time, random, pct:D[:K] or dfs:B (optionally +time)");
        xsim_policy_destroy(check);
        xsim_scenario_free(&s);
        return 2;
    }
    xsim_policy_destroy(check);
    if (strncmp(spec, "dfs:", 4) == 0 && shard_n != 1) {
        fprintf(stderr, "xensim explore: --shard splits seeded policies; %s enumerates one bounded "
                        "space in one process\n",
                spec);
        xsim_scenario_free(&s);
        return 2;
    }
    mkdir(dir, 0777);
    pg.tty = isatty(2);
    pg.t0 = pg.last = now_s();
    if (strncmp(spec, "dfs:", 4) == 0) {
        pg.total = n;
        oc.jobs = 1;
        int rc = explore_dfs(&s, spec, n, dir, &pg, &oc);
        print_outcome(&s, spec, shard_k, shard_n, &pg, &oc);
        xsim_scenario_free(&s);
        return rc;
    }
    /* The schedules of this shard: i = shard_k, shard_k + shard_n, ... */
    pg.total = n >= shard_k ? (n - shard_k) / shard_n + 1 : 0;
    if (jobs == 0) {
        /* A worker per online CPU, no more than there are schedules. */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus < 1 ? 1 : cpus > 256 ? 256 : (uint64_t)cpus;
        if (jobs > pg.total)
            jobs = pg.total > 0 ? pg.total : 1;
    }
    oc.jobs = jobs;
    int fds[256][2];
    pid_t pids[256];
    fflush(stdout);
    fflush(stderr);
    for (uint64_t j = 0; j < jobs; j++) {
        if (pipe(fds[j]) != 0) {
            perror("xensim explore: pipe");
            return 2;
        }
        pids[j] = fork();
        if (pids[j] < 0) {
            perror("xensim explore: fork");
            return 2;
        }
        if (pids[j] == 0) {
            /* Worker j: every jobs-th schedule of the shard. */
#ifdef __GLIBC__
            /* Each schedule frees what the last one allocated; without
             * this, glibc hands the heap's top back to the kernel and the
             * next schedule faults it in again, cleared (~7% of an I/O
             * scenario's schedule). The memory kept is the worker's peak. */
            (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
            (void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
            (void)mallopt(M_TOP_PAD, 16 << 20);
#endif
            struct xsim_policy *pol = xsim_policy_create(spec, &err);
            xsim_world_session_begin();
            FILE *w = fdopen(fds[j][1], "w");
            for (uint64_t k = 0; k <= j; k++)
                close(fds[k][0]);
            uint64_t idx = 0;
            double flushed = now_s();
            for (uint64_t i = shard_k; i <= n; i += shard_n, idx++) {
                if (idx % jobs != j)
                    continue;
                int r = one(&s, pol, oc.first_seed + i - 1);
                fprintf(w, "%" PRIu64 " %d\n", oc.first_seed + i - 1, r);
                /* A result line per schedule, sent in batches: a write and
                 * a wake-up of the parent per schedule would cost a short
                 * scenario a good part of its time. A failure goes at once,
                 * so that the other workers are stopped early. */
                if (r != 0 || now_s() - flushed >= 0.05) {
                    fflush(w);
                    flushed = now_s();
                }
                if (r < 0 || (r != 0 && !oc.keep_going))
                    break;
            }
            xsim_world_session_end();
            fclose(w);
            xsim_policy_destroy(pol);
            xsim_scenario_free(&s);
            _exit(0);
        }
        close(fds[j][1]);
    }
    /* Collect results as they come from any worker. Each worker runs its
     * seeds in increasing order and stops at its first failure; the
     * lowest failing seed is reported, so the answer does not depend on
     * --jobs or on host timing. A worker is stopped as soon as its next
     * seed would be above the lowest failure found. Under --keep-going
     * every schedule runs and each failure is counted; a schedule that
     * could not run still ends the exploration (the lowest such seed is
     * reported). */
    uint64_t failed_seed = UINT64_MAX, error_seed = UINT64_MAX;
    bool error = false;
    struct pollfd pfd[256];
    char lines[256][128];
    size_t fill[256] = {0};
    unsigned int open_fds = (unsigned int)jobs;
    for (uint64_t j = 0; j < jobs; j++) {
        pfd[j].fd = fds[j][0];
        pfd[j].events = POLLIN;
    }
    while (open_fds > 0) {
        if (poll(pfd, (nfds_t)jobs, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (uint64_t j = 0; j < jobs; j++) {
            if (pfd[j].fd < 0 || !(pfd[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = read(pfd[j].fd, lines[j] + fill[j], sizeof(lines[j]) - 1 - fill[j]);
            bool stop = got <= 0;
            if (got > 0) {
                fill[j] += (size_t)got;
                lines[j][fill[j]] = '\0';
            }
            char *nl;
            while (got > 0 && (nl = strchr(lines[j], '\n')) != NULL) {
                uint64_t seed;
                int res;
                *nl = '\0';
                if (sscanf(lines[j], "%" SCNu64 " %d", &seed, &res) == 2) {
                    pg.done++;
                    show(&pg, false);
                    if (oc.keep_going) {
                        if (res > 0) {
                            oc.failures++;
                            failed_seed = seed < failed_seed ? seed : failed_seed;
                        } else if (res < 0) {
                            error_seed = seed < error_seed ? seed : error_seed;
                            stop = true;
                        }
                    } else {
                        if (res != 0 && seed < failed_seed) {
                            failed_seed = seed;
                            error = res < 0;
                        }
                        if (seed >= failed_seed)
                            stop = true;
                    }
                }
                size_t rest = fill[j] - (size_t)(nl + 1 - lines[j]);
                memmove(lines[j], nl + 1, rest + 1);
                fill[j] = rest;
            }
            if (stop) {
                kill(pids[j], SIGTERM);
                close(pfd[j].fd);
                pfd[j].fd = -1;
                open_fds--;
            }
        }
    }
    if (error_seed != UINT64_MAX) {
        error = true;
        failed_seed = error_seed;
    }
    bool failed = failed_seed != UINT64_MAX && !error;
    if (failed && !oc.keep_going)
        oc.failures = 1;
    for (uint64_t j = 0; j < jobs; j++)
        waitpid(pids[j], NULL, 0);
    show(&pg, true);
    int rc = 0;
    if (error) {
        fprintf(stderr, "xensim explore: seed %" PRIu64 " could not run\n", failed_seed);
        oc.error = true;
        rc = 2;
    } else if (failed) {
        oc.failed = true;
        oc.failed_seed = failed_seed;
        write_replay(&s, spec, failed_seed, dir, NULL, &oc);
        rc = 1;
    }
    print_outcome(&s, spec, shard_k, shard_n, &pg, &oc);
    xsim_scenario_free(&s);
    return rc;
}
