/*
 * standalone_main.c - a driver for the schedule fuzz target without
 * libFuzzer: runs each FILE (every file of a DIR, in name order), or
 * standard input, through LLVMFuzzerTestOneInput once. It is what a
 * XENSIM_FUZZ=afl build links (afl-fuzz ... -- fuzz_lost_update @@; with
 * afl-clang-fast and no file it runs AFL++'s persistent shared-memory
 * loop), and what the default suite runs over the checked-in corpora.
 *
 *   fuzz_sched [--scenario PATH] [--expect clean|finding] [FILE|DIR]...
 *
 * Without --expect the first finding aborts (as under a fuzzer). With
 * --expect clean every input must hold; with --expect finding every input
 * must fail an oracle (each writes its replay file, see fuzz_sched.c).
 * Exit status 0 when the expectation is met, 1 when not, 2 usage error.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_sched.h"

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static int run_file(const char *path, int expect, uint64_t *n, uint64_t *bad)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    uint64_t before = xsim_fuzz_findings;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0)
            break;
        len += got;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    (*n)++;
    bool found = xsim_fuzz_findings != before;
    if (expect != 0 && found != (expect == 2)) {
        (*bad)++;
        fprintf(stderr, "fuzz: %s: %s\n", path,
                found ? "fails an oracle (expected to hold)" : "holds (expected a finding)");
    }
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int expect, uint64_t *n, uint64_t *bad)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int rc = 0;

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == cap) {
            char **nb = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*nb));
            if (nb == NULL)
                break;
            names = nb;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if ((names[nn] = malloc(len)) == NULL)
            break;
        snprintf(names[nn++], len, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    if (nn > 0)
        qsort(names, nn, sizeof(*names), cmp);
    for (size_t i = 0; i < nn; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            rc = run_file(names[i], expect, n, bad);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int expect = 0, files = 0;
    uint64_t n = 0, bad = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc) {
            xsim_fuzz_scenario = argv[++i];
        } else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) {
            i++;
            if (strcmp(argv[i], "clean") == 0) {
                expect = 1;
            } else if (strcmp(argv[i], "finding") == 0) {
                expect = 2;
            } else {
                fprintf(stderr, "fuzz: --expect clean or finding\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: %s [--scenario PATH] [--expect clean|finding] [FILE|DIR]...\n", argv[0]);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "fuzz: unknown option %s\n", argv[i]);
            return 2;
        } else {
            files++;
        }
    }
    xsim_fuzz_keep_going = expect != 0;
    LLVMFuzzerInitialize(&argc, &argv);
    if (files == 0) {
#ifdef __AFL_FUZZ_TESTCASE_LEN
        /* AFL++ persistent mode: the test case arrives in shared memory. */
        __AFL_INIT();
        unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
        while (__AFL_LOOP(10000))
            LLVMFuzzerTestOneInput(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
        return 0;
#else
        if (run_file("/dev/stdin", expect, &n, &bad) != 0)
            return 2;
#endif
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "--scenario") == 0 || strcmp(argv[i], "--expect") == 0) {
            i++;
            continue;
        }
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 2;
        }
        if ((S_ISDIR(st.st_mode) ? run_dir(argv[i], expect, &n, &bad)
                                 : run_file(argv[i], expect, &n, &bad)) != 0)
            return 2;
    }
    fprintf(stderr, "fuzz: %" PRIu64 " inputs, %" PRIu64 " findings%s\n", n, xsim_fuzz_findings,
            bad ? ", not as expected" : "");
    return bad != 0 || (expect != 0 && n == 0) ? 1 : 0;
}
