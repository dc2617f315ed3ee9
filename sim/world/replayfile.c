/*
 * replayfile.c - writing and reading replay files (see replayfile.h). A
 * replay file is input like any other: every field is checked and a bad
 * one is an error with its position, never a crash.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "scenario/jsonschema.h"
#include "xensim/replayfile.h"

int xsim_replay_write(const char *path, const struct xsim_scenario *s,
                      const struct xsim_report *rep, const struct xsim_choices *choices,
                      struct xsim_error *err)
{
    json_t *o = json_object(), *ch = json_object(), *sw = json_array(), *failed = json_array();
    char digest[17];
    int rc;

    snprintf(digest, sizeof(digest), "%016" PRIx64, rep->digest);
    json_object_set_new(o, "xensim_replay", json_integer(1));
    json_object_set_new(o, "scenario_path", json_string(s->path));
    json_object_set_new(o, "scenario", json_string(s->text != NULL ? s->text : ""));
    json_object_set_new(o, "seed", json_integer((json_int_t)rep->seed));
    json_object_set_new(o, "policy", json_string(rep->policy));
    json_object_set_new(o, "guest", json_string(rep->guest[0] ? rep->guest : "xensim"));
    json_object_set_new(o, "digest", json_string(digest));
    for (size_t i = 0; i < rep->noracles; i++) {
        if (!rep->oracles[i].pass)
            json_array_append_new(failed, json_string(rep->oracles[i].name));
    }
    json_object_set_new(o, "failed", failed);
    json_object_set_new(ch, "decisions", json_integer((json_int_t)choices->decisions));
    for (size_t i = 0; i < choices->n; i++)
        json_array_append_new(sw, json_pack("[II]", (json_int_t)choices->sw[i].decision,
                                            (json_int_t)choices->sw[i].entity));
    json_object_set_new(ch, "switches", sw);
    json_object_set_new(o, "choices", ch);
    rc = json_dump_file(o, path, JSON_INDENT(1));
    json_decref(o);
    if (rc != 0)
        return xsim_error_set(err, path, 0, 0, "cannot write the replay file");
    return 0;
}

/* ---- reading: the replay file's schema ---- */

static int version_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    (void)target;
    if (!json_is_integer(value) || json_integer_value(value) != 1)
        return xsim_schema_fail(ctx, "'xensim_replay' must be 1 (a replay file of this version)");
    return 0;
}

static int scenario_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    struct xsim_replay *r = target;

    if (!json_is_string(value))
        return xsim_schema_fail(ctx, "'scenario' must be the scenario's JSON text");
    if (r == NULL)
        return 0;
    free(r->scenario_text);
    r->scenario_text = strdup(json_string_value(value));
    return r->scenario_text != NULL ? 0 : -ENOMEM;
}

static int digest_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    struct xsim_replay *r = target;
    const char *d = json_is_string(value) ? json_string_value(value) : NULL;
    uint64_t v = 0;
    size_t n = 0;

    for (; d != NULL && d[n] != '\0' && n < 17; n++) {
        char c = d[n];
        unsigned int x = c >= '0' && c <= '9'   ? (unsigned int)(c - '0')
                         : c >= 'a' && c <= 'f' ? (unsigned int)(c - 'a' + 10)
                         : c >= 'A' && c <= 'F' ? (unsigned int)(c - 'A' + 10)
                                                : 16u;
        if (x == 16u)
            break;
        v = v << 4 | x;
    }
    if (d == NULL || n == 0 || n > 16 || d[n] != '\0')
        return xsim_schema_fail(ctx, "'digest' must be the run's digest, 1 to 16 hex digits");
    if (r != NULL)
        r->digest = v;
    return 0;
}

/* "switches": [[decision, entity], ...], decisions strictly increasing;
 * checked against "decisions" in choices_finish, whatever the order. */
static int switches_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    struct xsim_choices *c = target;
    size_t n;

    if (!json_is_array(value))
        return xsim_schema_fail(ctx, "'%s' must be an array of [decision, entity] pairs",
                                xsim_schema_path(ctx));
    n = json_array_size(value);
    if (c != NULL) {
        free(c->sw);
        c->n = c->cap = 0;
        c->sw = calloc(n ? n : 1, sizeof(*c->sw));
        if (c->sw == NULL)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(value, i);
        const json_t *d = json_array_get(e, 0), *en = json_array_get(e, 1);
        bool ok = json_is_array(e) && json_array_size(e) == 2 && json_is_integer(d) &&
                  json_is_integer(en) && json_integer_value(d) >= 0 &&
                  json_integer_value(en) >= 0 && json_integer_value(en) <= XSIM_ENTITY_EVENT;
        if (ok && c != NULL && i > 0 && (uint64_t)json_integer_value(d) <= c->sw[i - 1].decision)
            ok = false;
        if (!ok)
            return xsim_schema_fail_elem(ctx, i,
                                         "'%s[%zu]' must be [decision, entity] with decisions "
                                         "increasing and entity at most %u",
                                         xsim_schema_path(ctx), i, (unsigned int)XSIM_ENTITY_EVENT);
        if (c != NULL) {
            c->sw[i].decision = (uint64_t)json_integer_value(d);
            c->sw[i].entity = (uint32_t)json_integer_value(en);
            c->n = c->cap = i + 1;
        }
    }
    return 0;
}

static int choices_finish(struct xsim_schema_ctx *ctx, const json_t *object, void *target)
{
    const struct xsim_choices *c = target;

    (void)object;
    if (c != NULL && c->n > 0 && c->sw[c->n - 1].decision >= c->decisions)
        return xsim_schema_fail_member(ctx, "switches",
                                       "switch %zu is at decision %" PRIu64
                                       ", not below 'decisions' (%" PRIu64 ")",
                                       c->n - 1, c->sw[c->n - 1].decision, c->decisions);
    return 0;
}

static const struct xsim_schema_field choices_fields[] = {
    {.name = "decisions",
     .type = XSIM_SCHEMA_UINT64,
     .required = true,
     XSIM_MEMBER(struct xsim_choices, decisions),
     .doc = "scheduling decisions the run made"},
    {.name = "switches",
     .type = XSIM_SCHEMA_ANY,
     .required = true,
     .set = switches_set,
     .doc = "[decision, entity]: where the run switched, and to whom"},
};
static const struct xsim_schema choices_schema = {
    .name = "choices",
    .fields = choices_fields,
    .nfields = sizeof(choices_fields) / sizeof(choices_fields[0]),
    .finish = choices_finish,
};

static const struct xsim_schema_field failed_elem = {
    .type = XSIM_SCHEMA_STRING, .min = 1, .max = 47, .size = 48};

static const struct xsim_schema_field replay_fields[] = {
    {.name = "xensim_replay", .type = XSIM_SCHEMA_ANY, .required = true, .set = version_set},
    {.name = "scenario_path",
     .type = XSIM_SCHEMA_STRING,
     .max = 511,
     XSIM_MEMBER(struct xsim_replay, scenario_path),
     .doc = "where the scenario was loaded from (for messages)"},
    {.name = "scenario", .type = XSIM_SCHEMA_ANY, .required = true, .set = scenario_set},
    {.name = "seed",
     .type = XSIM_SCHEMA_UINT64,
     .required = true,
     XSIM_MEMBER(struct xsim_replay, seed)},
    {.name = "policy",
     .type = XSIM_SCHEMA_STRING,
     .required = true,
     .min = 1,
     .max = 63,
     XSIM_MEMBER(struct xsim_replay, policy)},
    {.name = "guest",
     .type = XSIM_SCHEMA_STRING,
     .min = 1,
     .max = 63,
     XSIM_MEMBER(struct xsim_replay, guest),
     .doc = "the guest program's name"},
    {.name = "digest", .type = XSIM_SCHEMA_ANY, .required = true, .set = digest_set},
    {.name = "failed",
     .type = XSIM_SCHEMA_ARRAY_OF,
     .elem = &failed_elem,
     .max = XSIM_REPLAY_MAX_FAILED,
     XSIM_ARRAY_MEMBER(struct xsim_replay, failed, nfailed),
     .doc = "the oracles that failed"},
    {.name = "choices",
     .type = XSIM_SCHEMA_OBJECT,
     .required = true,
     .sub = &choices_schema,
     XSIM_MEMBER(struct xsim_replay, choices)},
};
static const struct xsim_schema replay_schema = XSIM_SCHEMA("replay file", replay_fields);

const struct xsim_schema *xsim__replay_schema(void)
{
    return &replay_schema;
}

static int parse(const struct xsim_json_doc *doc, struct xsim_replay *r, struct xsim_error *err)
{
    const json_t *root = doc->root;

    /* The friendliest message for the commonest mistake: another JSON
     * file given where a replay file was expected. */
    if (!json_is_object(root) || json_object_get(root, "xensim_replay") == NULL) {
        int line = 1, col = 1;
        xsim_json_pos(doc, root, &line, &col);
        return xsim_json_error_at(doc, line, col, err,
                                  "not a replay file (expected \"xensim_replay\": 1)");
    }
    snprintf(r->guest, sizeof(r->guest), "xensim");
    snprintf(r->scenario_path, sizeof(r->scenario_path), "<replay>");
    return xsim_schema_check(doc, NULL, &replay_schema, "", r, err);
}

int xsim_replay_read(const char *path, struct xsim_replay *r, struct xsim_error *err)
{
    struct xsim_json_doc doc;
    int rc;

    memset(r, 0, sizeof(*r));
    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_file(&doc, path, err);
    if (rc == 0)
        rc = parse(&doc, r, err);
    xsim_json_doc_close(&doc);
    if (rc != 0)
        xsim_replay_free(r);
    return rc;
}

void xsim_replay_free(struct xsim_replay *r)
{
    free(r->scenario_text);
    r->scenario_text = NULL;
    xsim_choices_free(&r->choices);
}
