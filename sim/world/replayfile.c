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

static int bad(const struct xsim_json_doc *doc, const json_t *node, struct xsim_error *err,
               const char *what)
{
    int line = 0, col = 0;

    xsim_json_pos(doc, node, &line, &col);
    return xsim_json_error_at(doc, line, col, err, "%s", what);
}

static int parse(const struct xsim_json_doc *doc, struct xsim_replay *r, struct xsim_error *err)
{
    const json_t *root = doc->root, *v, *ch, *sw;
    size_t i;

    if (!json_is_object(root) || json_integer_value(json_object_get(root, "xensim_replay")) != 1)
        return bad(doc, root, err, "not a replay file (expected \"xensim_replay\": 1)");
    v = json_object_get(root, "scenario");
    if (!json_is_string(v))
        return bad(doc, root, err, "'scenario' must be the scenario's JSON text");
    r->scenario_text = strdup(json_string_value(v));
    if (r->scenario_text == NULL)
        return -ENOMEM;
    v = json_object_get(root, "scenario_path");
    snprintf(r->scenario_path, sizeof(r->scenario_path), "%s",
             json_is_string(v) ? json_string_value(v) : "<replay>");
    v = json_object_get(root, "seed");
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(doc, v != NULL ? v : root, err, "'seed' must be an integer >= 0");
    r->seed = (uint64_t)json_integer_value(v);
    v = json_object_get(root, "policy");
    if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(r->policy))
        return bad(doc, v != NULL ? v : root, err, "'policy' must be a policy string");
    snprintf(r->policy, sizeof(r->policy), "%s", json_string_value(v));
    v = json_object_get(root, "guest");
    if (v != NULL && (!json_is_string(v) || json_string_length(v) == 0 ||
                      json_string_length(v) >= sizeof(r->guest)))
        return bad(doc, v, err, "'guest' must be a guest program's name");
    snprintf(r->guest, sizeof(r->guest), "%s", v != NULL ? json_string_value(v) : "xensim");
    v = json_object_get(root, "digest");
    if (!json_is_string(v) || sscanf(json_string_value(v), "%" SCNx64, &r->digest) != 1)
        return bad(doc, v != NULL ? v : root, err, "'digest' must be 16 hex digits");
    v = json_object_get(root, "failed");
    if (json_is_array(v)) {
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (json_is_string(e) && r->nfailed < 8)
                snprintf(r->failed[r->nfailed++], sizeof(r->failed[0]), "%s", json_string_value(e));
        }
    }
    ch = json_object_get(root, "choices");
    sw = ch != NULL ? json_object_get(ch, "switches") : NULL;
    v = ch != NULL ? json_object_get(ch, "decisions") : NULL;
    if (!json_is_object(ch) || !json_is_array(sw) || !json_is_integer(v) ||
        json_integer_value(v) < 0)
        return bad(doc, ch != NULL ? ch : root, err,
                   "'choices' must be {\"decisions\": D, \"switches\": [[decision, entity], ...]}");
    r->choices.decisions = (uint64_t)json_integer_value(v);
    r->choices.n = json_array_size(sw);
    r->choices.cap = r->choices.n;
    r->choices.sw = calloc(r->choices.n ? r->choices.n : 1, sizeof(*r->choices.sw));
    if (r->choices.sw == NULL)
        return -ENOMEM;
    for (i = 0; i < r->choices.n; i++) {
        json_t *e = json_array_get(sw, i);
        json_t *d = json_array_get(e, 0), *en = json_array_get(e, 1);
        if (!json_is_array(e) || json_array_size(e) != 2 || !json_is_integer(d) ||
            !json_is_integer(en) || json_integer_value(d) < 0 || json_integer_value(en) < 0 ||
            json_integer_value(en) > XSIM_ENTITY_EVENT ||
            (uint64_t)json_integer_value(d) >= r->choices.decisions ||
            (i > 0 && (uint64_t)json_integer_value(d) <= r->choices.sw[i - 1].decision)) {
            int line = 0, col = 0;
            xsim_json_elem_pos(doc, sw, i, &line, &col);
            return xsim_json_error_at(doc, line, col, err,
                                      "switch %zu must be [decision, entity] with decisions "
                                      "increasing and below %" PRIu64 ", entity <= 65535",
                                      i, r->choices.decisions);
        }
        r->choices.sw[i].decision = (uint64_t)json_integer_value(d);
        r->choices.sw[i].entity = (uint32_t)json_integer_value(en);
    }
    return 0;
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
