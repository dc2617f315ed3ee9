/*
 * fuzz_sched.c - coverage-guided schedule fuzzing of a scenario: the
 * libFuzzer entry point (and, through standalone_main.c, an AFL++ or plain
 * driver). The input is 8 bytes of fault choices (a migration's instant,
 * disk I/O errors, backend response time, the timing gate, the seed) and
 * the schedule for the `bytes` policy (or a sparse list of choices); its
 * meaning is sim/cli/fuzz_input.h's, shared with `xensim fuzz-replay`.
 * Every oracle that applies to the scenario is armed.
 *
 * A finding is an oracle failure and nothing else: any input, of any
 * length, runs. On one the target writes a replay file,
 * $XSIM_FUZZ_OUT/<scenario>-fuzz-<hash>.replay.json (default directory:
 * the current one), and the input beside it, prints where, and aborts so
 * that the fuzzer keeps the input. The scenario: $XSIM_FUZZ_SCENARIO, else
 * the one the target was built for (XSIM_FUZZ_DEFAULT_SCENARIO). With
 * XSIM_FUZZ_KEEP_GOING set, findings are counted (the first ten written)
 * instead of aborting, to measure a target whose bug is found at once.
 * XSIM_FUZZ_INTERLEAVINGS set adds interleaving feedback (below).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/fuzz_input.h"
#include "fuzz_sched.h"

static struct xsim_fuzz_target target;

/* Interleaving feedback (XSIM_FUZZ_INTERLEAVINGS set): each handoff from
 * one vCPU to another, as the pair (the access the preempted vCPU was
 * about to do, the first access of the one that took over: kind and
 * source line of each, and whether they touch one object), counted in
 * libFuzzer's extra counters, so that a new interleaving of the same code
 * is new coverage. From the run's --explain text: it costs the points
 * kept and the text. */
#ifdef XSIM_LIBFUZZER
__attribute__((used, section("__libfuzzer_extra_counters")))
#endif
static uint8_t interleavings[1 << 14];
static bool want_interleavings;
static bool loaded;
static uint64_t execs;
static double t0;

bool xsim_fuzz_keep_going;
uint64_t xsim_fuzz_findings;
const char *xsim_fuzz_scenario;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void say_findings(void)
{
    fprintf(stderr, "fuzz: %" PRIu64 " findings in %" PRIu64 " executions\n", xsim_fuzz_findings,
            execs);
}

static void load(void)
{
    const char *path = xsim_fuzz_scenario;
    struct xsim_error err;
    char buf[1024];

    if (loaded)
        return;
    if (path == NULL)
        path = getenv("XSIM_FUZZ_SCENARIO");
#ifdef XSIM_FUZZ_DEFAULT_SCENARIO
    if (path == NULL)
        path = XSIM_FUZZ_DEFAULT_SCENARIO;
#endif
    if (path == NULL) {
        fprintf(stderr, "fuzz: no scenario (set XSIM_FUZZ_SCENARIO or pass --scenario)\n");
        exit(2);
    }
    if (xsim_fuzz_target_load(&target, path, &err) != 0) {
        fprintf(stderr, "fuzz: %s\n", xsim_error_format(&err, buf, sizeof(buf)));
        exit(2);
    }
    loaded = true;
    want_interleavings = getenv("XSIM_FUZZ_INTERLEAVINGS") != NULL;
    if (getenv("XSIM_FUZZ_KEEP_GOING") != NULL)
        xsim_fuzz_keep_going = true;
    if (xsim_fuzz_keep_going)
        atexit(say_findings);
    t0 = now_s();
    fprintf(stderr, "fuzz: scenario %s (%s), policy bytes%s%s\n", target.base.name, path,
            target.gate, want_interleavings ? ", interleaving feedback" : "");
}

#ifdef XSIM_LIBFUZZER
/* Defaults for libFuzzer's flags, added to the command line unless given
 * there: a schedule needs its length at once (-len_control=0; libFuzzer
 * would otherwise start at 4 bytes, the header alone, and grow slowly), up
 * to what the target's scenario needs (-max_len). */
static void default_flags(int *argc, char ***argv)
{
    static char maxlen[32], lenctl[] = "-len_control=0";
    static char *args[256];
    bool has_max = false, has_len = false;
    int n = *argc;

    if (n < 1 || n > 250)
        return;
    for (int i = 1; i < n; i++) {
        has_max = has_max || strncmp((*argv)[i], "-max_len=", 9) == 0;
        has_len = has_len || strncmp((*argv)[i], "-len_control=", 13) == 0;
    }
    memcpy(args, *argv, (size_t)n * sizeof(*args));
    snprintf(maxlen, sizeof(maxlen), "-max_len=%d", XSIM_FUZZ_MAX_LEN);
    if (!has_max)
        args[n++] = maxlen;
    if (!has_len)
        args[n++] = lenctl;
    args[n] = NULL;
    *argc = n;
    *argv = args;
}
#endif

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
#ifdef XSIM_LIBFUZZER
    default_flags(argc, argv);
#else
    (void)argc;
    (void)argv;
#endif
    load();
    return 0;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void finding(const uint8_t *data, size_t size, const struct xsim_report *rep)
{
    const char *dir = getenv("XSIM_FUZZ_OUT");
    char path[1024], ipath[1024], buf[1024];
    struct xsim_report again;
    struct xsim_error err;
    FILE *f;
    int rc;

    /* Counting without stopping (keep-going): the first ten are written. */
    if (++xsim_fuzz_findings > 10)
        return;
    fprintf(stderr, "fuzz: finding at execution %" PRIu64 " (%.2f s):", execs, now_s() - t0);
    for (size_t i = 0; i < rep->noracles; i++) {
        if (!rep->oracles[i].pass)
            fprintf(stderr, " %s (%s)", rep->oracles[i].name, rep->oracles[i].detail);
    }
    fprintf(stderr, "\n");
    snprintf(path, sizeof(path), "%s/%s-fuzz-%016" PRIx64 ".replay.json", dir ? dir : ".",
             target.base.name, fnv1a(data, size));
    snprintf(ipath, sizeof(ipath), "%.*s.input", (int)(strlen(path) - strlen(".replay.json")),
             path);
    if ((f = fopen(ipath, "wb")) != NULL) {
        if (size > 0)
            fwrite(data, 1, size, f);
        fclose(f);
    }
    rc = xsim_fuzz_write_replay(&target, data, size, path, &again, &err);
    if (rc < 0) {
        fprintf(stderr, "fuzz: %s\n", xsim_error_format(&err, buf, sizeof(buf)));
    } else {
        if (again.digest != rep->digest || rc != 1)
            fprintf(stderr,
                    "fuzz: the run did not repeat (digest %016" PRIx64 ", then %016" PRIx64 ")\n",
                    rep->digest, again.digest);
        fprintf(stderr, "fuzz: wrote %s (input: %s)\nfuzz: replay it with: xensim replay %s\n",
                path, ipath, path);
        xsim_report_free(&again);
    }
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

/* Count the handoffs of an --explain text (sim/explain.c's format). */
static void count_interleavings(const char *text)
{
    char kind[2][16], obj[2][16], loc[2][256];
    bool have_before = false;
    unsigned int e;
    double t;

    for (const char *next = text; next != NULL && *next != '\0';) {
        /* One line at a time into a buffer: sscanf on the whole text would
         * measure all of it at every call. */
        const char *nl = strchr(next, '\n');
        size_t len = nl != NULL ? (size_t)(nl - next) : strlen(next);
        char line[512];
        snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1),
                 next);
        next = nl != NULL ? nl + 1 : NULL;
        if (strncmp(line, "  ! vCPU", 8) == 0) {
            have_before = sscanf(line, "  ! vCPU %u %lf us %15s %15s %255s", &e, &t, kind[0],
                                 obj[0], loc[0]) == 5;
        } else if (strncmp(line, "  > vCPU", 8) == 0 && have_before &&
                   sscanf(line, "  > vCPU %u %lf us %15s %15s %255s", &e, &t, kind[1], obj[1],
                          loc[1]) == 5) {
            uint64_t h = 0xcbf29ce484222325ull;
            h = hash_str(hash_str(hash_str(hash_str(h, kind[0]), loc[0]), kind[1]), loc[1]);
            h ^= strcmp(obj[0], obj[1]) == 0 && strcmp(obj[0], "-") != 0;
            uint8_t *c = &interleavings[(h ^ (h >> 32)) % sizeof(interleavings)];
            if (*c < 255)
                (*c)++;
            have_before = false;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xsim_report rep;
    char *text = NULL;
    size_t len = 0;
    bool failed;
    int rc;

    load();
    execs++;
    if (want_interleavings)
        target.explain = open_memstream(&text, &len);
    rc = xsim_fuzz_run(&target, data, size, &rep, NULL);
    if (target.explain != NULL) {
        fclose(target.explain);
        target.explain = NULL;
        if (rc == 0 && text != NULL)
            count_interleavings(text);
        free(text);
    }
    if (rc != 0) {
        /* Never expected: every input is a run. Say so, but it is the
         * harness's problem, not a finding. */
        fprintf(stderr, "fuzz: input of %zu bytes could not run: %s\n", size, rep.failure);
        xsim_report_free(&rep);
        return 0;
    }
    failed = !rep.all_pass;
    if (failed)
        finding(data, size, &rep);
    xsim_report_free(&rep);
    if (failed && !xsim_fuzz_keep_going)
        abort();
    return 0;
}

uint64_t xsim_fuzz_executions(void)
{
    return execs;
}
