/*
 * cmd_run.c - `xensim run`, `xensim replay` and `xensim shrink`.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "xensim/scenario_set.h"
#include "xensim/guestprog.h"
#include "xensim/replayfile.h"
#include "xensim/scenario.h"

/* --set options one run takes at most. */
#define MAX_SETS 256

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno != 0 || *end != '\0' ? -EINVAL : 0;
}

/* Load `path`, with the overrides applied when there are any. */
static int load_scenario(struct xsim_scenario *s, const char *path, const struct xsim_override *ov,
                         size_t nov)
{
    struct xsim_error err;
    char buf[1024], *text = NULL;
    size_t len;
    int rc;

    if (nov == 0)
        rc = xsim_scenario_load_file(s, path, &err);
    else if ((rc = xsim_text_read_file(path, &text, &len, &err)) == 0)
        rc = xsim_scenario_load_overrides(s, path, text, len, ov, nov, &err);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "xensim: %s\n", xsim_error_format(&err, buf, sizeof(buf)));
        return -1;
    }
    return 0;
}

static struct xsim_policy *make_policy(const char *spec)
{
    struct xsim_error err;
    struct xsim_policy *p = xsim_policy_create(spec, &err);

    if (p == NULL)
        fprintf(stderr, "xensim: %s\n", err.text);
    return p;
}

static FILE *open_out(const char *path)
{
    FILE *f;

    if (path == NULL)
        return NULL;
    if (strcmp(path, "-") == 0)
        return stdout;
    f = fopen(path, "w");
    if (f == NULL)
        fprintf(stderr, "xensim: cannot write %s: %s\n", path, strerror(errno));
    return f;
}

static void close_out(FILE *f)
{
    if (f != NULL && f != stdout)
        fclose(f);
    else if (f == stdout)
        fflush(stdout);
}

/* Where a run's trace, Chrome trace and log go (`-`: standard output). */
struct outputs {
    bool explain; /* replay --explain: to standard output */
    const char *trace, *chrome, *log;
    FILE *ft, *fc, *fl;
};

/* Open them; with --json on stdout none may be `-` too. 0, or -1 after
 * saying why. */
static int outputs_open(struct outputs *o, const char *cmd, bool json)
{
    const char *names[3] = {o->trace, o->chrome, o->log};
    const char *opts[3] = {"--trace", "--chrome-trace", "--log"};
    FILE **files[3] = {&o->ft, &o->fc, &o->fl};

    for (int i = 0; i < 3; i++) {
        if (names[i] == NULL)
            continue;
        if (json && strcmp(names[i], "-") == 0) {
            fprintf(stderr, "xensim %s: --json prints to standard output; give %s a file\n", cmd,
                    opts[i]);
            return -1;
        }
        if ((*files[i] = open_out(names[i])) == NULL)
            return -1;
    }
    return 0;
}

static void outputs_close(struct outputs *o)
{
    close_out(o->ft);
    close_out(o->fc);
    close_out(o->fl);
    o->ft = o->fc = o->fl = NULL;
}

/* --backend of replay and shrink (run and explore pass theirs in the run
 * options): XSIM_BACKEND_AUTO = the scenario's. */
static enum xsim_backend cli_backend;

/* Parse --backend's value; false (and a message) when it is not one. */
bool xsim_cli_backend(const char *cmd, const char *arg, int *out)
{
    enum xsim_backend b;

    if (xsim_backend_parse(arg, &b) != 0) {
        fprintf(stderr, "xensim %s: --backend wants thread, fiber or auto, got '%s'\n", cmd, arg);
        return false;
    }
    if (b == XSIM_BACKEND_FIBER && !xsim_backend_fiber_available()) {
        fprintf(stderr, "xensim %s: this build has no fiber backend\n", cmd);
        return false;
    }
    *out = (int)b;
    return true;
}

static const char run_usage[] =
    "Usage: xensim run SCENARIO [--seed N] [--policy P] [--set PATH=VALUE]... [--json]\n"
    "                  [--trace FILE] [--chrome-trace FILE] [--guest PROGRAM.so]\n"
    "Run a scenario once and report what the guest detected and chose, events,\n"
    "latencies, exits by reason, oracles and the run's digest.\n"
    "  --seed N            seed of the run (default: the scenario's)\n"
    "  --set PATH=VALUE    change one value of the scenario for this run (repeatable).\n"
    "                      PATH is object keys and [i] indices: guest.callback,\n"
    "                      workloads[0].rate, machine.vcpus, stop.time; missing keys\n"
    "                      are created. VALUE is JSON when it parses as JSON (4, true,\n"
    "                      \"x\", [1,2], {...}), else a string: --set\n"
    "                      workloads[0].rate=20k/s --set guest.callback=pci-intx\n"
    "  --policy P          time, random, pct:D[:K], dfs:B or bytes, the last four\n"
    "                      optionally with +time (timed events wait for the vCPUs'\n"
    "                      clocks); default: the scenario's\n"
    "  --guest PROGRAM.so  run this guest program (a plug-in exporting\n"
    "                      xsim_guest_program, see xensim/guestprog.h) instead of\n"
    "                      xensim's own; a scenario needing a workload it does not\n"
    "                      implement is refused (exit 2)\n"
    "  --backend B         thread or fiber: how vCPUs run (default: the scenario's\n"
    "                      machine.backend, else fiber where available); the\n"
    "                      decisions and the digest are the same on both\n"
    "  --json              print the report as one JSON object\n"
    "  --trace FILE        write every trace record as JSON lines\n"
    "  --chrome-trace FILE write a Chrome trace (open it in Perfetto)\n"
    "  --log FILE          write the guest's and the machine's log lines\n"
    "                      (FILE - is standard output, for each of the three)\n"
    "  --xenstore-socket PATH\n"
    "                      host a XenStore for the guest and serve it on PATH while\n"
    "                      the run lasts (XENSTORED_PATH=PATH xenstore-ls /); a client\n"
    "                      that writes makes the run irreproducible\n"
    "  --realtime          pace virtual time to the wall clock (use with a long\n"
    "                      stop.time to watch or poke a run)\n"
    "Exit status: 0 all oracles hold, 1 an oracle failed, 2 usage or input error.\n";

int xsim_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},
        {"policy", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"trace", required_argument, NULL, 't'},
        {"chrome-trace", required_argument, NULL, 'c'},
        {"xenstore-socket", required_argument, NULL, 'x'},
        {"realtime", no_argument, NULL, 'r'},
        {"log", required_argument, NULL, 'l'},
        {"set", required_argument, NULL, 'S'},
        {"guest", required_argument, NULL, 'g'},
        {"backend", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct xsim_override sets[MAX_SETS];
    const char *guest = NULL;
    void *guest_handle = NULL;
    size_t nsets = 0;
    char why[512];
    struct xsim_run_options ro = {0};
    const char *policy = NULL;
    struct outputs o = {0};
    bool json = false;
    struct xsim_scenario s;
    struct xsim_report rep;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (parse_u64(optarg, &ro.seed) != 0) {
                fprintf(stderr, "xensim run: --seed wants a number, got '%s'\n", optarg);
                rc = 2;
                goto out_sets;
            }
            ro.seed_set = true;
            break;
        case 'p':
            policy = optarg;
            break;
        case 'b':
            if (!xsim_cli_backend("run", optarg, &ro.backend)) {
                rc = 2;
                goto out_sets;
            }
            break;
        case 'j':
            json = true;
            break;
        case 't':
            o.trace = optarg;
            break;
        case 'c':
            o.chrome = optarg;
            break;
        case 'x':
            ro.xenstore_socket = optarg;
            break;
        case 'r':
            ro.realtime = true;
            break;
        case 'l':
            o.log = optarg;
            break;
        case 'g':
            guest = optarg;
            break;
        case 'S':
            if (nsets == MAX_SETS) {
                fprintf(stderr, "xensim run: at most %d --set options\n", MAX_SETS);
                rc = 2;
                goto out_sets;
            }
            if (xsim_override_parse(&sets[nsets], optarg, why, sizeof(why)) != 0) {
                fprintf(stderr, "xensim run: --set: %s\n", why);
                rc = 2;
                goto out_sets;
            }
            nsets++;
            break;
        case 'h':
            fputs(run_usage, stdout);
            rc = 0;
            goto out_sets;
        default:
            fputs(run_usage, stderr);
            rc = 2;
            goto out_sets;
        }
    }
    if (optind != argc - 1) {
        fputs(run_usage, stderr);
        rc = 2;
        goto out_sets;
    }
    rc = load_scenario(&s, argv[optind], sets, nsets);
    for (size_t i = 0; i < nsets; i++)
        xsim_override_free(&sets[i]);
    if (rc != 0)
        return 2;
    char gated[96];
    if (policy != NULL &&
        (ro.policy = make_policy(xsim_scenario_policy_spec(&s, policy, gated, sizeof(gated)))) ==
            NULL) {
        xsim_scenario_free(&s);
        return 2;
    }
    if (xsim_cli_guest_open("run", guest, &ro.guest, &guest_handle) != 0) {
        rc = 2;
        goto out;
    }
    if (outputs_open(&o, "run", json) != 0) {
        rc = 2;
        goto out;
    }
    ro.log = o.fl;
    if (xsim_run(&s, &ro, &rep, o.ft, o.fc) != 0) {
        fprintf(stderr, "xensim run: %s\n", rep.failure);
        rc = 2;
        goto out;
    }
    if (json)
        xsim_report_print_json(&rep, stdout);
    else
        xsim_report_print(&rep, stdout);
    rc = rep.all_pass ? 0 : 1;
    xsim_report_free(&rep);
out:
    outputs_close(&o);
    xsim_policy_destroy(ro.policy);
    xsim_scenario_free(&s);
    xsim_guest_program_close(guest_handle);
    return rc;
out_sets:
    for (size_t i = 0; i < nsets; i++)
        xsim_override_free(&sets[i]);
    return rc;
}

/* ---- replay ---- */

static int load_replay(const char *path, struct xsim_replay *r, struct xsim_scenario *s)
{
    struct xsim_error err;
    char buf[1024];

    if (xsim_replay_read(path, r, &err) != 0) {
        fprintf(stderr, "xensim: %s\n", xsim_error_format(&err, buf, sizeof(buf)));
        return -1;
    }
    if (xsim_scenario_load_buffer(s, r->scenario_path, r->scenario_text, strlen(r->scenario_text),
                                  &err) != 0) {
        fprintf(stderr, "xensim: the replay file's scenario: %s\n",
                xsim_error_format(&err, buf, sizeof(buf)));
        xsim_replay_free(r);
        return -1;
    }
    return 0;
}

/* Run `s` with seed `seed` following `choices` (lenient: for shrinking). */
static int replay_run_out(const struct xsim_scenario *s, const char *recorded, uint64_t seed,
                          const struct xsim_choices *choices, bool lenient,
                          const struct xsim_guest_program *guest, const struct outputs *o,
                          struct xsim_report *rep)
{
    struct xsim_run_options ro = {.seed = seed,
                                  .seed_set = true,
                                  .guest = guest,
                                  .backend = (int)cli_backend,
                                  .replay_of = recorded};
    const char *gate = strstr(recorded, "+time");
    char spec[96];
    int rc;

    /* A "+time" or "+time:D" recording replays with timed events gated
     * the same way. */
    snprintf(spec, sizeof(spec), "replay%s", gate != NULL ? gate : "");
    ro.policy = make_policy(spec);
    if (ro.policy == NULL)
        return -EINVAL;
    if (xsim_policy_set_replay(ro.policy, choices) != 0 ||
        xsim_policy_set_replay_lenient(ro.policy, lenient) != 0 ||
        xsim_policy_set_replay_time_rules(ro.policy, strcmp(recorded, "time") == 0) != 0) {
        xsim_policy_destroy(ro.policy);
        fprintf(stderr, "xensim: the choice list is malformed\n");
        return -EINVAL;
    }
    ro.log = o != NULL ? o->fl : NULL;
    ro.explain = o != NULL && o->explain ? stdout : NULL;
    rc = xsim_run(s, &ro, rep, o != NULL ? o->ft : NULL, o != NULL ? o->fc : NULL);
    if (rc != 0)
        fprintf(stderr, "xensim: %s\n", rep->failure);
    xsim_policy_destroy(ro.policy);
    return rc;
}

static int replay_run(const struct xsim_scenario *s, const char *recorded, uint64_t seed,
                      const struct xsim_choices *choices, bool lenient,
                      const struct xsim_guest_program *guest, struct xsim_report *rep)
{
    return replay_run_out(s, recorded, seed, choices, lenient, guest, NULL, rep);
}

/* The replay file names the guest program that ran; replaying needs it. */
static int check_guest(const char *cmd, const struct xsim_replay *r,
                       const struct xsim_guest_program *guest)
{
    if (strcmp(r->guest, xsim_cli_guest_name(guest)) == 0)
        return 0;
    if (guest == NULL)
        fprintf(stderr, "xensim %s: the recording ran guest program '%s'; pass --guest with it\n",
                cmd, r->guest);
    else
        fprintf(stderr, "xensim %s: the recording ran guest program '%s', not '%s'\n", cmd,
                r->guest, guest->name);
    return -1;
}

static const char replay_usage[] =
    "Usage: xensim replay FILE [--explain] [--json] [--trace FILE] [--chrome-trace FILE]\n"
    "                          [--log FILE] [--guest PROGRAM.so]\n"
    "Re-run a recorded schedule (a replay file written by explore or shrink) bit for\n"
    "bit and check that the digest matches the recording. A recording of a --guest\n"
    "program replays with the same --guest. --trace, --chrome-trace and --log write\n"
    "what `run` writes (FILE - is standard output). --explain prints, around each\n"
    "switch of the choice list, which vCPU ran which scheduling points (access kind,\n"
    "object, source line), then what failed; shrink first to keep it short.\n"
    "Usage: xensim replay FILE [--json] [--backend B]\n"
    "Re-run a recorded schedule (a replay file written by explore or shrink) bit for\n"
    "bit and check that the digest matches the recording (on either backend:\n"
    "--backend thread|fiber).\n"
    "Exit status: 0 oracles hold and the digest matches, 1 an oracle failed (the\n"
    "failure reproduced) and the digest matches, 2 usage or input error, 3 the run\n"
    "differs from the recording.\n";

int xsim_cmd_replay(int argc, char **argv)
{
    struct xsim_replay r;
    struct xsim_scenario s;
    struct xsim_report rep;
    bool json = false;
    const char *file = NULL, *guest_path = NULL;
    const struct xsim_guest_program *guest = NULL;
    void *guest_handle = NULL;
    struct outputs o = {0};
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(replay_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--guest") == 0 && i + 1 < argc) {
            guest_path = argv[++i];
        } else if (strcmp(argv[i], "--explain") == 0) {
            o.explain = true;
        } else if (strcmp(argv[i], "--trace") == 0 && i + 1 < argc) {
            o.trace = argv[++i];
        } else if (strcmp(argv[i], "--chrome-trace") == 0 && i + 1 < argc) {
            o.chrome = argv[++i];
        } else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            o.log = argv[++i];
        } else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            int b;
            if (!xsim_cli_backend("replay", argv[++i], &b))
                return 2;
            cli_backend = (enum xsim_backend)b;
        } else if (argv[i][0] == '-' || file != NULL) {
            fputs(replay_usage, stderr);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (file == NULL) {
        fputs(replay_usage, stderr);
        return 2;
    }
    if (xsim_cli_guest_open("replay", guest_path, &guest, &guest_handle) != 0)
        return 2;
    if (load_replay(file, &r, &s) != 0) {
        xsim_guest_program_close(guest_handle);
        return 2;
    }
    if (check_guest("replay", &r, guest) != 0 || outputs_open(&o, "replay", json) != 0 ||
        replay_run_out(&s, r.policy, r.seed, &r.choices, false, guest, &o, &rep) != 0) {
        rc = 2;
        goto out;
    }
    if (json)
        xsim_report_print_json(&rep, stdout);
    else
        xsim_report_print(&rep, stdout);
    if (rep.digest != r.digest) {
        fprintf(stderr,
                "xensim replay: digest %016" PRIx64 " differs from the recorded %016" PRIx64 "\n",
                rep.digest, r.digest);
        rc = 3;
    } else {
        fprintf(stderr, "xensim replay: digest %016" PRIx64 " matches the recording\n", rep.digest);
        rc = rep.all_pass ? 0 : 1;
    }
    xsim_report_free(&rep);
out:
    outputs_close(&o);
    xsim_replay_free(&r);
    xsim_scenario_free(&s);
    xsim_guest_program_close(guest_handle);
    return rc;
}

/* ---- shrink ---- */

static bool same_failure(const struct xsim_report *rep, const struct xsim_replay *r)
{
    for (size_t i = 0; i < rep->noracles; i++) {
        if (rep->oracles[i].pass)
            continue;
        for (unsigned int k = 0; k < r->nfailed; k++) {
            if (strcmp(rep->oracles[i].name, r->failed[k]) == 0)
                return true;
        }
        if (r->nfailed == 0)
            return true;
    }
    return false;
}

/* The --guest program of the shrink in progress (NULL: the built-in). */
static const struct xsim_guest_program *shrink_guest;

static bool still_fails(const struct xsim_scenario *s, const struct xsim_replay *r,
                        const struct xsim_switch *sw, size_t n, uint64_t *runs)
{
    struct xsim_choices c = {
        .decisions = r->choices.decisions, .n = n, .cap = n, .sw = (struct xsim_switch *)sw};
    struct xsim_report rep;
    bool fails;

    (*runs)++;
    if (replay_run(s, r->policy, r->seed, &c, true, shrink_guest, &rep) != 0)
        return false;
    fails = same_failure(&rep, r);
    xsim_report_free(&rep);
    return fails;
}

/* Delta debugging (Zeller and Hildebrandt, TSE 2002): drop chunks of the
 * switch list while the failure persists. */
static size_t ddmin(const struct xsim_scenario *s, const struct xsim_replay *r,
                    struct xsim_switch *list, size_t len, uint64_t *runs)
{
    struct xsim_switch *tmp = malloc((len ? len : 1) * sizeof(*tmp));
    size_t n = 2;

    if (tmp == NULL)
        return len;
    while (len >= 2) {
        size_t chunk = (len + n - 1) / n;
        bool reduced = false;
        for (size_t start = 0; start < len; start += chunk) {
            size_t end = start + chunk < len ? start + chunk : len, m = 0;
            for (size_t i = 0; i < len; i++) {
                if (i < start || i >= end)
                    tmp[m++] = list[i];
            }
            if (still_fails(s, r, tmp, m, runs)) {
                memcpy(list, tmp, m * sizeof(*tmp));
                len = m;
                n = n > 2 ? n - 1 : 2;
                reduced = true;
                break;
            }
        }
        if (!reduced) {
            if (n >= len)
                break;
            n = n * 2 < len ? n * 2 : len;
        }
    }
    if (len == 1 && still_fails(s, r, list, 0, runs))
        len = 0;
    free(tmp);
    return len;
}

/* The default output of shrinking `in`: X.replay.json and X.json give
 * X.shrunk.json; shrinking X.shrunk.json again gives X.shrunk-2.json
 * (never the input itself). */
static void shrink_name(const char *in, char *out, size_t size)
{
    static const char *const sfx[] = {".shrunk.json", ".replay.json", ".json"};
    size_t n = strlen(in), base = n;

    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        size_t k = strlen(sfx[i]);
        if (n > k && strcmp(in + n - k, sfx[i]) == 0) {
            base = n - k;
            break;
        }
    }
    snprintf(out, size, "%.*s.shrunk.json", (int)base, in);
    if (strcmp(out, in) == 0)
        snprintf(out, size, "%.*s.shrunk-2.json", (int)base, in);
}

static const char shrink_usage[] =
    "Usage: xensim shrink FILE [--out FILE2] [--guest PROGRAM.so]\n"
    "Usage: xensim shrink FILE [--out FILE2] [--backend B]\n"
    "Reduce a failing replay file's choice list with delta debugging to a shorter\n"
    "one that still fails the same oracle, write it (default: X.shrunk.json for\n"
    "X.replay.json, X.shrunk-2.json for X.shrunk.json) and\n"
    "print both lengths.\n"
    "Exit status: 0 shrunk and written, 1 the file's run does not fail, 2 usage or\n"
    "input error.\n";

int xsim_cmd_shrink(int argc, char **argv)
{
    struct xsim_replay r;
    struct xsim_scenario s;
    struct xsim_report rep;
    const char *file = NULL, *out = NULL, *guest_path = NULL;
    void *guest_handle = NULL;
    char outbuf[1024], qout[1100], qguest[1100];
    uint64_t runs = 0;
    int rc = 2;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(shrink_usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--guest") == 0 && i + 1 < argc) {
            guest_path = argv[++i];
        } else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
            int b;
            if (!xsim_cli_backend("shrink", argv[++i], &b))
                return 2;
            cli_backend = (enum xsim_backend)b;
        } else if (argv[i][0] == '-' || file != NULL) {
            fputs(shrink_usage, stderr);
            return 2;
        } else {
            file = argv[i];
        }
    }
    if (file == NULL) {
        fputs(shrink_usage, stderr);
        return 2;
    }
    if (out == NULL) {
        shrink_name(file, outbuf, sizeof(outbuf));
        out = outbuf;
    }
    if (xsim_cli_guest_open("shrink", guest_path, &shrink_guest, &guest_handle) != 0)
        return 2;
    if (load_replay(file, &r, &s) != 0) {
        xsim_guest_program_close(guest_handle);
        return 2;
    }
    if (check_guest("shrink", &r, shrink_guest) != 0)
        goto out;
    if (!still_fails(&s, &r, r.choices.sw, r.choices.n, &runs)) {
        fprintf(stderr, "xensim shrink: %s does not fail when replayed\n", file);
        rc = 1;
        goto out;
    }
    size_t before = r.choices.n;
    size_t after = ddmin(&s, &r, r.choices.sw, r.choices.n, &runs);
    struct xsim_choices small = {
        .decisions = r.choices.decisions, .n = after, .cap = after, .sw = r.choices.sw};
    /* Record the schedule the shortened list produces, so that the written
     * file replays strictly, bit for bit. */
    if (replay_run(&s, r.policy, r.seed, &small, true, shrink_guest, &rep) != 0 ||
        !same_failure(&rep, &r)) {
        fprintf(stderr, "xensim shrink: the shortened list no longer fails\n");
        rc = 1;
        goto out;
    }
    struct xsim_error err;
    char ebuf[1024];
    if (xsim_replay_write(out, &s, &rep, &rep.choices, &err) != 0) {
        fprintf(stderr, "xensim shrink: %s\n", xsim_error_format(&err, ebuf, sizeof(ebuf)));
        xsim_report_free(&rep);
        goto out;
    }
    printf("shrunk the choice list from %zu to %zu switches (%zu in the recorded schedule, "
           "%" PRIu64 " decisions) in %" PRIu64 " runs\n",
           before, after, rep.choices.n, rep.choices.decisions, runs);
    xsim_cli_shell_word(out, qout, sizeof(qout));
    if (guest_path != NULL)
        printf("wrote %s; replay it with: xensim replay %s --guest %s\n", out, qout,
               xsim_cli_shell_word(guest_path, qguest, sizeof(qguest)));
    else
        printf("wrote %s; replay it with: xensim replay %s\n", out, qout);
    xsim_report_free(&rep);
    rc = 0;
out:
    xsim_replay_free(&r);
    xsim_scenario_free(&s);
    xsim_guest_program_close(guest_handle);
    shrink_guest = NULL;
    return rc;
}
