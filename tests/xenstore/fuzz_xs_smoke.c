/*
 * fuzz_xs_smoke.c - runs the XenStore wire fuzzer's entry point
 * (fuzz_xs_wire.c) without libFuzzer: over the fixed corpus in
 * tests/data/xenstore/corpus, then over deterministic pseudo-random inputs
 * (random bytes, random well-framed request sequences, and mutations of the
 * corpus), so that it runs in every build.
 *
 * Usage: fuzz_xs_smoke [--seed N] [--count N] [--verbose] [--dump K FILE]
 *   --verbose prints each input's number before running it (find the one
 *   that crashed); --dump writes random input K to FILE, for the libFuzzer
 *   target or a debugger.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/abi/xs_wire.h"
#include "xensim/prng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern void (*xs_fuzz_on_failure)(void);

#define FUZZ_MAX_INPUT 16384
#define MAX_CORPUS     64

static uint64_t seed = 0x5eed0f5eed0f5eedull;
static struct xsim_rng rng;
static long current = -1;
static const char *current_file;
static uint8_t *corpus[MAX_CORPUS];
static size_t corpus_len[MAX_CORPUS], ncorpus;

static uint64_t next(void)
{
    return xsim_rng_next(&rng);
}

static void on_failure(void)
{
    if (current_file != NULL)
        fprintf(stderr, "fuzz_xs_smoke: failing input: corpus file %s\n", current_file);
    else
        fprintf(stderr,
                "fuzz_xs_smoke: failing input: random input %ld of seed 0x%" PRIx64 "\n"
                "  replay: fuzz_xs_smoke --seed 0x%" PRIx64 " --count %ld\n"
                "  extract: fuzz_xs_smoke --seed 0x%" PRIx64 " --dump %ld FILE\n",
                current, seed, seed, current + 1, seed, current);
}

static size_t load_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && ncorpus < MAX_CORPUS) {
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        if (f == NULL)
            continue;
        corpus[ncorpus] = malloc(FUZZ_MAX_INPUT);
        corpus_len[ncorpus] = fread(corpus[ncorpus], 1, FUZZ_MAX_INPUT, f);
        fclose(f);
        current_file = e->d_name;
        LLVMFuzzerTestOneInput(corpus[ncorpus], corpus_len[ncorpus]);
        current_file = NULL;
        ncorpus++;
    }
    closedir(d);
    return ncorpus;
}

/* A request sequence built from protocol fragments. */
static size_t gen_messages(uint8_t *buf)
{
    static const char *const words[] = {"/",
                                        "/a",
                                        "/a/b",
                                        "a",
                                        "/local/domain/5",
                                        "/local/domain/5/x",
                                        "@introduceDomain",
                                        "@releaseDomain",
                                        "T",
                                        "F",
                                        "0",
                                        "1",
                                        "5",
                                        "6",
                                        "n0",
                                        "r5",
                                        "b5",
                                        "w0",
                                        "tok",
                                        "//",
                                        "/a/",
                                        "x y",
                                        "-1",
                                        "99999999999",
                                        "check",
                                        "print",
                                        "help",
                                        "",
                                        "/tool/xenstored"};
    size_t n = 0;
    int msgs = (int)(next() % 24) + 1;

    for (int m = 0; m < msgs && n < FUZZ_MAX_INPUT - 512; m++) {
        struct xsd_sockmsg h = {0};
        size_t start = n + sizeof(h);
        int parts = (int)(next() % 4);

        h.type = (uint32_t)(next() % 25);
        h.tx_id = next() % 4 == 0 ? (uint32_t)(next() % 4) : 0;
        n = start;
        for (int p = 0; p < parts; p++) {
            const char *w = words[next() % (sizeof(words) / sizeof(words[0]))];

            memcpy(buf + n, w, strlen(w));
            n += strlen(w);
            if (next() % 8 != 0)
                buf[n++] = '\0';
        }
        h.len = (uint32_t)(n - start);
        if (next() % 64 == 0)
            h.len += (uint32_t)(next() % 8192); /* lie about the length */
        memcpy(buf + start - sizeof(h), &h, sizeof(h));
    }
    return n;
}

static size_t gen_input(uint8_t *buf)
{
    uint64_t kind = next() % 4;
    size_t n;

    if (kind == 0 || ncorpus == 0) { /* random bytes */
        n = next() % 512;
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)next();
        return n;
    }
    if (kind == 1)
        return gen_messages(buf);
    /* a corpus file, mutated */
    {
        size_t c = next() % ncorpus, flips = next() % 8 + 1;

        n = corpus_len[c];
        memcpy(buf, corpus[c], n);
        for (size_t i = 0; i < flips && n > 0; i++) {
            size_t at = next() % n;

            switch (next() % 3) {
            case 0:
                buf[at] ^= (uint8_t)(1u << (next() % 8));
                break;
            case 1:
                buf[at] = (uint8_t)next();
                break;
            default:
                n = at; /* truncate */
                break;
            }
        }
        if (kind == 3 && n + 1024 < FUZZ_MAX_INPUT) /* splice a generated tail */
            n += gen_messages(buf + n) % 1024;
        return n > FUZZ_MAX_INPUT ? FUZZ_MAX_INPUT : n;
    }
}

int main(int argc, char **argv)
{
    static uint8_t buf[FUZZ_MAX_INPUT + 16384];
    const char *dump_file = NULL;
    long count = 3000, dump = -1;
    bool verbose = false;
    size_t nc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = strtol(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--dump") == 0 && i + 2 < argc) {
            dump = strtol(argv[++i], NULL, 0);
            dump_file = argv[++i];
        } else {
            fprintf(stderr, "usage: fuzz_xs_smoke [--seed N] [--count N] [--verbose] "
                            "[--dump K FILE]\n");
            return 2;
        }
    }
    xs_fuzz_on_failure = on_failure;
    nc = load_corpus(XENSIM_SOURCE_DIR "/tests/data/xenstore/corpus");
    if (nc == 0) {
        fprintf(stderr, "fuzz_xs_smoke: no corpus under tests/data/xenstore/corpus\n");
        return 1;
    }
    xsim_rng_init(&rng, seed, "xenstore-fuzz-smoke");
    for (current = 0; current < count; current++) {
        size_t n = gen_input(buf);

        if (current == dump) {
            FILE *f = fopen(dump_file, "wb");

            if (f == NULL || fwrite(buf, 1, n, f) != n)
                return 1;
            fclose(f);
            return 0;
        }
        if (verbose)
            fprintf(stderr, "input %ld (%zu bytes)\n", current, n);
        LLVMFuzzerTestOneInput(buf, n);
    }
    for (size_t i = 0; i < nc; i++)
        free(corpus[i]);
    printf("fuzz_xs_smoke: %zu corpus files and %ld generated inputs (seed 0x%" PRIx64 ") passed\n",
           nc, count, seed);
    return 0;
}
