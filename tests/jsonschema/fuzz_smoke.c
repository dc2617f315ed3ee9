/*
 * fuzz_smoke.c - runs the jsonschema fuzz entry point without libFuzzer: over
 * every file in tests/jsonschema/data, then over deterministic pseudo-random
 * mutations of them. Mutation i depends only on (seed, i), so one failing
 * input can be replayed or written out for the libFuzzer binary.
 *
 * usage: fuzz_smoke_jsonschema [--dir DIR] [--seed N] [--runs N]
 *                              [--only I] [--dump I FILE]
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SMOKE_MAX_INPUT (64 * 1024)

struct input {
    char *name;
    uint8_t *data;
    size_t size;
};

struct corpus {
    struct input *in;
    size_t n;
};

/* The replay line for the run in progress, written if the process dies. */
static char replay_line[512];

static void print_replay(void)
{
    ssize_t ignored = write(STDERR_FILENO, replay_line, strlen(replay_line));

    (void)ignored;
}

static void on_fatal(int sig)
{
    print_replay();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Sanitizers exit through their own path; they call this on the way out. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static size_t below(uint64_t *rng, size_t n)
{
    return n == 0 ? 0 : (size_t)(splitmix64(rng) % n);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct input *)a)->name, ((const struct input *)b)->name);
}

static int read_all(const char *path, struct input *in)
{
    FILE *f = fopen(path, "rb");
    size_t got;

    if (f == NULL)
        return -errno;
    in->data = malloc(SMOKE_MAX_INPUT);
    if (in->data == NULL) {
        fclose(f);
        return -ENOMEM;
    }
    got = fread(in->data, 1, SMOKE_MAX_INPUT, f);
    fclose(f);
    in->size = got;
    return 0;
}

static int load_corpus(const char *dir, struct corpus *c)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    struct input *grown;

    if (d == NULL)
        return -errno;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        grown = realloc(c->in, (c->n + 1) * sizeof(*c->in));
        if (grown == NULL)
            break;
        c->in = grown;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        c->in[c->n].name = strdup(e->d_name);
        if (c->in[c->n].name == NULL || read_all(path, &c->in[c->n]) != 0) {
            free(c->in[c->n].name);
            continue;
        }
        c->n++;
    }
    closedir(d);
    /* readdir order is the filesystem's: sort so runs repeat anywhere. */
    qsort(c->in, c->n, sizeof(*c->in), by_name);
    return 0;
}

static void free_corpus(struct corpus *c)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        free(c->in[i].name);
        free(c->in[i].data);
    }
    free(c->in);
}

/* Bytes that matter to a JSON tokenizer, and fragments that stress it. */
static const char interesting_bytes[] = "{}[]\",:0123456789eE.-+\\tfnu \n\r\t\xff\xc3\xa9\x80";
static const char *const fragments[] = {
    "[",
    "{",
    "}",
    "]",
    "\"",
    ",",
    ":",
    "1e999",
    "99999999999999999999",
    "-9223372036854775809",
    "\\u0000",
    "\\ud800",
    "\\u00e9",
    "\xc3",
    "\xff",
    "\xef\xbb\xbf",
    "null",
    "true",
    "false",
    "-0",
    "1.5",
    "2.0",
    "\"vcpus\": 1",
    "\"vcpu\": 1,",
    "\"machine\": {}",
    "\"workloads\": [",
    "\"tick\": \"10ms\"",
    "\"rate\": \"1k/s\"",
    "\"seed\": \"0xffffffffffffffff\"",
    "\n",
    "\r\n",
    "\t",
    "\xc3\xa9",
    "\"\\\"\"",
    "{\"a\":1,\"a\":2}",
};

/* Values that keep a document valid JSON when they replace a scalar. */
static const char *const values[] = {
    "\"x\"",
    "\"\\u00e9\\\"q\\n\"",
    "\"\xc3\xa9t\xc3\xa9\"",
    "0",
    "-1",
    "1.5",
    "1e3",
    "-0",
    "9223372036854775807",
    "-9223372036854775808",
    "true",
    "false",
    "null",
    "\"10ms\"",
    "\"1k/s\"",
    "\"0xffffffffffffffff\"",
    "{}",
    "[]",
    "[1, {\"a\": null}, \"\"]",
    "{\"vcpus\": 4}",
    "{\"name\": \"w\", \"rate\": 5}",
};
static const char *const spaces[] = {" ", "\n", "\t", "\r\n", "\n\n  "};

/* Where whitespace may go (after a structural byte outside strings) and
 * where scalar tokens are, found by a rough scan. Returns the count. */
static size_t scan_spots(const uint8_t *b, size_t size, size_t *gap, size_t *tok, size_t *tok_len,
                         size_t *ntok)
{
    size_t i = 0, ngap = 0, start;

    *ntok = 0;
    while (i < size) {
        if (strchr("{}[],:", b[i]) != NULL && b[i] != '\0') {
            gap[ngap++] = ++i;
        } else if (b[i] == '"') {
            start = i++;
            while (i < size && b[i] != '"')
                i += b[i] == '\\' ? 2 : 1;
            i = i < size ? i + 1 : size;
            tok[*ntok] = start;
            tok_len[(*ntok)++] = i - start;
        } else if (strchr("-0123456789tfn", b[i]) != NULL && b[i] != '\0') {
            start = i;
            while (i < size && strchr("-+.eE0123456789truefalsn", b[i]) != NULL && b[i] != '\0')
                i++;
            tok[*ntok] = start;
            tok_len[(*ntok)++] = i - start;
        } else {
            i++;
        }
    }
    return ngap;
}

static size_t splice(uint8_t *out, size_t size, size_t pos, size_t cut, const char *with)
{
    size_t n = strlen(with);

    if (size - cut + n > SMOKE_MAX_INPUT)
        return size;
    memmove(out + pos + n, out + pos + cut, size - pos - cut);
    memcpy(out + pos, with, n);
    return size - cut + n;
}

/* A mutation that keeps the text JSON most of the time, so that the position
 * index, not only the syntax errors, gets exercised. */
static size_t gentle(uint64_t *rng, uint8_t *out, size_t size)
{
    static size_t gap[SMOKE_MAX_INPUT], tok[SMOKE_MAX_INPUT], tok_len[SMOKE_MAX_INPUT];
    size_t ngap, ntok, k;

    ngap = scan_spots(out, size, gap, tok, tok_len, &ntok);
    if (below(rng, 2) == 0 && ngap > 0)
        return splice(out, size, gap[below(rng, ngap)], 0,
                      spaces[below(rng, sizeof(spaces) / sizeof(spaces[0]))]);
    if (ntok == 0)
        return size;
    k = below(rng, ntok);
    return splice(out, size, tok[k], tok_len[k],
                  values[below(rng, sizeof(values) / sizeof(values[0]))]);
}

/* Build mutation `iter` of the corpus into out (SMOKE_MAX_INPUT bytes). */
static size_t mutate(const struct corpus *c, uint64_t seed, unsigned long iter, uint8_t *out,
                     size_t *src)
{
    uint64_t rng = seed ^ (0x632be59bd9b4e019u * (iter + 1));
    const struct input *in;
    size_t size, k, rounds, pos, n;

    *src = below(&rng, c->n);
    in = &c->in[*src];
    size = in->size;
    memcpy(out, in->data, size);
    rounds = 1 + below(&rng, 4);
    /* Half the runs stay (mostly) valid JSON. */
    if (below(&rng, 2) == 0) {
        for (k = 0; k < rounds; k++)
            size = gentle(&rng, out, size);
        return size;
    }
    for (k = 0; k < rounds; k++) {
        pos = below(&rng, size + 1);
        switch (below(&rng, 8)) {
        case 0: /* flip a bit */
            if (size > 0)
                out[below(&rng, size)] ^= (uint8_t)(1u << below(&rng, 8));
            break;
        case 1: /* overwrite with an interesting byte (NUL included) */
            if (size > 0)
                out[below(&rng, size)] =
                    (uint8_t)interesting_bytes[below(&rng, sizeof(interesting_bytes))];
            break;
        case 2:
        case 3: { /* insert a fragment */
            const char *f = fragments[below(&rng, sizeof(fragments) / sizeof(fragments[0]))];
            size_t flen = strlen(f);

            if (size + flen > SMOKE_MAX_INPUT)
                break;
            memmove(out + pos + flen, out + pos, size - pos);
            memcpy(out + pos, f, flen);
            size += flen;
            break;
        }
        case 4: /* delete a run */
            n = 1 + below(&rng, 8);
            if (pos + n > size)
                n = size - pos;
            memmove(out + pos, out + pos + n, size - pos - n);
            size -= n;
            break;
        case 5: { /* copy a chunk elsewhere */
            size_t from = below(&rng, size + 1), len = below(&rng, 32);

            if (from + len > size)
                len = size - from;
            if (size + len > SMOKE_MAX_INPUT)
                break;
            memmove(out + pos + len, out + pos, size - pos);
            memmove(out + pos, out + (from >= pos ? from + len : from), len);
            size += len;
            break;
        }
        case 6: /* truncate */
            size = pos;
            break;
        case 7: { /* nest: wrap a value in many brackets */
            size_t depth = 1 + below(&rng, 2100);

            if (size + 2 * depth > SMOKE_MAX_INPUT)
                break;
            memmove(out + depth, out, size);
            memset(out, '[', depth);
            memset(out + depth + size, ']', depth);
            size += 2 * depth;
            break;
        }
        }
    }
    return size;
}

int main(int argc, char **argv)
{
    const char *dir = XENSIM_SOURCE_DIR "/tests/jsonschema/data", *dump_file = NULL;
    uint64_t seed = 0x5eedu;
    unsigned long runs = 4000, only = 0, i;
    int has_only = 0, a;
    struct corpus c = {0};
    uint8_t *buf;
    size_t size, src;

    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--dir") == 0 && a + 1 < argc) {
            dir = argv[++a];
        } else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) {
            seed = strtoull(argv[++a], NULL, 0);
        } else if (strcmp(argv[a], "--runs") == 0 && a + 1 < argc) {
            runs = strtoul(argv[++a], NULL, 0);
        } else if (strcmp(argv[a], "--only") == 0 && a + 1 < argc) {
            only = strtoul(argv[++a], NULL, 0);
            has_only = 1;
        } else if (strcmp(argv[a], "--dump") == 0 && a + 2 < argc) {
            only = strtoul(argv[++a], NULL, 0);
            dump_file = argv[++a];
            has_only = 1;
        } else {
            fprintf(stderr,
                    "usage: %s [--dir DIR] [--seed N] [--runs N] [--only I] [--dump I FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    if (load_corpus(dir, &c) != 0 || c.n == 0) {
        fprintf(stderr, "fuzz_smoke: no .json files in %s\n", dir);
        free_corpus(&c);
        return 1;
    }
    signal(SIGSEGV, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGBUS, on_fatal);
    signal(SIGFPE, on_fatal);
    if (__sanitizer_set_death_callback != NULL)
        __sanitizer_set_death_callback(print_replay);
    buf = malloc(SMOKE_MAX_INPUT);
    if (buf == NULL)
        return 1;
    if (!has_only) {
        for (i = 0; i < c.n; i++) {
            snprintf(replay_line, sizeof(replay_line), "fuzz_smoke: died on corpus file %s\n",
                     c.in[i].name);
            LLVMFuzzerTestOneInput(c.in[i].data, c.in[i].size);
        }
    }
    for (i = has_only ? only : 0; has_only ? i == only : i < runs; i++) {
        size = mutate(&c, seed, i, buf, &src);
        snprintf(replay_line, sizeof(replay_line),
                 "fuzz_smoke: died on mutation %lu of %s (seed %#llx); replay: %s --seed %#llx "
                 "--only %lu, or --dump %lu FILE for the libFuzzer binary\n",
                 i, c.in[src].name, (unsigned long long)seed, argv[0], (unsigned long long)seed, i,
                 i);
        if (dump_file != NULL) {
            FILE *f = fopen(dump_file, "wb");

            if (f == NULL || fwrite(buf, 1, size, f) != size) {
                fprintf(stderr, "fuzz_smoke: cannot write %s\n", dump_file);
                return 1;
            }
            fclose(f);
            break;
        }
        LLVMFuzzerTestOneInput(buf, size);
    }
    printf("fuzz_smoke: %zu files and %lu mutations (seed %#llx) ran clean\n", has_only ? 0 : c.n,
           has_only ? 1 : runs, (unsigned long long)seed);
    free(buf);
    free_corpus(&c);
    return 0;
}
