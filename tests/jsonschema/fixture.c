/* fixture.c - the scenario-like schema of fixture.h. */
#include <string.h>

#include "fixture.h"

static const char *const callback_names[] = {"vector", "irq", "percpu", NULL};

static const struct xsim_schema_field machine_fields[] = {
    {.name = "vcpus",
     .type = XSIM_SCHEMA_INT,
     .required = true,
     .min = 1,
     .max = 128,
     XSIM_MEMBER(struct fx_machine, vcpus),
     .doc = "vCPUs of the guest"},
    {.name = "memory_mb",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 1,
     .umax = 1048576,
     XSIM_MEMBER(struct fx_machine, memory_mb)},
    {.name = "callback",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = callback_names,
     XSIM_MEMBER(struct fx_machine, callback)},
    {.name = "apicv", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(struct fx_machine, apicv)},
    {.name = "ports", .type = XSIM_SCHEMA_UINT64, XSIM_MEMBER(struct fx_machine, ports)},
};
static const struct xsim_schema machine_schema = XSIM_SCHEMA("machine", machine_fields);

/* A rule across fields, reported at the member it is about. */
static int workload_finish(struct xsim_schema_ctx *ctx, const json_t *object, void *target)
{
    if (json_object_get(object, "weight") != NULL && json_object_get(object, "rate") == NULL)
        return xsim_schema_fail_member(ctx, "weight", "'%s.weight' needs a 'rate'",
                                       xsim_schema_path(ctx));
    return 0;
}

static const struct xsim_schema_field workload_fields[] = {
    {.name = "name",
     .type = XSIM_SCHEMA_STRING,
     .required = true,
     .min = 1,
     .max = 64,
     XSIM_MEMBER(struct fx_workload, name)},
    {.name = "rate",
     .type = XSIM_SCHEMA_RATE,
     .dmin = 0,
     .dmax = 1e9,
     XSIM_MEMBER(struct fx_workload, rate_per_s)},
    {.name = "period", .type = XSIM_SCHEMA_DURATION, XSIM_MEMBER(struct fx_workload, period_ns)},
    {.name = "weight",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(struct fx_workload, weight)},
    {.name = "vcpu",
     .type = XSIM_SCHEMA_INT,
     .min = -1,
     .max = 127,
     XSIM_MEMBER(struct fx_workload, vcpu)},
};
static const struct xsim_schema workload_schema = {
    .name = "workload",
    .fields = workload_fields,
    .nfields = sizeof(workload_fields) / sizeof(workload_fields[0]),
    .finish = workload_finish,
};

static const struct xsim_schema_field level_elem = {
    .type = XSIM_SCHEMA_INT, .min = -5, .max = 5, .offset = 0, .size = sizeof(int8_t)};

static const struct xsim_schema_field limit_elem = {.type = XSIM_SCHEMA_UINT64,
                                                    XSIM_MEMBER(struct fx_limit, value)};

/* A cost is a number of ns or {"ns": N, "source": "..."}, like cost.h. */
static const struct xsim_schema_field cost_object_fields[] = {
    {.name = "ns",
     .type = XSIM_SCHEMA_UINT64,
     .required = true,
     .umin = 0,
     .umax = 1000000000000u,
     .offset = 0,
     .size = sizeof(uint64_t)},
    {.name = "source", .type = XSIM_SCHEMA_STRING},
};
static const struct xsim_schema cost_object_schema = XSIM_SCHEMA("cost", cost_object_fields);
static const struct xsim_schema_field cost_as_number = {
    .type = XSIM_SCHEMA_UINT64, .umin = 0, .umax = 1000000000000u, .size = sizeof(uint64_t)};
static const struct xsim_schema_field cost_as_object = {
    .type = XSIM_SCHEMA_OBJECT, .sub = &cost_object_schema, .size = sizeof(uint64_t)};
static const char *const cost_names[] = {"hypercall", "exit", "inject", "other", NULL};

static int cost_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    struct fx_scenario *s = target;
    const char *key = xsim_schema_key(ctx);
    uint64_t ns = 0;
    size_t i;
    int rc;

    for (i = 0; cost_names[i] != NULL && strcmp(cost_names[i], key) != 0; i++)
        ;
    if (cost_names[i] == NULL)
        return xsim_schema_fail(ctx, "unknown cost '%s'; expected hypercall, exit, inject or other",
                                key);
    rc = xsim_schema_check_as(ctx, json_is_object(value) ? &cost_as_object : &cost_as_number, &ns);
    if (rc == 0 && s != NULL) {
        s->costs[i] = ns;
        s->ncosts++;
    }
    return rc;
}

static const struct xsim_schema_field cost_elem = {.type = XSIM_SCHEMA_ANY, .set = cost_set};

static int extra_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    struct fx_scenario *s = target;

    if (json_is_string(value) && strcmp(json_string_value(value), "bad") == 0)
        return xsim_schema_fail(ctx, "'%s' must not be \"bad\"", xsim_schema_path(ctx));
    if (s != NULL)
        s->extras_seen++;
    return 0;
}

static const struct xsim_schema_field tag_elem = {.type = XSIM_SCHEMA_STRING, .min = 1, .max = 8};

static const struct xsim_schema_field scenario_fields[] = {
    {.name = "name",
     .type = XSIM_SCHEMA_STRING,
     .required = true,
     XSIM_MEMBER(struct fx_scenario, name)},
    {.name = "description",
     .type = XSIM_SCHEMA_STRING,
     .borrow = true,
     XSIM_MEMBER(struct fx_scenario, description)},
    {.name = "seed", .type = XSIM_SCHEMA_UINT64, XSIM_MEMBER(struct fx_scenario, seed)},
    {.name = "offset", .type = XSIM_SCHEMA_INT, XSIM_MEMBER(struct fx_scenario, offset)},
    {.name = "tick",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 1000,
     .umax = 1000000000,
     XSIM_MEMBER(struct fx_scenario, tick_ns)},
    {.name = "load",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(struct fx_scenario, load)},
    {.name = "machine",
     .type = XSIM_SCHEMA_OBJECT,
     .required = true,
     .sub = &machine_schema,
     XSIM_MEMBER(struct fx_scenario, machine)},
    {.name = "workloads",
     .type = XSIM_SCHEMA_ARRAY_OF,
     .min = 1,
     .max = 100,
     .sub = &workload_schema,
     XSIM_ARRAY_MEMBER(struct fx_scenario, workloads, nworkloads)},
    {.name = "levels",
     .type = XSIM_SCHEMA_ARRAY_OF,
     .elem = &level_elem,
     XSIM_ARRAY_MEMBER(struct fx_scenario, levels, nlevels)},
    {.name = "limits",
     .type = XSIM_SCHEMA_MAP_OF,
     .elem = &limit_elem,
     XSIM_ARRAY_MEMBER(struct fx_scenario, limits, nlimits),
     XSIM_MAP_KEY(struct fx_limit, name)},
    {.name = "costs", .type = XSIM_SCHEMA_MAP_OF, .elem = &cost_elem},
    {.name = "tags", .type = XSIM_SCHEMA_ARRAY_OF, .max = 4, .elem = &tag_elem},
    {.name = "extra", .type = XSIM_SCHEMA_ANY, .set = extra_set},
};
const struct xsim_schema fx_scenario_schema = XSIM_SCHEMA("scenario", scenario_fields);

void fx_scenario_defaults(struct fx_scenario *s)
{
    memset(s, 0, sizeof(*s));
    s->machine.memory_mb = 1024;
    s->tick_ns = 1000000;
    s->seed = 1;
}
