/*
 * cmd_fuzz.c - `xensim fuzz-replay`: turn a schedule fuzzer's input (a
 * finding of tests/fuzz/, docs/fuzzing.md) into a replay file that replay,
 * replay --explain and shrink take.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/fuzz_input.h"
#include "xensim/scenario_set.h"

static const char usage[] =
    "Usage: xensim fuzz-replay SCENARIO INPUT [--out FILE]\n"
    "Run the schedule fuzzer's input INPUT (a file of bytes: 8 bytes of fault choices,\n"
    "then the schedule; docs/fuzzing.md) on SCENARIO as the fuzz targets do, every\n"
    "applicable oracle armed, and write the run as a replay file (default:\n"
    "INPUT.replay.json) for xensim replay, replay --explain and shrink.\n"
    "Exit status: 0 every oracle held (the file is written all the same), 1 an\n"
    "oracle failed, 2 usage or input error.\n";

int xsim_cmd_fuzz_replay(int argc, char **argv)
{
    const char *scn = NULL, *in = NULL, *out = NULL;
    char outbuf[1100], ebuf[1024], q[1100];
    struct xsim_fuzz_target t;
    struct xsim_report rep;
    struct xsim_error err;
    char *data;
    size_t len;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if ((strcmp(argv[i], "--out") == 0 || strcmp(argv[i], "-o") == 0) && i + 1 < argc) {
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fputs(usage, stderr);
            return 2;
        } else if (scn == NULL) {
            scn = argv[i];
        } else if (in == NULL) {
            in = argv[i];
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (scn == NULL || in == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    if (out == NULL) {
        snprintf(outbuf, sizeof(outbuf), "%s.replay.json", in);
        out = outbuf;
    }
    if (xsim_text_read_file(in, &data, &len, &err) != 0) {
        fprintf(stderr, "xensim fuzz-replay: %s\n", xsim_error_format(&err, ebuf, sizeof(ebuf)));
        return 2;
    }
    if (xsim_fuzz_target_load(&t, scn, &err) != 0) {
        fprintf(stderr, "xensim fuzz-replay: %s\n", xsim_error_format(&err, ebuf, sizeof(ebuf)));
        free(data);
        return 2;
    }
    rc = xsim_fuzz_write_replay(&t, (const uint8_t *)data, len, out, &rep, &err);
    if (rc < 0) {
        fprintf(stderr, "xensim fuzz-replay: %s\n", xsim_error_format(&err, ebuf, sizeof(ebuf)));
        rc = 2;
    } else {
        printf("%s: %zu bytes, policy %s, seed %llu, %llu decisions: %s\n", in, len, rep.policy,
               (unsigned long long)rep.seed, (unsigned long long)rep.stats.decisions,
               rep.all_pass ? "every oracle held" : "failed");
        for (size_t i = 0; i < rep.noracles; i++) {
            if (!rep.oracles[i].pass)
                printf("  %s: %s\n", rep.oracles[i].name, rep.oracles[i].detail);
        }
        xsim_cli_shell_word(out, q, sizeof(q));
        printf("wrote %s\nreplay it with: xensim replay %s\n", out, q);
        if (rc == 1)
            printf("shrink it with: xensim shrink %s\n", q);
        xsim_report_free(&rep);
    }
    xsim_fuzz_target_free(&t);
    free(data);
    return rc;
}
