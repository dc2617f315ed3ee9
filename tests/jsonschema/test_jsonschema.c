/*
 * test_jsonschema.c - the JSON loader with positions and the schema checks:
 * a table of bad files with the exact line, column and message each must
 * give, good files that fill a struct, the position index, units, schema
 * self-checks and allocation failures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "scenario/jsonschema.h"

#define DATA_DIR XENSIM_SOURCE_DIR "/tests/jsonschema/data/"

struct bad_case {
    const char *file;
    int line, column;
    const char *text;          /* a substring of the message */
    bool fill_only;            /* the error comes from the target's capacity */
    const char *validate_text; /* when only validating, if it differs */
};

/* Each case fails with -EINVAL at line:column with `text` in the message;
 * FILL cases only when the struct is filled (the limit is a member's size);
 * VALIDATE cases say something else when only validating. */
// clang-format off
#define BAD(f, l, c, t) {f, l, c, t, false, NULL}
#define BAD_FILL(f, l, c, t) {f, l, c, t, true, NULL}
#define BAD_VALIDATE(f, l, c, t, vt) {f, l, c, t, false, vt}
// clang-format on

static const struct bad_case bad_cases[] = {
    /* Syntax, as jansson reports it. */
    BAD("bad_syntax_missing_comma.json", 3, 11, "invalid JSON: '}' expected near '\"machine\"'"),
    BAD("bad_trailing_comma.json", 4, 1, "invalid JSON: string or '}' expected near '}'"),
    BAD("bad_duplicate_key.json", 3, 33,
        "duplicate object key near '\"vcpus\"'; expected each key at most once per object"),
    BAD("bad_huge_integer.json", 3, 30,
        "too big integer near '99999999999999999999'; expected an integer in "
        "[-9223372036854775808, 9223372036854775807] (write larger unsigned values as a string"),
    BAD("bad_huge_real.json", 3, 15,
        "real number overflow near '1e999'; expected a number within the range of a double"),
    BAD("bad_empty.json", 1, 1, "empty document; expected a JSON value"),
    BAD("bad_whitespace_only.json", 3, 1, "empty document; expected a JSON value"),
    BAD("bad_non_utf8.json", 2, 15, "unable to decode byte 0xe9"),
    BAD("bad_nul_byte.json", 3, 12, "NUL byte in the text; expected UTF-8 JSON text"),
    BAD("bad_bom.json", 1, 1, "UTF-8 byte order mark; expected JSON text without one"),
    BAD("bad_trailing_garbage.json", 2, 1, "end of file expected near '{'"),
    BAD("bad_raw_newline_in_string.json", 1, 14, "unexpected newline"),
    BAD("bad_deep_nesting.json", 2, 2058,
        "maximum parsing depth reached near '['; expected at most 2048 nested"),
    /* Schema. */
    BAD("bad_unknown_key_suggest.json", 4, 5,
        "unknown key 'vcpu' in 'machine'; did you mean 'vcpus'?"),
    BAD("bad_unknown_key_nomatch.json", 5, 5,
        "unknown key 'frobnicate' in 'machine'; expected one of: vcpus, memory_mb, callback, "
        "apicv, ports"),
    BAD("bad_unknown_key_top_case.json", 3, 3,
        "unknown key 'Machine' at top level; did you mean 'machine'?"),
    BAD("bad_wrong_type.json", 3, 24,
        "'machine.vcpus' must be an integer in [1, 128], got \"four\""),
    BAD("bad_range_low.json", 3, 24, "'machine.vcpus' must be an integer in [1, 128], got 0"),
    BAD("bad_range_high.json", 3, 24, "'machine.vcpus' must be an integer in [1, 128], got 500"),
    BAD("bad_non_integer.json", 3, 24, "'machine.vcpus' must be an integer in [1, 128], got 1.5"),
    BAD("bad_missing_required.json", 3, 14,
        "missing required key 'vcpus' in 'machine'; expected an integer in [1, 128]"),
    BAD("bad_missing_required_top.json", 1, 1,
        "missing required key 'machine' at top level; expected an object"),
    BAD("bad_enum_suggest.json", 3, 39,
        "'machine.callback' must be one of \"vector\", \"irq\", \"percpu\", got \"vectr\"; did you "
        "mean \"vector\"?"),
    BAD("bad_enum_nomatch.json", 3, 39,
        "'machine.callback' must be one of \"vector\", \"irq\", \"percpu\", got \"msi\""),
    BAD("bad_nested_array.json", 7, 27,
        "'workloads[2].rate' must be a rate in [0/s, 1000000000/s] such as \"1000/s\" or "
        "\"2.5M/s\", got \"fast\" (it does not start with a number)"),
    BAD("bad_nested_object.json", 3, 36, "'machine.apicv' must be true or false, got \"yes\""),
    BAD("bad_element_not_object.json", 4, 17, "'workloads[0]' must be an object, got 1"),
    BAD_FILL("bad_array_capacity.json", 4, 16,
             "'workloads' must be an array of 1 to 4 elements, got an array of 5 elements"),
    BAD_VALIDATE("bad_array_empty.json", 4, 16,
                 "'workloads' must be an array of 1 to 4 elements, got an array of 0 elements",
                 "'workloads' must be an array of 1 to 100 elements, got an array of 0 elements"),
    BAD("bad_duration_unit.json", 4, 11,
        "'tick' must be a duration in [1us, 1s] such as \"10ms\" or \"2.5us\", got \"10mss\" "
        "(unknown unit 'mss'; expected ns, us, ms or s)"),
    BAD("bad_duration_range.json", 4, 11,
        "'tick' must be a duration in [1us, 1s] such as \"10ms\" or \"2.5us\", got \"5s\""),
    BAD("bad_uint64_string_overflow.json", 4, 11,
        "'seed' must be an unsigned integer, got \"18446744073709551616\" (more than 64 bits)"),
    BAD("bad_width_range.json", 3, 36,
        "'machine.ports' must be an integer in [0, 65535], got 65536"),
    BAD("bad_map_value.json", 4, 39,
        "'costs.exit' must be an integer in [0, 1000000000000], got -1"),
    BAD("bad_map_nested_suggest.json", 4, 31,
        "unknown key 'sourc' in 'costs.exit'; did you mean 'source'?"),
    BAD("bad_setter_unknown_cost.json", 4, 23,
        "unknown cost 'vmexit'; expected hypercall, exit, inject or other"),
    BAD_FILL("bad_map_key_too_long.json", 4, 14,
             "key 'toolongkey' in 'limits' is too long; expected at most 7 bytes"),
    BAD("bad_map_odd_key.json", 4, 21,
        "'limits[\"a.b\"]' must be an integer in [0, 4294967295], got \"x\" (a string must hold "
        "decimal or 0x digits)"),
    BAD("bad_setter.json", 4, 12, "'extra' must not be \"bad\""),
    BAD("bad_finish_rule.json", 4, 41, "'workloads[0].weight' needs a 'rate'"),
    BAD("bad_root_not_object.json", 1, 1, "the top level must be an object, got an array"),
    BAD_FILL(
        "bad_string_too_long.json", 2, 11,
        "'name' must be a string of at most 31 bytes, got \"this name is longer than thirty-one "
        "byte...\" (41 bytes)"),
    BAD("bad_scalar_element.json", 4, 20, "'levels[2]' must be an integer in [-5, 5], got -6"),
    BAD("bad_utf8_column.json", 4, 41,
        "'workloads[0].vcpu' must be an integer in [-1, 127], got 128"),
    BAD("bad_crlf_tabs.json", 4, 10, "'load' must be a number in [0, 1], got null"),
    BAD("bad_tag_empty.json", 4, 18,
        "'tags[1]' must be a string of 1 to 8 bytes, got \"\" (0 bytes)"),

};

/* Load `file` and check it against the fixture schema, filling a struct or
 * (target NULL) only validating. */
static int load_and_check(const char *file, bool fill, struct fx_scenario *s,
                          struct xsim_error *err)
{
    struct xsim_json_doc doc;
    char path[512];
    int rc;

    snprintf(path, sizeof(path), "%s%s", DATA_DIR, file);
    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_file(&doc, path, err);
    if (rc == 0)
        rc = xsim_schema_check(&doc, NULL, &fx_scenario_schema, "", fill ? s : NULL, err);
    xsim_json_doc_close(&doc);
    return rc;
}

static void expect_case(const struct bad_case *c, bool fill)
{
    struct fx_scenario s;
    struct xsim_error err;
    char formatted[1024], prefix[64];
    size_t flen = strlen(c->file);
    const char *want = c->text;
    int rc;

    memset(&err, 0, sizeof(err));
    fx_scenario_defaults(&s);
    rc = load_and_check(c->file, fill, &s, &err);
    if (!fill && c->fill_only) {
        assert_int_equal(rc, 0);
        return;
    }
    if (!fill && c->validate_text != NULL)
        want = c->validate_text;
    if (rc != -EINVAL || err.line != c->line || err.column != c->column ||
        strstr(err.text, want) == NULL)
        fail_msg("%s (%s): want rc %d at %d:%d with \"%s\"\n  got rc %d at %d:%d: %s", c->file,
                 fill ? "fill" : "validate", -EINVAL, c->line, c->column, want, rc, err.line,
                 err.column, err.text);
    /* The file name is the path given, and the format is FILE:LINE:COL: text. */
    assert_true(strlen(err.file) >= flen);
    assert_string_equal(err.file + strlen(err.file) - flen, c->file);
    xsim_error_format(&err, formatted, sizeof(formatted));
    snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", c->file, c->line, c->column);
    assert_non_null(strstr(formatted, prefix));
}

static void test_bad_files(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        expect_case(&bad_cases[i], true);
        expect_case(&bad_cases[i], false);
    }
}

static void test_good_full(void **state)
{
    struct xsim_json_doc doc;
    struct xsim_error err = {0};
    struct fx_scenario s;
    int rc;

    fx_scenario_defaults(&s);
    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_file(&doc, DATA_DIR "good_full.json", &err);
    assert_int_equal(rc, 0);
    rc = xsim_schema_check(&doc, NULL, &fx_scenario_schema, "", &s, &err);
    if (rc != 0)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.text);
    assert_string_equal(s.name, "two-vcpu-timers");
    /* Borrowed: valid while the doc is open. */
    assert_string_equal(s.description, "PV timers on two vCPUs, na\xc3\xafve pinning");
    assert_true(s.seed == UINT64_MAX);
    assert_true(s.offset == -42);
    assert_true(s.tick_ns == 2500);
    assert_true(s.load == 0.75);
    assert_int_equal(s.machine.vcpus, 2);
    assert_true(s.machine.memory_mb == 2048);
    assert_int_equal(s.machine.callback, FX_CB_PERCPU);
    assert_true(s.machine.apicv);
    assert_int_equal(s.machine.ports, 65535);
    assert_int_equal(s.nworkloads, 3);
    assert_string_equal(s.workloads[0].name, "timer");
    assert_true(s.workloads[0].rate_per_s == 1000.0);
    assert_true(s.workloads[0].period_ns == 10000000);
    assert_true(s.workloads[0].weight == 0.5f);
    assert_int_equal(s.workloads[0].vcpu, -1);
    assert_string_equal(s.workloads[1].name, "ipi");
    assert_true(s.workloads[1].rate_per_s == 2.5e6);
    assert_true(s.workloads[1].period_ns == 100);
    assert_int_equal(s.workloads[1].vcpu, 0);
    assert_string_equal(s.workloads[2].name, "disk");
    assert_true(s.workloads[2].rate_per_s == 50.0);
    assert_true(s.workloads[2].period_ns == 1000000000);
    assert_int_equal(s.workloads[2].vcpu, 127);
    assert_int_equal(s.nlevels, 3);
    assert_int_equal(s.levels[0], -5);
    assert_int_equal(s.levels[1], 0);
    assert_int_equal(s.levels[2], 5);
    assert_int_equal(s.nlimits, 2);
    assert_string_equal(s.limits[0].name, "rings");
    assert_int_equal(s.limits[0].value, 16);
    assert_string_equal(s.limits[1].name, "pages");
    assert_true(s.limits[1].value == 4294967295u);
    assert_int_equal(s.ncosts, 2);
    assert_true(s.costs[0] == 700);
    assert_true(s.costs[1] == 2400);
    assert_int_equal(s.extras_seen, 1);
    /* Validation only gives the same verdict. */
    assert_int_equal(xsim_schema_check(&doc, NULL, &fx_scenario_schema, "", NULL, &err), 0);
    xsim_json_doc_close(&doc);
}

static void test_good_minimal(void **state)
{
    struct xsim_error err = {0};
    struct fx_scenario s;

    fx_scenario_defaults(&s);
    assert_int_equal(load_and_check("good_minimal.json", true, &s, &err), 0);
    assert_string_equal(s.name, "x");
    assert_int_equal(s.machine.vcpus, 1);
    assert_true(s.seed == INT64_MAX);
    /* Absent keys keep their defaults. */
    assert_true(s.machine.memory_mb == 1024);
    assert_true(s.tick_ns == 1000000);
    assert_int_equal(s.nworkloads, 0);
    assert_null(s.description);
}

/* line and column are read through pointers: the lookup in the same call
 * expression must have stored them first. */
static void expect_pos(int rc, const int *line, const int *column, int want_line, int want_column)
{
    assert_int_equal(rc, 0);
    assert_int_equal(*line, want_line);
    assert_int_equal(*column, want_column);
}

static void test_positions(void **state)
{
    static const char text[] = "{\"a\": [1, true, null, \"s\"],\n"
                               " \"b\\u00e9\": {\"\xc3\xa9\": false, \"n\": -1.5e3},\n"
                               "\t\"c\": []}";
    struct xsim_json_doc doc;
    struct xsim_error err = {0};
    json_t *a, *b, *c, *foreign;
    int line = 0, column = 0;

    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, NULL, text, strlen(text), &err), 0);
    expect_pos(xsim_json_pos(&doc, doc.root, &line, &column), &line, &column, 1, 1);
    a = json_object_get(doc.root, "a");
    b = json_object_get(doc.root, "b\xc3\xa9");
    c = json_object_get(doc.root, "c");
    expect_pos(xsim_json_key_pos(&doc, doc.root, "a", &line, &column), &line, &column, 1, 2);
    expect_pos(xsim_json_member_pos(&doc, doc.root, "a", &line, &column), &line, &column, 1, 7);
    expect_pos(xsim_json_pos(&doc, a, &line, &column), &line, &column, 1, 7);
    expect_pos(xsim_json_elem_pos(&doc, a, 0, &line, &column), &line, &column, 1, 8);
    expect_pos(xsim_json_pos(&doc, json_array_get(a, 0), &line, &column), &line, &column, 1, 8);
    expect_pos(xsim_json_elem_pos(&doc, a, 1, &line, &column), &line, &column, 1, 11);
    expect_pos(xsim_json_elem_pos(&doc, a, 2, &line, &column), &line, &column, 1, 17);
    expect_pos(xsim_json_elem_pos(&doc, a, 3, &line, &column), &line, &column, 1, 23);
    expect_pos(xsim_json_pos(&doc, json_array_get(a, 3), &line, &column), &line, &column, 1, 23);
    /* true, false and null are shared singletons: only their parent knows. */
    assert_int_equal(xsim_json_pos(&doc, json_array_get(a, 1), &line, &column), -ENOENT);
    assert_int_equal(xsim_json_elem_pos(&doc, a, 4, &line, &column), -ENOENT);
    /* An escaped key; columns count characters, not bytes. */
    expect_pos(xsim_json_key_pos(&doc, doc.root, "b\xc3\xa9", &line, &column), &line, &column, 2,
               2);
    expect_pos(xsim_json_pos(&doc, b, &line, &column), &line, &column, 2, 13);
    expect_pos(xsim_json_key_pos(&doc, b, "\xc3\xa9", &line, &column), &line, &column, 2, 14);
    expect_pos(xsim_json_member_pos(&doc, b, "\xc3\xa9", &line, &column), &line, &column, 2, 19);
    expect_pos(xsim_json_key_pos(&doc, b, "n", &line, &column), &line, &column, 2, 26);
    expect_pos(xsim_json_pos(&doc, json_object_get(b, "n"), &line, &column), &line, &column, 2, 31);
    expect_pos(xsim_json_key_pos(&doc, doc.root, "c", &line, &column), &line, &column, 3, 2);
    expect_pos(xsim_json_pos(&doc, c, &line, &column), &line, &column, 3, 7);
    assert_int_equal(xsim_json_elem_pos(&doc, c, 0, &line, &column), -ENOENT);
    assert_int_equal(xsim_json_key_pos(&doc, doc.root, "zz", &line, &column), -ENOENT);
    assert_int_equal(xsim_json_key_pos(&doc, a, "a", &line, &column), -ENOENT);
    assert_int_equal(xsim_json_elem_pos(&doc, b, 0, &line, &column), -ENOENT);
    foreign = json_integer(5);
    assert_int_equal(xsim_json_pos(&doc, foreign, &line, &column), -ENOENT);
    json_decref(foreign);
    assert_int_equal(xsim_json_pos(&doc, NULL, &line, &column), -EINVAL);
    assert_string_equal(doc.name, "<string>");
    xsim_json_doc_close(&doc);

    /* A scalar root, even a singleton, has a position. */
    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, "t", "\n  true ", 8, &err), 0);
    expect_pos(xsim_json_pos(&doc, doc.root, &line, &column), &line, &column, 2, 3);
    xsim_json_doc_close(&doc);
}

static void test_error_at(void **state)
{
    struct xsim_json_doc doc;
    struct xsim_error err = {0};
    char buf[256];

    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, "s.json", "{}", 2, &err), 0);
    assert_int_equal(xsim_json_error_at(&doc, 3, 4, &err, "vcpu %d unknown", 7), -EINVAL);
    assert_string_equal(xsim_error_format(&err, buf, sizeof(buf)), "s.json:3:4: vcpu 7 unknown");
    xsim_json_doc_close(&doc);
}

static void test_file_errors(void **state)
{
    struct xsim_json_doc doc;
    struct xsim_error err = {0};

    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_file(&doc, DATA_DIR "no-such-file.json", &err), -ENOENT);
    assert_non_null(strstr(err.text, "cannot open"));
    assert_int_equal(err.line, 0);
    assert_non_null(strstr(err.file, "no-such-file.json"));
    xsim_json_doc_close(&doc);

    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_file(&doc, DATA_DIR, &err), -EISDIR);
    assert_non_null(strstr(err.text, "cannot read"));
    xsim_json_doc_close(&doc);

    /* One load per doc; close is idempotent and allows another load. */
    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, "a", "[]", 2, &err), 0);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, "b", "[]", 2, &err), -EBUSY);
    xsim_json_doc_close(&doc);
    xsim_json_doc_close(&doc);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, "c", "{}", 2, &err), 0);
    assert_string_equal(doc.name, "c");
    xsim_json_doc_close(&doc);

    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, "n", NULL, 3, &err), -EINVAL);
    assert_int_equal(xsim_json_doc_load_buffer(&doc, "n", NULL, 0, &err), -EINVAL);
    assert_non_null(strstr(err.text, "empty document"));
    xsim_json_doc_close(&doc);
}

/* Check `text` against `schema`; return the message (static buffer). */
static const char *check_text(const char *text, const struct xsim_schema *schema, int *rc)
{
    static char out[1200];
    struct xsim_json_doc doc;
    struct xsim_error err = {0};

    xsim_json_doc_init(&doc, NULL);
    *rc = xsim_json_doc_load_buffer(&doc, "t.json", text, strlen(text), &err);
    if (*rc == 0)
        *rc = xsim_schema_check(&doc, NULL, schema, "", NULL, &err);
    xsim_json_doc_close(&doc);
    xsim_error_format(&err, out, sizeof(out));
    return *rc == 0 ? "" : out;
}

static const struct xsim_schema_field suggest_fields[] = {
    {.name = "vcpus", .type = XSIM_SCHEMA_ANY},
    {.name = "memory_mb", .type = XSIM_SCHEMA_ANY},
    {.name = "callback", .type = XSIM_SCHEMA_ANY},
    {.name = "id", .type = XSIM_SCHEMA_ANY},
};
static const struct xsim_schema suggest_schema = XSIM_SCHEMA("s", suggest_fields);

static void expect_msg(const char *text, const struct xsim_schema *schema, const char *want)
{
    int rc;
    const char *got = check_text(text, schema, &rc);

    if (strstr(got, want) == NULL)
        fail_msg("%s\n  want \"%s\"\n  got  \"%s\"", text, want, got);
}

static void test_suggestions(void **state)
{
    char longkey[300];

    expect_msg("{\"VCPUS\": 1}", &suggest_schema,
               "t.json:1:2: unknown key 'VCPUS' at top level; "
               "did you mean 'vcpus'?");
    expect_msg("{\"vpcus\": 1}", &suggest_schema, "did you mean 'vcpus'?");
    expect_msg("{\"memorymb\": 1}", &suggest_schema, "did you mean 'memory_mb'?");
    expect_msg("{\"callbak\": 1}", &suggest_schema, "did you mean 'callback'?");
    expect_msg("{\"memory_size\": 1}", &suggest_schema,
               "unknown key 'memory_size' at top level; expected one of: vcpus, memory_mb, "
               "callback, id");
    /* Too short to guess from. */
    expect_msg("{\"x\": 1}", &suggest_schema, "unknown key 'x' at top level; expected one of");
    expect_msg("{\"ix\": 1}", &suggest_schema, "did you mean 'id'?");
    expect_msg("{\"\": 1}", &suggest_schema, "unknown key '' at top level; expected one of");
    /* Control characters are escaped, long keys cut. */
    expect_msg("{\"a\\u0001b\": 1}", &suggest_schema, "unknown key 'a\\x01b'");
    memset(longkey, 'k', sizeof(longkey));
    memcpy(longkey, "{\"", 2);
    memcpy(longkey + 250, "\": 1}", 6);
    expect_msg(longkey, &suggest_schema, "kkkkkkkk...' at top level; expected one of");
}

/* A schema that contains itself: nesting as deep as the text goes. */
static const struct xsim_schema node_schema;
static const struct xsim_schema_field node_fields[] = {
    {.name = "child", .type = XSIM_SCHEMA_OBJECT, .sub = &node_schema},
    {.name = "v", .type = XSIM_SCHEMA_INT, .min = 0, .max = 1},
};
static const struct xsim_schema node_schema = XSIM_SCHEMA("node", node_fields);

static void test_deep_recursive_schema(void **state)
{
    const size_t levels = 2000, head = 9; /* {"child": */
    size_t len = levels * head + 8 + levels, o = 0, i;
    char *text = malloc(len + 1), want[64];
    int rc;
    const char *msg;

    assert_non_null(text);
    for (i = 0; i < levels; i++, o += head)
        memcpy(text + o, "{\"child\":", head);
    memcpy(text + o, "{\"v\": 5}", 8);
    o += 8;
    memset(text + o, '}', levels);
    text[len] = '\0';
    msg = check_text(text, &node_schema, &rc);
    assert_int_equal(rc, -EINVAL);
    /* The path is cut, the position is exact. */
    snprintf(want, sizeof(want), "t.json:1:%zu: 'child.child.child.", levels * head + 7);
    if (strstr(msg, want) == NULL ||
        strstr(msg, "...' must be an integer in [0, 1], got 5") == NULL)
        fail_msg("got %s", msg);
    free(text);
}

static void test_uint64_and_numbers(void **state)
{
    static const struct xsim_schema_field f[] = {
        {.name = "u", .type = XSIM_SCHEMA_UINT64, .offset = 0, .size = 8},
        {.name = "i", .type = XSIM_SCHEMA_INT, .offset = 8, .size = 8},
        {.name = "d", .type = XSIM_SCHEMA_DOUBLE, .offset = 16, .size = 8},
        {.name = "b", .type = XSIM_SCHEMA_BOOL, .offset = 24, .size = 1},
    };
    static const struct xsim_schema s = XSIM_SCHEMA("n", f);
    struct {
        uint64_t u;
        int64_t i;
        double d;
        bool b;
    } t;
    static const struct {
        const char *text;
        int rc;
        uint64_t u;
        int64_t i;
        double d;
    } cases[] = {
        {"{\"u\": \"0xFFFFFFFFFFFFFFFF\"}", 0, UINT64_MAX, 0, 0},
        {"{\"u\": \"18446744073709551615\"}", 0, UINT64_MAX, 0, 0},
        {"{\"u\": 9223372036854775807}", 0, INT64_MAX, 0, 0},
        {"{\"u\": 1e3}", 0, 1000, 0, 0},
        {"{\"u\": 1.5e19}", 0, 15000000000000000000u, 0, 0},
        {"{\"u\": \"0x\"}", -EINVAL, 0, 0, 0},
        {"{\"u\": \"12a\"}", -EINVAL, 0, 0, 0},
        {"{\"u\": \"-1\"}", -EINVAL, 0, 0, 0},
        {"{\"u\": -1}", -EINVAL, 0, 0, 0},
        {"{\"u\": 2e19}", -EINVAL, 0, 0, 0},
        {"{\"i\": -9223372036854775808}", 0, 0, INT64_MIN, 0},
        {"{\"i\": 2.0}", 0, 0, 2, 0},
        {"{\"i\": 1e300}", -EINVAL, 0, 0, 0},
        {"{\"i\": \"1\"}", -EINVAL, 0, 0, 0},
        {"{\"d\": 3}", 0, 0, 0, 3.0},
        {"{\"d\": -0.25}", 0, 0, 0, -0.25},
        {"{\"d\": true}", -EINVAL, 0, 0, 0},
        {"{\"b\": 1}", -EINVAL, 0, 0, 0},
    };
    struct xsim_json_doc doc;
    struct xsim_error err = {0};
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&t, 0, sizeof(t));
        xsim_json_doc_init(&doc, NULL);
        assert_int_equal(
            xsim_json_doc_load_buffer(&doc, "n", cases[i].text, strlen(cases[i].text), &err), 0);
        rc = xsim_schema_check(&doc, NULL, &s, "", &t, &err);
        xsim_json_doc_close(&doc);
        if (rc != cases[i].rc ||
            (rc == 0 && (t.u != cases[i].u || t.i != cases[i].i || t.d != cases[i].d)))
            fail_msg("%s: rc %d (%s)", cases[i].text, rc, err.text);
        if (rc != 0)
            assert_int_equal(err.column, 7);
    }
    expect_msg("{\"b\": 1}", &s, "t.json:1:7: 'b' must be true or false, got 1");
    expect_msg("{\"i\": 1e300}", &s, "'i' must be an integer, got 1e+300");
    expect_msg("{\"u\": 2e19}", &s, "'u' must be an unsigned integer, got 2e+19");
}

static void test_durations(void **state)
{
    static const struct {
        const char *s;
        int rc;
        uint64_t ns;
        const char *why;
    } cases[] = {
        {"10ms", 0, 10000000, NULL},
        {"2.5us", 0, 2500, NULL},
        {"1s", 0, 1000000000, NULL},
        {"100ns", 0, 100, NULL},
        {"100", 0, 100, NULL},
        {" 7 ms ", 0, 7000000, NULL},
        {"1.000000001s", 0, 1000000001, NULL},
        {"0.250000000s", 0, 250000000, NULL},
        {"1\xc2\xb5s", 0, 1000, NULL},
        {"1\xce\xbcs", 0, 1000, NULL},
        {"18446744073709551615", 0, UINT64_MAX, NULL},
        {"18446744073.709551615s", 0, UINT64_MAX, NULL},
        {"0", 0, 0, NULL},
        {"18446744073709551616", -EINVAL, 0, "longer than 18446744073709551615ns"},
        {"18446744073.709551616s", -EINVAL, 0, "longer than"},
        {"0.5ns", -EINVAL, 0, "not a whole number of nanoseconds"},
        {"1.5", -EINVAL, 0, "not a whole number"},
        {"1.0000000001s", -EINVAL, 0, "not a whole number"},
        {"-1ms", -EINVAL, 0, "negative"},
        {"ms", -EINVAL, 0, "does not start with a number"},
        {"", -EINVAL, 0, "does not start with a number"},
        {"1.ms", -EINVAL, 0, "no digits after '.'"},
        {"10mss", -EINVAL, 0, "unknown unit 'mss'; expected ns, us, ms or s"},
        {"1e3ns", -EINVAL, 0, "unknown unit 'e3ns'"},
        {"1 s s", -EINVAL, 0, "unknown unit 's s'"},
    };
    char why[128], buf[64];
    uint64_t ns, back;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ns = 12345;
        why[0] = '\0';
        rc = xsim_parse_duration_ns(cases[i].s, &ns, why, sizeof(why));
        if (rc != cases[i].rc || (rc == 0 && ns != cases[i].ns) ||
            (cases[i].why != NULL && strstr(why, cases[i].why) == NULL))
            fail_msg("\"%s\": rc %d ns %llu why \"%s\"", cases[i].s, rc, (unsigned long long)ns,
                     why);
    }
    assert_int_equal(xsim_parse_duration_ns(NULL, &ns, NULL, 0), -EINVAL);
    assert_string_equal(xsim_format_duration(0, buf, sizeof(buf)), "0ns");
    assert_string_equal(xsim_format_duration(1, buf, sizeof(buf)), "1ns");
    assert_string_equal(xsim_format_duration(1000, buf, sizeof(buf)), "1us");
    assert_string_equal(xsim_format_duration(1500, buf, sizeof(buf)), "1.5us");
    assert_string_equal(xsim_format_duration(2500000000u, buf, sizeof(buf)), "2.5s");
    assert_string_equal(xsim_format_duration(1000001, buf, sizeof(buf)), "1.000001ms");
    assert_string_equal(xsim_format_duration(UINT64_MAX, buf, sizeof(buf)),
                        "18446744073.709551615s");
    /* What is written reads back. */
    for (i = 0, ns = 1; i < 2000; i++, ns = ns * 6364136223846793005u + 1442695040888963407u) {
        uint64_t v = ns >> (i % 64);

        assert_int_equal(xsim_parse_duration_ns(xsim_format_duration(v, buf, sizeof(buf)), &back,
                                                why, sizeof(why)),
                         0);
        assert_true(back == v);
    }
}

static void test_rates(void **state)
{
    static const struct {
        const char *s;
        int rc;
        double per_s;
        const char *why;
    } cases[] = {
        {"1000/s", 0, 1000, NULL},
        {"1k/s", 0, 1000, NULL},
        {"2.5M/s", 0, 2.5e6, NULL},
        {"1G/s", 0, 1e9, NULL},
        {"50Hz", 0, 50, NULL},
        {"1kHz", 0, 1000, NULL},
        {"3/ms", 0, 3000, NULL},
        {"1/us", 0, 1e6, NULL},
        {"2/ns", 0, 2e9, NULL},
        {"7", 0, 7, NULL},
        {"0.5", 0, 0.5, NULL},
        {" 4 k/s ", 0, 4000, NULL},
        {"2k", 0, 2000, NULL},
        {"0.000001/s", 0, 1e-6, NULL},
        {"1x/s", -EINVAL, 0, "unknown unit 'x/s'"},
        {"1K/s", -EINVAL, 0, "unknown unit 'K/s'"},
        {"-1/s", -EINVAL, 0, "negative"},
        {"/s", -EINVAL, 0, "does not start with a number"},
        {"1./s", -EINVAL, 0, "no digits after '.'"},
        {"5ms", -EINVAL, 0, "unknown unit 'ms'"},
    };
    char why[128];
    double v;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = -1;
        why[0] = '\0';
        rc = xsim_parse_rate_per_s(cases[i].s, &v, why, sizeof(why));
        if (rc != cases[i].rc || (rc == 0 && v != cases[i].per_s) ||
            (cases[i].why != NULL && strstr(why, cases[i].why) == NULL))
            fail_msg("\"%s\": rc %d v %g why \"%s\"", cases[i].s, rc, v, why);
    }
    assert_int_equal(xsim_parse_rate_per_s(NULL, &v, NULL, 0), -EINVAL);
}

static void expect_selfcheck(const struct xsim_schema *s, const char *want)
{
    char why[256] = "";
    int rc = xsim_schema_selfcheck(s, why, sizeof(why));

    if (want == NULL) {
        if (rc != 0)
            fail_msg("selfcheck: %s", why);
        return;
    }
    assert_int_equal(rc, -EINVAL);
    if (strstr(why, want) == NULL)
        fail_msg("want \"%s\", got \"%s\"", want, why);
}

struct sc_target {
    int8_t small;
    int32_t x;
    char str[16];
};

#define ONE_FIELD(...)                                                                       \
    (const struct xsim_schema)                                                               \
    {                                                                                        \
        .name = "t", .fields = (const struct xsim_schema_field[]){__VA_ARGS__}, .nfields = 1 \
    }

static void test_selfcheck(void **state)
{
    static const struct xsim_schema_field sub_fields[] = {
        {.name = "far", .type = XSIM_SCHEMA_INT, .offset = 100, .size = 4},
    };
    static const struct xsim_schema sub = XSIM_SCHEMA("sub", sub_fields);
    static const struct xsim_schema_field dup[] = {
        {.name = "a", .type = XSIM_SCHEMA_ANY},
        {.name = "a", .type = XSIM_SCHEMA_BOOL},
    };
    static const struct xsim_schema dup_schema = XSIM_SCHEMA("d", dup);

    expect_selfcheck(&fx_scenario_schema, NULL);
    expect_selfcheck(&node_schema, NULL);
    expect_selfcheck(&suggest_schema, NULL);
    expect_selfcheck(&dup_schema, "name used twice");
    expect_selfcheck(&ONE_FIELD({.name = "x", .type = XSIM_SCHEMA_INT, .offset = 0, .size = 3}),
                     "1, 2, 4 or 8 bytes");
    expect_selfcheck(&ONE_FIELD({.name = "x",
                                 .type = XSIM_SCHEMA_INT,
                                 .min = -1,
                                 .max = 200,
                                 XSIM_MEMBER(struct sc_target, small)}),
                     "bounds do not fit");
    expect_selfcheck(&ONE_FIELD({.name = "x",
                                 .type = XSIM_SCHEMA_INT,
                                 .min = 0,
                                 .max = 255,
                                 XSIM_MEMBER(struct sc_target, small)}),
                     NULL);
    expect_selfcheck(&ONE_FIELD({.name = "x",
                                 .type = XSIM_SCHEMA_UINT64,
                                 .umin = 0,
                                 .umax = 256,
                                 XSIM_MEMBER(struct sc_target, small)}),
                     "bounds do not fit");
    expect_selfcheck(&ONE_FIELD({.name = "x", .type = XSIM_SCHEMA_ENUM}), "ENUM without values");
    expect_selfcheck(&ONE_FIELD({.name = "x", .type = XSIM_SCHEMA_OBJECT}), "without a sub-schema");
    expect_selfcheck(&ONE_FIELD({.name = "x", .type = XSIM_SCHEMA_ARRAY_OF}), "exactly one of");
    expect_selfcheck(
        &ONE_FIELD({.name = "x", .type = XSIM_SCHEMA_OBJECT, .sub = &sub, .offset = 0, .size = 8}),
        "outside its struct");
    expect_selfcheck(&ONE_FIELD({.name = "x", .type = XSIM_SCHEMA_INT, .min = 5, .max = 1}),
                     "lower bound is above");
    expect_selfcheck(&ONE_FIELD({.name = "x",
                                 .type = XSIM_SCHEMA_STRING,
                                 .borrow = true,
                                 XSIM_MEMBER(struct sc_target, str)}),
                     "const char *");
    expect_selfcheck(&ONE_FIELD({.name = "x", .type = XSIM_SCHEMA_DOUBLE, .offset = 0, .size = 2}),
                     "double or a float");
    expect_selfcheck(&ONE_FIELD({.name = NULL, .type = XSIM_SCHEMA_ANY}), "without a name");
    expect_selfcheck(&ONE_FIELD({.name = "x", .type = (enum xsim_schema_type)99}), "unknown type");
}

/* ---- Allocation failures ---- */

struct failing_alloc {
    long countdown; /* fail the allocation that brings it to 0; <0: never */
    long live;
};

static void *failing_resize(void *ctx, void *ptr, size_t size)
{
    struct failing_alloc *fa = ctx;
    void *np;

    if (size == 0) {
        if (ptr != NULL)
            fa->live--;
        free(ptr);
        return NULL;
    }
    if (fa->countdown >= 0 && fa->countdown-- == 0)
        return NULL;
    np = realloc(ptr, size);
    if (np != NULL && ptr == NULL)
        fa->live++;
    return np;
}

static void test_index_alloc_failures(void **state)
{
    struct failing_alloc fa;
    struct xsim_json_alloc alloc = {failing_resize, &fa};
    struct xsim_json_doc doc;
    struct xsim_error err;
    long n;
    int rc = -ENOMEM;

    for (n = 0; rc != 0; n++) {
        fa.countdown = n;
        fa.live = 0;
        xsim_json_doc_init(&doc, &alloc);
        rc = xsim_json_doc_load_file(&doc, DATA_DIR "good_full.json", &err);
        if (rc != 0) {
            assert_int_equal(rc, -ENOMEM);
            assert_non_null(strstr(err.text, "out of memory"));
            assert_null(doc.root);
        }
        xsim_json_doc_close(&doc);
        assert_int_equal(fa.live, 0);
        assert_true(n < 1000);
    }
    assert_true(n > 3);
}

/* jansson's allocator is process-wide; the test owns it for this case only.
 * jansson 2.14 does not always notice its own allocation failures: it may
 * report a bogus syntax error, or build a string with bytes missing. The
 * loader must then fail (-ENOMEM, -EINVAL or -EPROTO), never return a tree
 * that differs from the text. */
static long jansson_countdown = -1, jansson_calls;

static void *jansson_failing_malloc(size_t size)
{
    jansson_calls++;
    if (jansson_countdown >= 0 && jansson_countdown-- == 0)
        return NULL;
    return malloc(size);
}

static void test_jansson_alloc_failures(void **state)
{
    struct xsim_json_doc doc, ref;
    struct xsim_error err;
    long n, total, failed = 0;
    int rc;

    xsim_json_doc_init(&ref, NULL);
    assert_int_equal(xsim_json_doc_load_file(&ref, DATA_DIR "good_full.json", &err), 0);
    json_set_alloc_funcs(jansson_failing_malloc, free);
    jansson_calls = 0;
    xsim_json_doc_init(&doc, NULL);
    assert_int_equal(xsim_json_doc_load_file(&doc, DATA_DIR "good_full.json", &err), 0);
    xsim_json_doc_close(&doc);
    total = jansson_calls;
    for (n = 0; n < total; n++) {
        jansson_countdown = n;
        xsim_json_doc_init(&doc, NULL);
        rc = xsim_json_doc_load_file(&doc, DATA_DIR "good_full.json", &err);
        if (rc == 0)
            assert_true(json_equal(doc.root, ref.root));
        else if (rc != -ENOMEM && rc != -EINVAL && rc != -EPROTO)
            fail_msg("allocation %ld: rc %d (%s)", n, rc, err.text);
        else
            failed++;
        xsim_json_doc_close(&doc);
    }
    jansson_countdown = -1;
    json_set_alloc_funcs(malloc, free);
    xsim_json_doc_close(&ref);
    assert_true(total > 10);
    assert_true(failed > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_good_full),
        cmocka_unit_test(test_good_minimal),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_error_at),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_suggestions),
        cmocka_unit_test(test_deep_recursive_schema),
        cmocka_unit_test(test_uint64_and_numbers),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_selfcheck),
        cmocka_unit_test(test_index_alloc_failures),
        cmocka_unit_test(test_jansson_alloc_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
