/*
 * scenario.c - the scenario schema and loader (see sim/scenarios/README.md
 * for the format). Every error names file, line and column.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema.h"
#include "xensim/scenario.h"

typedef struct xsim_scenario scn_t;
typedef struct xsim_scn_workload wl_t;

static const char *const callback_names[] = {"auto",     "percpu-vector", "vector",
                                             "pci-intx", "gsi",           NULL};
static const char *const wl_types[] = {"events", "lost-update", NULL};
static const char *const dists[] = {"periodic", "poisson", "burst", NULL};

static const struct xsim_schema_field feature_fields[] = {
    {.name = "hvm_callback_vector",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, machine.hvm_callback_vector),
     .doc = "XENFEAT_hvm_callback_vector"},
    {.name = "percpu_upcall_vector",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, machine.percpu_upcall_vector)},
    {.name = "hvm_safe_pvclock",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, machine.hvm_safe_pvclock)},
    {.name = "platform_pci", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, machine.platform_pci)},
    {.name = "viridian", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, machine.viridian)},
};
/* Feature members are addressed from the scenario, so the object is checked
 * against the whole struct (offsets above are from scn_t). */
static const struct xsim_schema feature_schema = XSIM_SCHEMA("features", feature_fields);

static int features_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target);

static const struct xsim_schema_field machine_fields[] = {
    {.name = "vcpus",
     .type = XSIM_SCHEMA_INT,
     .required = true,
     .min = 1,
     .max = 128,
     XSIM_MEMBER(scn_t, machine.vcpus)},
    {.name = "features", .type = XSIM_SCHEMA_ANY, .set = features_set},
    {.name = "apicv", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, machine.apicv)},
    {.name = "posted_interrupts",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, machine.posted_interrupts)},
    {.name = "cost_profile",
     .type = XSIM_SCHEMA_STRING,
     .min = 1,
     .max = 255,
     XSIM_MEMBER(scn_t, machine.cost_profile)},
    {.name = "quantum",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 1000000000,
     XSIM_MEMBER(scn_t, machine.quantum_ns)},
};

static int features_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    static const struct xsim_schema_field as_object = {
        .type = XSIM_SCHEMA_OBJECT, .sub = &feature_schema, .offset = 0, .size = sizeof(scn_t)};

    return xsim_schema_check_as(ctx, &as_object, target);
}

static const struct xsim_schema machine_schema = XSIM_SCHEMA("machine", machine_fields);

static const struct xsim_schema_field guest_fields[] = {
    {.name = "callback",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = callback_names,
     XSIM_MEMBER(scn_t, guest.callback)},
    {.name = "balance_at_bind",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, guest.balance_at_bind)},
    {.name = "rebalance_every",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 100000000000ull,
     XSIM_MEMBER(scn_t, guest.rebalance_every_ns)},
    {.name = "upcall_budget",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 4096,
     XSIM_MEMBER(scn_t, guest.upcall_budget)},
    {.name = "storm_threshold",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 1000000,
     XSIM_MEMBER(scn_t, guest.storm_threshold)},
};
static const struct xsim_schema guest_schema = XSIM_SCHEMA("guest", guest_fields);

static int workload_finish(struct xsim_schema_ctx *ctx, const json_t *object, void *target)
{
    const json_t *type = json_object_get(object, "type");
    bool events = type == NULL || strcmp(json_string_value(type), "events") == 0;

    if (events && json_object_get(object, "rate") == NULL)
        return xsim_schema_fail(ctx, "'%s' is an events workload and needs a 'rate'",
                                xsim_schema_path(ctx));
    if (!events && json_object_get(object, "iterations") == NULL)
        return xsim_schema_fail(ctx, "'%s' is a lost-update workload and needs 'iterations'",
                                xsim_schema_path(ctx));
    return 0;
}

static const struct xsim_schema_field workload_fields[] = {
    {.name = "name",
     .type = XSIM_SCHEMA_STRING,
     .required = true,
     .min = 1,
     .max = 31,
     XSIM_MEMBER(wl_t, name)},
    {.name = "type", .type = XSIM_SCHEMA_ENUM, .enum_values = wl_types, XSIM_MEMBER(wl_t, type)},
    {.name = "rate", .type = XSIM_SCHEMA_RATE, .dmin = 0.001, .dmax = 1e9, XSIM_MEMBER(wl_t, rate)},
    {.name = "distribution",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = dists,
     XSIM_MEMBER(wl_t, dist)},
    {.name = "burst", .type = XSIM_SCHEMA_INT, .min = 1, .max = 4096, XSIM_MEMBER(wl_t, burst)},
    {.name = "handler_work",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 1000000000,
     XSIM_MEMBER(wl_t, handler_ns)},
    {.name = "start",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 3600000000000ull,
     XSIM_MEMBER(wl_t, start_ns)},
    {.name = "stop",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 3600000000000ull,
     XSIM_MEMBER(wl_t, stop_ns)},
    {.name = "count",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 1000000000ull,
     XSIM_MEMBER(wl_t, count)},
    {.name = "spurious", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(wl_t, spurious)},
    {.name = "vcpu", .type = XSIM_SCHEMA_INT, .min = -1, .max = 127, XSIM_MEMBER(wl_t, vcpu)},
    {.name = "iterations",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 100000,
     XSIM_MEMBER(wl_t, iterations)},
};
static const struct xsim_schema workload_schema = {
    .name = "workload",
    .fields = workload_fields,
    .nfields = sizeof(workload_fields) / sizeof(workload_fields[0]),
    .finish = workload_finish,
};

static const struct xsim_schema_field stop_fields[] = {
    {.name = "time",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 1,
     .umax = 3600000000000ull,
     XSIM_MEMBER(scn_t, stop.time_ns)},
    {.name = "events",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 10000000000ull,
     XSIM_MEMBER(scn_t, stop.events)},
    {.name = "decisions",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 10000000000ull,
     XSIM_MEMBER(scn_t, stop.decisions)},
};
static const struct xsim_schema stop_schema = XSIM_SCHEMA("stop", stop_fields);

static const struct xsim_schema_field oracle_fields[] = {
    {.name = "no_lost_events",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, oracles.no_lost_events)},
    {.name = "max_latency",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 1,
     .umax = 3600000000000ull,
     XSIM_MEMBER(scn_t, oracles.max_latency_ns)},
    {.name = "callback",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = callback_names + 1,
     .set = NULL,
     .size = 0},
    {.name = "lost_update", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, oracles.lost_update)},
};
static const struct xsim_schema oracle_schema = XSIM_SCHEMA("oracles", oracle_fields);

static int policy_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target);

static const struct xsim_schema_field scenario_fields[] = {
    {.name = "name",
     .type = XSIM_SCHEMA_STRING,
     .required = true,
     .min = 1,
     .max = 63,
     XSIM_MEMBER(scn_t, name)},
    {.name = "description",
     .type = XSIM_SCHEMA_STRING,
     .max = 511,
     XSIM_MEMBER(scn_t, description)},
    {.name = "machine",
     .type = XSIM_SCHEMA_OBJECT,
     .required = true,
     .sub = &machine_schema,
     .offset = 0,
     .size = sizeof(scn_t)},
    {.name = "guest",
     .type = XSIM_SCHEMA_OBJECT,
     .sub = &guest_schema,
     .offset = 0,
     .size = sizeof(scn_t)},
    {.name = "workloads",
     .type = XSIM_SCHEMA_ARRAY_OF,
     .min = 0,
     .max = XSIM_SCN_MAX_WORKLOADS,
     .sub = &workload_schema,
     XSIM_ARRAY_MEMBER(scn_t, workloads, nworkloads)},
    {.name = "stop",
     .type = XSIM_SCHEMA_OBJECT,
     .sub = &stop_schema,
     .offset = 0,
     .size = sizeof(scn_t)},
    {.name = "oracles",
     .type = XSIM_SCHEMA_OBJECT,
     .sub = &oracle_schema,
     .offset = 0,
     .size = sizeof(scn_t)},
    {.name = "policy", .type = XSIM_SCHEMA_STRING, .set = policy_set},
    {.name = "seed",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = UINT64_MAX,
     XSIM_MEMBER(scn_t, seed)},
};
static const struct xsim_schema scenario_schema = XSIM_SCHEMA("scenario", scenario_fields);

static int policy_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    scn_t *s = target;
    struct xsim_error perr;
    struct xsim_policy *p;

    if (!json_is_string(value))
        return xsim_schema_fail(ctx, "'policy' must be a string; expected time, random, "
                                     "pct:D[:K], dfs:B or bytes");
    p = xsim_policy_create(json_string_value(value), &perr);
    if (p == NULL || strcmp(json_string_value(value), "replay") == 0) {
        xsim_policy_destroy(p);
        return xsim_schema_fail(ctx,
                                "bad 'policy' \"%s\"; expected time, random, pct:D[:K], "
                                "dfs:B or bytes",
                                json_string_value(value));
    }
    xsim_policy_destroy(p);
    if (s != NULL)
        snprintf(s->policy, sizeof(s->policy), "%s", json_string_value(value));
    return 0;
}

static void defaults(scn_t *s)
{
    memset(s, 0, sizeof(*s));
    s->machine.vcpus = 1;
    s->machine.hvm_callback_vector = true;
    s->machine.percpu_upcall_vector = true;
    s->machine.hvm_safe_pvclock = true;
    s->machine.platform_pci = true;
    s->guest.balance_at_bind = true;
    s->stop.time_ns = 100000000; /* 100 ms */
    snprintf(s->policy, sizeof(s->policy), "time");
    s->seed = 1;
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++) {
        s->workloads[i].vcpu = -1;
        s->workloads[i].burst = 1;
    }
}

static int check(scn_t *s, struct xsim_json_doc *doc, struct xsim_error *err)
{
    const json_t *oracles, *cb;
    int rc = xsim_schema_check(doc, doc->root, &scenario_schema, "", s, err);

    if (rc != 0)
        return rc;
    /* The expected callback is stored as its name. */
    oracles = json_object_get(doc->root, "oracles");
    cb = oracles != NULL ? json_object_get(oracles, "callback") : NULL;
    if (cb != NULL)
        snprintf(s->oracles.callback, sizeof(s->oracles.callback), "%s", json_string_value(cb));
    for (size_t i = 0; i < s->nworkloads; i++) {
        const wl_t *w = &s->workloads[i];
        int line = 0, col = 0;
        if (w->vcpu >= s->machine.vcpus) {
            xsim_json_elem_pos(doc, json_object_get(doc->root, "workloads"), i, &line, &col);
            return xsim_json_error_at(doc, line, col, err,
                                      "'workloads[%zu].vcpu' is %d but the machine has %d "
                                      "vCPUs; expected -1 or 0..%d",
                                      i, w->vcpu, s->machine.vcpus, s->machine.vcpus - 1);
        }
        if (w->type == XSIM_WL_LOST_UPDATE && s->machine.vcpus < 2) {
            xsim_json_elem_pos(doc, json_object_get(doc->root, "workloads"), i, &line, &col);
            return xsim_json_error_at(doc, line, col, err,
                                      "'workloads[%zu]' (lost-update) needs at least 2 vCPUs", i);
        }
    }
    return 0;
}

static int load(scn_t *s, struct xsim_json_doc *doc, const char *text, size_t len,
                struct xsim_error *err)
{
    int rc = check(s, doc, err);

    if (rc != 0)
        return rc;
    s->text = malloc(len + 1);
    if (s->text == NULL)
        return -ENOMEM;
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    return 0;
}

int xsim_scenario_load_buffer(struct xsim_scenario *s, const char *name, const char *text,
                              size_t len, struct xsim_error *err)
{
    struct xsim_json_doc doc;
    int rc;

    defaults(s);
    snprintf(s->path, sizeof(s->path), "%s", name != NULL ? name : "<string>");
    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_buffer(&doc, s->path, text, len, err);
    if (rc == 0)
        rc = load(s, &doc, text, len, err);
    xsim_json_doc_close(&doc);
    if (rc != 0)
        xsim_scenario_free(s);
    return rc;
}

int xsim_scenario_load_file(struct xsim_scenario *s, const char *path, struct xsim_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc;

    if (f == NULL) {
        rc = -errno;
        xsim_error_set(err, path, 0, 0, "cannot open: %s", strerror(errno));
        return rc;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > XSIM_JSON_MAX_BYTES) {
                fclose(f);
                free(buf);
                xsim_error_set(err, path, 0, 0, "file too large (over %u bytes)",
                               XSIM_JSON_MAX_BYTES);
                return -EFBIG;
            }
            char *n = realloc(buf, cap);
            if (n == NULL) {
                fclose(f);
                free(buf);
                return -ENOMEM;
            }
            buf = n;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fclose(f);
        free(buf);
        xsim_error_set(err, path, 0, 0, "read error");
        return -EIO;
    }
    fclose(f);
    rc = xsim_scenario_load_buffer(s, path, buf != NULL ? buf : "", len, err);
    free(buf);
    return rc;
}

void xsim_scenario_free(struct xsim_scenario *s)
{
    free(s->text);
    s->text = NULL;
}
