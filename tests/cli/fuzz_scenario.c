/*
 * fuzz_scenario.c - the scenario loader on arbitrary bytes. Built as a
 * libFuzzer target with XENSIM_FUZZ=ON (clang); without it, a smoke driver
 * (main below) feeds the shipped and bad scenarios and thousands of
 * deterministic mutations of them. The loader must answer every input with
 * 0 or an error, never crash, leak or hang.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/prng.h"
#include "xensim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xsim_scenario s;
    struct xsim_error err;

    if (xsim_scenario_load_buffer(&s, "fuzz", (const char *)data, size, &err) == 0)
        xsim_scenario_free(&s);
    return 0;
}

#ifndef XSIM_LIBFUZZER
static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return 0;
    n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void mutate_all(const char *dir, struct xsim_rng *rng, unsigned int per_file, size_t *runs)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    static uint8_t orig[65536], buf[65536 + 64];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        size_t len;
        if (strstr(e->d_name, ".json") == NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        len = read_file(path, orig, sizeof(orig));
        LLVMFuzzerTestOneInput(orig, len);
        (*runs)++;
        for (unsigned int i = 0; i < per_file; i++) {
            size_t n = len;
            memcpy(buf, orig, len);
            unsigned int edits = 1 + (unsigned int)xsim_rng_below(rng, 4);
            for (unsigned int k = 0; k < edits && n > 0; k++) {
                size_t at = (size_t)xsim_rng_below(rng, n);
                switch (xsim_rng_below(rng, 5)) {
                case 0:
                    buf[at] = (uint8_t)xsim_rng_next(rng);
                    break; /* flip a byte */
                case 1:
                    n = at;
                    break; /* truncate */
                case 2:
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                    break; /* delete */
                case 3:    /* duplicate a byte */
                    if (n < sizeof(buf) - 1) {
                        memmove(buf + at + 1, buf + at, n - at);
                        n++;
                    }
                    break;
                default: { /* a digit for a digit: values out of range */
                    static const char digits[] = "09-.e";
                    buf[at] = (uint8_t)digits[xsim_rng_below(rng, 5)];
                }
                }
            }
            LLVMFuzzerTestOneInput(buf, n);
            (*runs)++;
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    struct xsim_rng rng;
    size_t runs = 0;
    unsigned int per_file = argc > 1 ? (unsigned int)atoi(argv[1]) : 300;

    xsim_rng_init(&rng, 42, "fuzz-scenario");
    mutate_all(XENSIM_SOURCE_DIR "/sim/scenarios", &rng, per_file, &runs);
    mutate_all(XENSIM_SOURCE_DIR "/tests/data/scenarios", &rng, per_file, &runs);
    mutate_all(XENSIM_SOURCE_DIR "/tests/data/scenarios-bad", &rng, per_file / 4, &runs);
    printf("fuzz_scenario: %zu inputs, no crash\n", runs);
    return runs > 100 ? 0 : 1;
}
#endif
