/*
 * fuzz_jsonschema.c - libFuzzer entry point for the JSON loader and schema
 * checks. Built as a libFuzzer target with XENSIM_FUZZ=ON (clang), and linked
 * into fuzz_smoke_jsonschema, which runs it over tests/jsonschema/data and
 * deterministic mutations of it without libFuzzer.
 *
 * Beyond "no crash, no leak", it checks that the position index agrees with
 * the text: every node's recorded position must point at the first byte of a
 * token of the node's type, and every schema error must carry a position.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "scenario/jsonschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Byte offset of each character, and the character index of each line start,
 * counted as the index counts (lines at '\n', columns in UTF-8 characters). */
struct text_map {
    size_t *char_off, nchars;
    size_t *line_start, nlines;
    const uint8_t *data;
    size_t size;
};

static void die(const char *what, int line, int column)
{
    fprintf(stderr, "fuzz_jsonschema: %s (at %d:%d)\n", what, line, column);
    abort();
}

static int map_init(struct text_map *m, const uint8_t *data, size_t size)
{
    size_t i;

    memset(m, 0, sizeof(*m));
    m->data = data;
    m->size = size;
    m->char_off = malloc((size + 1) * sizeof(size_t));
    m->line_start = malloc((size + 2) * sizeof(size_t));
    if (m->char_off == NULL || m->line_start == NULL)
        return -ENOMEM;
    m->line_start[m->nlines++] = 0;
    for (i = 0; i < size; i++) {
        if ((data[i] & 0xc0) != 0x80)
            m->char_off[m->nchars++] = i;
        if (data[i] == '\n')
            m->line_start[m->nlines++] = m->nchars;
    }
    return 0;
}

static void map_free(struct text_map *m)
{
    free(m->char_off);
    free(m->line_start);
}

/* The byte at (line, column), or die. */
static uint8_t byte_at(const struct text_map *m, int line, int column)
{
    size_t ch;

    if (line < 1 || column < 1 || (size_t)line > m->nlines)
        die("position outside the text", line, column);
    ch = m->line_start[line - 1] + (size_t)column - 1;
    if (ch >= m->nchars)
        die("position past the end", line, column);
    return m->data[m->char_off[ch]];
}

static void expect_token(const struct text_map *m, const json_t *node, int line, int column)
{
    uint8_t b = byte_at(m, line, column);
    int ok = 0;

    switch (json_typeof(node)) {
    case JSON_OBJECT:
        ok = b == '{';
        break;
    case JSON_ARRAY:
        ok = b == '[';
        break;
    case JSON_STRING:
        ok = b == '"';
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        ok = b == '-' || (b >= '0' && b <= '9');
        break;
    case JSON_TRUE:
        ok = b == 't';
        break;
    case JSON_FALSE:
        ok = b == 'f';
        break;
    case JSON_NULL:
        ok = b == 'n';
        break;
    }
    if (!ok)
        die("position does not start a token of the node's type", line, column);
}

/* Check the positions of `node` (found at line:column) and everything below. */
static void verify(const struct xsim_json_doc *doc, const struct text_map *m, const json_t *node,
                   int line, int column)
{
    int l2, c2;
    size_t i;
    const char *key;
    json_t *v;

    expect_token(m, node, line, column);
    if (!json_is_true(node) && !json_is_false(node) && !json_is_null(node)) {
        if (xsim_json_pos(doc, node, &l2, &c2) != 0 || l2 != line || c2 != column)
            die("node and parent disagree on a position", line, column);
    }
    if (json_is_array(node)) {
        for (i = 0; i < json_array_size(node); i++) {
            if (xsim_json_elem_pos(doc, node, i, &l2, &c2) != 0)
                die("element without a position", line, column);
            verify(doc, m, json_array_get(node, i), l2, c2);
        }
    } else if (json_is_object(node)) {
        json_object_foreach((json_t *)node, key, v)
        {
            if (xsim_json_key_pos(doc, node, key, &l2, &c2) != 0 || byte_at(m, l2, c2) != '"')
                die("key without a position", line, column);
            if (xsim_json_member_pos(doc, node, key, &l2, &c2) != 0)
                die("member without a position", line, column);
            verify(doc, m, v, l2, c2);
        }
    }
}

/* Strings of the input as durations and rates: no crash, and what
 * xsim_format_duration writes reads back. */
static void try_units(const uint8_t *data, size_t size)
{
    char text[64], buf[64], why[128];
    uint64_t ns, back;
    double rate;

    if (size >= sizeof(text))
        size = sizeof(text) - 1;
    memcpy(text, data, size);
    text[size] = '\0';
    if (xsim_parse_duration_ns(text, &ns, why, sizeof(why)) == 0) {
        if (xsim_parse_duration_ns(xsim_format_duration(ns, buf, sizeof(buf)), &back, why,
                                   sizeof(why)) != 0 ||
            back != ns)
            die("a formatted duration does not read back", 0, 0);
    }
    xsim_parse_rate_per_s(text, &rate, why, sizeof(why));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xsim_json_doc doc;
    struct xsim_error err;
    struct fx_scenario s;
    struct text_map m;
    char out[1024];
    int rc;

    try_units(data, size);
    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_buffer(&doc, "fuzz.json", (const char *)data, size, &err);
    if (rc == -EPROTO)
        die(err.text, 0, 0); /* jansson accepted what the index could not follow */
    if (rc != 0) {
        if (rc != -EINVAL && rc != -ENOMEM && rc != -EFBIG)
            die("unexpected error code", rc, 0);
        xsim_error_format(&err, out, sizeof(out));
        return 0;
    }
    if (map_init(&m, data, size) == 0) {
        int line, column;

        if (xsim_json_pos(&doc, doc.root, &line, &column) != 0)
            die("root without a position", 0, 0);
        verify(&doc, &m, doc.root, line, column);
    }
    map_free(&m);
    fx_scenario_defaults(&s);
    rc = xsim_schema_check(&doc, NULL, &fx_scenario_schema, "", &s, &err);
    if (rc != 0 && (rc != -EINVAL || err.line < 1 || err.column < 1))
        die("schema error without a position", err.line, err.column);
    if (rc != 0)
        xsim_error_format(&err, out, sizeof(out));
    rc = xsim_schema_check(&doc, NULL, &fx_scenario_schema, "", NULL, &err);
    if (rc != 0 && (rc != -EINVAL || err.line < 1 || err.column < 1))
        die("schema error without a position (validating)", err.line, err.column);
    xsim_json_doc_close(&doc);
    return 0;
}
