/*
 * scenario_schema.c - the scenario format as schema tables: every key,
 * its type, range, unit and default, with the setters for what a table
 * cannot say (service time specs, workload mixes, migrations and their
 * hosts' features, the policy). docs/scenario-format.md describes it for
 * people; scenario.c loads and cross-checks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/jsonschema.h"
#include "xensim/scenario_set.h"
#include "workload/workload.h"
#include "xensim/scenario.h"

#include "scenario/scenario_internal.h"

typedef struct xsim_scenario scn_t;
typedef struct xsim_scn_workload wl_t;
typedef struct xsim_scn_disk disk_t;
typedef struct xsim_scn_migration mig_t;
typedef struct xsim_scn_disk_features dfeat_t;

static const char *const callback_names[] = {"auto",     "percpu-vector", "vector",
                                             "pci-intx", "gsi",           NULL};
static const char *const backend_names[] = {"auto", "thread", "fiber", NULL};
static const char *const event_abi_names[] = {"auto", "fifo", "2l", NULL};
static const char *const wl_types[] = {"events", "lost-update", "block-io", "timer",
                                       "ipi",    "xenstore",    NULL};
static const char *const disk_kinds[] = {"disk", "cdrom", NULL};
static const char *const disk_storages[] = {"mem", "file", NULL};
static const char *const disk_grant_access[] = {"copy", "map", NULL};
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
    {.name = "fifo_events",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, machine.fifo_events),
     .doc = "EVTCHNOP_init_control/expand_array/set_priority (else -ENOSYS)"},
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
    {.name = "time_calibration",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 3600000000000ull,
     XSIM_MEMBER(scn_t, machine.time_calibration_ns)},
    {.name = "xenstore_latency",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 1000000000,
     XSIM_MEMBER(scn_t, machine.xenstore_latency_ns),
     .doc = "the XenStore daemon serves a guest's ring this long after it is notified"},
    {.name = "backend",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = backend_names,
     XSIM_MEMBER(scn_t, machine.backend),
     .doc = "how vCPUs run in deterministic mode: auto, thread or fiber (same digest)"},
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
    {.name = "event_abi",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = event_abi_names,
     XSIM_MEMBER(scn_t, guest.event_abi),
     .doc = "auto: FIFO when offered, else 2-level"},
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

static const char *const service_kinds[] = {"fixed", "exp", "lognormal", "hyperexp", "batch", NULL};

/* Parse "kind:mean[:cv]" into the workload; the reason in `why` on error. */
int xsim_service_parse(const char *spec, int *kind, uint64_t *mean_ns, double *cv, char *why,
                       size_t why_size)
{
    char buf[96], *colon, *arg2, *end;
    size_t k;

    if (strlen(spec) >= sizeof(buf)) {
        snprintf(why, why_size, "too long");
        return -EINVAL;
    }
    snprintf(buf, sizeof(buf), "%s", spec);
    colon = strchr(buf, ':');
    if (colon == NULL) {
        snprintf(why, why_size, "expected KIND:MEAN[:CV], e.g. \"exp:5us\"");
        return -EINVAL;
    }
    *colon = '\0';
    for (k = 0; service_kinds[k] != NULL; k++) {
        if (strcmp(buf, service_kinds[k]) == 0)
            break;
    }
    if (service_kinds[k] == NULL) {
        snprintf(why, why_size,
                 "unknown kind '%s'; expected fixed, exp, lognormal, hyperexp or batch", buf);
        return -EINVAL;
    }
    arg2 = strchr(colon + 1, ':');
    if (arg2 != NULL)
        *arg2++ = '\0';
    if (xsim_parse_duration_ns(colon + 1, mean_ns, why, why_size) != 0)
        return -EINVAL;
    if (*mean_ns > 1000000000) {
        snprintf(why, why_size, "the mean must be at most 1s");
        return -EINVAL;
    }
    *kind = (int)k;
    *cv = 0;
    if (k == XSIM_SVC_LOGNORMAL || k == XSIM_SVC_HYPEREXP) {
        if (arg2 == NULL) {
            snprintf(why, why_size, "%s needs a coefficient of variation: %s:MEAN:CV",
                     service_kinds[k], service_kinds[k]);
            return -EINVAL;
        }
        *cv = strtod(arg2, &end);
        if (end == arg2 || *end != '\0' || !(*cv > 0) || *cv > 100) {
            snprintf(why, why_size,
                     "the coefficient of variation '%s' must be a number in (0, 100]", arg2);
            return -EINVAL;
        }
        if (k == XSIM_SVC_HYPEREXP && !(*cv > 1)) {
            snprintf(why, why_size, "a hyperexponential needs a coefficient of variation above 1");
            return -EINVAL;
        }
    } else if (arg2 != NULL) {
        snprintf(why, why_size, "%s takes only a mean", service_kinds[k]);
        return -EINVAL;
    }
    return 0;
}

static int service_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    wl_t *w = target;
    char why[160];
    int kind;
    uint64_t mean;
    double cv;

    if (!json_is_string(value))
        return xsim_schema_fail(ctx, "'%s' must be a string like \"exp:5us\"",
                                xsim_schema_path(ctx));
    if (xsim_service_parse(json_string_value(value), &kind, &mean, &cv, why, sizeof(why)) != 0)
        return xsim_schema_fail(ctx, "bad '%s' \"%s\": %s", xsim_schema_path(ctx),
                                json_string_value(value), why);
    if (w != NULL) {
        w->service_kind = kind;
        w->service_ns = mean;
        w->service_cv = cv;
    }
    return 0;
}

static int workload_finish(struct xsim_schema_ctx *ctx, const json_t *object, void *target)
{
    const json_t *type = json_object_get(object, "type");
    const char *t = type != NULL ? json_string_value(type) : "events";
    bool rate = json_object_get(object, "rate") != NULL;
    bool service = json_object_get(object, "service") != NULL;
    wl_t *w = target;

    if (service && json_object_get(object, "handler_work") != NULL)
        return xsim_schema_fail_member(ctx, "service",
                                       "'%s' has both 'service' and 'handler_work' (a shorthand "
                                       "for \"fixed:...\"); keep one",
                                       xsim_schema_path(ctx));
    if (service && strcmp(t, "events") != 0)
        return xsim_schema_fail_member(ctx, "service", "'%s': only events workloads take 'service'",
                                       xsim_schema_path(ctx));
    if (json_object_get(object, "close_every") != NULL && strcmp(t, "events") != 0)
        return xsim_schema_fail_member(ctx, "close_every",
                                       "'%s': only events workloads take 'close_every'",
                                       xsim_schema_path(ctx));
    if (w != NULL && !service) {
        w->service_kind = XSIM_SVC_FIXED;
        w->service_ns = w->handler_ns;
    }

    if (strcmp(t, "events") == 0 && !rate)
        return xsim_schema_fail(ctx, "'%s' is an events workload and needs a 'rate'",
                                xsim_schema_path(ctx));
    if (strcmp(t, "lost-update") == 0 && json_object_get(object, "iterations") == NULL)
        return xsim_schema_fail(ctx, "'%s' is a lost-update workload and needs 'iterations'",
                                xsim_schema_path(ctx));
    if (strcmp(t, "block-io") == 0 && (json_object_get(object, "disk") == NULL || !rate))
        return xsim_schema_fail(ctx, "'%s' is a block-io workload and needs 'disk' and 'rate'",
                                xsim_schema_path(ctx));
    if (strcmp(t, "timer") == 0 && json_object_get(object, "period") == NULL)
        return xsim_schema_fail(ctx, "'%s' is a timer workload and needs a 'period'",
                                xsim_schema_path(ctx));
    if (strcmp(t, "ipi") == 0 && !rate)
        return xsim_schema_fail(ctx, "'%s' is an ipi workload and needs a 'rate'",
                                xsim_schema_path(ctx));
    if (strcmp(t, "xenstore") == 0 && !rate)
        return xsim_schema_fail(ctx, "'%s' is a xenstore workload and needs a 'rate'",
                                xsim_schema_path(ctx));
    const char *dist = json_string_value(json_object_get(object, "distribution"));
    if (strcmp(t, "xenstore") == 0 && dist != NULL && strcmp(dist, "burst") == 0)
        return xsim_schema_fail_member(ctx, "distribution",
                                       "'%s': a xenstore workload's rounds are periodic or "
                                       "poisson, not burst",
                                       xsim_schema_path(ctx));
    if (strcmp(t, "xenstore") != 0) {
        static const char *const xs_only[] = {"keys", "transaction_every", "watch", "storm_rate",
                                              "storm_count"};
        for (size_t i = 0; i < sizeof(xs_only) / sizeof(xs_only[0]); i++) {
            if (json_object_get(object, xs_only[i]) != NULL)
                return xsim_schema_fail_member(ctx, xs_only[i],
                                               "'%s': only xenstore workloads take '%s'",
                                               xsim_schema_path(ctx), xs_only[i]);
        }
    }
    return 0;
}

static const struct xsim_schema_field mix_fields[] = {
    {.name = "read", .type = XSIM_SCHEMA_DOUBLE, .dmin = 0, .dmax = 1, XSIM_MEMBER(wl_t, mix_read)},
    {.name = "write",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(wl_t, mix_write)},
    {.name = "flush",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(wl_t, mix_flush)},
    {.name = "barrier",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(wl_t, mix_barrier)},
    {.name = "discard",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(wl_t, mix_discard)},
};

static int mix_finish(struct xsim_schema_ctx *ctx, const json_t *object, void *target)
{
    const char *keys[] = {"read", "write", "flush", "barrier", "discard"};
    double sum = 0;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(object, keys[i]);
        if (v != NULL)
            sum += json_number_value(v);
    }
    if (sum <= 0)
        return xsim_schema_fail(ctx, "'%s' must give some operation a share above 0",
                                xsim_schema_path(ctx));
    return 0;
}

static const struct xsim_schema mix_schema = {
    .name = "mix",
    .fields = mix_fields,
    .nfields = sizeof(mix_fields) / sizeof(mix_fields[0]),
    .finish = mix_finish,
};

/* A given mix replaces the default one whole: absent shares are 0. */
static int mix_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    static const struct xsim_schema_field as_object = {
        .type = XSIM_SCHEMA_OBJECT, .sub = &mix_schema, .offset = 0, .size = sizeof(wl_t)};
    wl_t *w = target;

    if (w != NULL && json_is_object(value))
        w->mix_read = w->mix_write = w->mix_flush = w->mix_barrier = w->mix_discard = 0;
    return xsim_schema_check_as(ctx, &as_object, target);
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
    {.name = "service",
     .type = XSIM_SCHEMA_ANY,
     .set = service_set,
     .doc = "per-item service: fixed:D, exp:D, lognormal:D:CV, hyperexp:D:CV or batch:D"},
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
    {.name = "close_every",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 3600000000000ull,
     XSIM_MEMBER(wl_t, close_every_ns),
     .doc = "events: close the port from another CPU and bind a new one this often (0: never)"},
    {.name = "vcpu", .type = XSIM_SCHEMA_INT, .min = -1, .max = 127, XSIM_MEMBER(wl_t, vcpu)},
    {.name = "iterations",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 100000,
     XSIM_MEMBER(wl_t, iterations)},
    {.name = "disk", .type = XSIM_SCHEMA_STRING, .min = 1, .max = 31, XSIM_MEMBER(wl_t, disk)},
    {.name = "mix",
     .type = XSIM_SCHEMA_ANY,
     .set = mix_set,
     .doc = "shares of read, write, flush, barrier, discard (normalised; absent = 0)"},
    {.name = "io_sectors",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 2048,
     XSIM_MEMBER(wl_t, io_sectors)},
    {.name = "region",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 1ull << 40,
     XSIM_MEMBER(wl_t, region)},
    {.name = "queue_depth",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 256,
     XSIM_MEMBER(wl_t, queue_depth)},
    {.name = "period",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 1000,
     .umax = 1000000000,
     XSIM_MEMBER(wl_t, period_ns)},
    {.name = "keys",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 64,
     XSIM_MEMBER(wl_t, keys),
     .doc = "xenstore: keys each CPU writes in turn under data/<name>/c<cpu>/"},
    {.name = "transaction_every",
     .type = XSIM_SCHEMA_INT,
     .min = 0,
     .max = 1000000,
     XSIM_MEMBER(wl_t, transaction_every),
     .doc = "xenstore: every Nth round of a CPU writes inside a transaction (0: never)"},
    {.name = "watch",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(wl_t, watch),
     .doc = "xenstore: the guest watches data/<name> (every write there fires it)"},
    {.name = "storm_rate",
     .type = XSIM_SCHEMA_RATE,
     .dmin = 0,
     .dmax = 1e7,
     XSIM_MEMBER(wl_t, storm_rate),
     .doc = "xenstore: the toolstack writes under data/<name>/storm at this rate (0: never)"},
    {.name = "storm_count",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 1000000000ull,
     XSIM_MEMBER(wl_t, storm_count),
     .doc = "xenstore: the toolstack's writes at most (0: until the drain)"},
};
static const struct xsim_schema workload_schema = {
    .name = "workload",
    .fields = workload_fields,
    .nfields = sizeof(workload_fields) / sizeof(workload_fields[0]),
    .finish = workload_finish,
};

static const struct xsim_schema_field dfeat_fields[] = {
    {.name = "flush", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(dfeat_t, flush)},
    {.name = "barrier", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(dfeat_t, barrier)},
    {.name = "discard", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(dfeat_t, discard)},
    {.name = "indirect_segments",
     .type = XSIM_SCHEMA_INT,
     .min = 0,
     .max = 4096,
     XSIM_MEMBER(dfeat_t, indirect_segments)},
    {.name = "max_ring_page_order",
     .type = XSIM_SCHEMA_INT,
     .min = 0,
     .max = 4,
     XSIM_MEMBER(dfeat_t, max_ring_page_order)},
};
static const struct xsim_schema dfeat_schema = XSIM_SCHEMA("disk features", dfeat_fields);

static const struct xsim_schema_field dfault_fields[] = {
    {.name = "read_error_rate",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(disk_t, faults.read_error_rate)},
    {.name = "write_error_rate",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(disk_t, faults.write_error_rate)},
    {.name = "refuse_flush", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(disk_t, faults.refuse_flush)},
    {.name = "refuse_barrier",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(disk_t, faults.refuse_barrier)},
    {.name = "flush_lies", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(disk_t, faults.flush_lies)},
    {.name = "duplicate_response",
     .type = XSIM_SCHEMA_INT,
     .min = 0,
     .max = 1000000000,
     XSIM_MEMBER(disk_t, faults.duplicate_response)},
    {.name = "stale_map",
     .type = XSIM_SCHEMA_INT,
     .min = 0,
     .max = 1000000000,
     XSIM_MEMBER(disk_t, faults.stale_map),
     .doc = "a broken backend: at every Nth answer it maps the answered request's first data "
            "grant again, holds it for one latency, unmaps it"},
    {.name = "lose_all_cached",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(disk_t, faults.lose_all_cached)},
    {.name = "power_loss",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 1,
     .umax = 3600000000000ull,
     XSIM_MEMBER(disk_t, power_loss_ns)},
    {.name = "backend_gone",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 1,
     .umax = 3600000000000ull,
     XSIM_MEMBER(disk_t, backend_gone_ns),
     .doc = "the toolstack removes the disk's backend at this time (a forced detach)"},
};
static const struct xsim_schema dfault_schema = XSIM_SCHEMA("disk faults", dfault_fields);

static const struct xsim_schema_field disk_fields[] = {
    {.name = "name",
     .type = XSIM_SCHEMA_STRING,
     .required = true,
     .min = 1,
     .max = 31,
     XSIM_MEMBER(disk_t, name)},
    {.name = "devid",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 1,
     .umax = 0xfffffff,
     XSIM_MEMBER(disk_t, devid)},
    {.name = "kind",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = disk_kinds,
     XSIM_MEMBER(disk_t, kind)},
    {.name = "storage",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = disk_storages,
     XSIM_MEMBER(disk_t, storage)},
    {.name = "path", .type = XSIM_SCHEMA_STRING, .min = 1, .max = 255, XSIM_MEMBER(disk_t, path)},
    {.name = "sectors",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 1ull << 40,
     XSIM_MEMBER(disk_t, sectors)},
    {.name = "readonly", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(disk_t, readonly)},
    {.name = "write_cache", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(disk_t, write_cache)},
    {.name = "features",
     .type = XSIM_SCHEMA_OBJECT,
     .sub = &dfeat_schema,
     XSIM_MEMBER(disk_t, features)},
    {.name = "latency",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 1000000000,
     XSIM_MEMBER(disk_t, latency_ns)},
    {.name = "ns_per_sector",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 1000000,
     XSIM_MEMBER(disk_t, ns_per_sector)},
    {.name = "jitter",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0,
     .dmax = 1,
     XSIM_MEMBER(disk_t, jitter)},
    {.name = "faults",
     .type = XSIM_SCHEMA_OBJECT,
     .sub = &dfault_schema,
     .offset = 0,
     .size = sizeof(disk_t)},
    {.name = "ring_pages",
     .type = XSIM_SCHEMA_INT,
     .min = 1,
     .max = 16,
     XSIM_MEMBER(disk_t, ring_pages)},
    {.name = "indirect", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(disk_t, indirect)},
    {.name = "grant_access",
     .type = XSIM_SCHEMA_ENUM,
     .enum_values = disk_grant_access,
     XSIM_MEMBER(disk_t, grant_access),
     .doc = "copy: data grants copied at completion; map: mapped for the whole service time"},
};
static const struct xsim_schema disk_schema = XSIM_SCHEMA("disk", disk_fields);

static const struct xsim_schema_field mig_host_fields[] = {
    {.name = "hvm_callback_vector",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(mig_t, hvm_callback_vector)},
    {.name = "percpu_upcall_vector",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(mig_t, percpu_upcall_vector)},
    {.name = "hvm_safe_pvclock", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(mig_t, hvm_safe_pvclock)},
    {.name = "platform_pci", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(mig_t, platform_pci)},
    {.name = "fifo_events", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(mig_t, fifo_events)},
};
static const struct xsim_schema mig_host_schema = XSIM_SCHEMA("features", mig_host_fields);

static int mig_features_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    static const struct xsim_schema_field as_object = {
        .type = XSIM_SCHEMA_OBJECT, .sub = &mig_host_schema, .offset = 0, .size = sizeof(mig_t)};
    mig_t *m = target;

    if (m != NULL)
        m->has_features = true;
    return xsim_schema_check_as(ctx, &as_object, target);
}

static int mig_disk_features_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    static const struct xsim_schema_field as_object = {
        .type = XSIM_SCHEMA_OBJECT, .sub = &dfeat_schema, XSIM_MEMBER(mig_t, disk_features)};
    mig_t *m = target;

    if (m != NULL)
        m->has_disk_features = true;
    return xsim_schema_check_as(ctx, &as_object, target);
}

static const struct xsim_schema_field mig_fields[] = {
    {.name = "at",
     .type = XSIM_SCHEMA_DURATION,
     .required = true,
     .umin = 1,
     .umax = 3600000000000ull,
     XSIM_MEMBER(mig_t, at_ns)},
    {.name = "downtime",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 0,
     .umax = 60000000000ull,
     XSIM_MEMBER(mig_t, downtime_ns)},
    {.name = "cancel", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(mig_t, cancel)},
    {.name = "tsc_hz",
     .type = XSIM_SCHEMA_UINT64,
     .umin = 0,
     .umax = 1000000000000ull,
     XSIM_MEMBER(mig_t, tsc_hz)},
    {.name = "system_time_offset",
     .type = XSIM_SCHEMA_INT,
     .min = -3600000000000ll,
     .max = 3600000000000ll,
     XSIM_MEMBER(mig_t, system_time_offset_ns)},
    {.name = "features", .type = XSIM_SCHEMA_ANY, .set = mig_features_set},
    {.name = "disk_features", .type = XSIM_SCHEMA_ANY, .set = mig_disk_features_set},
};
static const struct xsim_schema mig_schema = XSIM_SCHEMA("migration", mig_fields);

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

/* The watch_delivery bound when the scenario says only `true`: generous
 * against a daemon latency of tens of microseconds and a dispatcher that
 * runs callbacks one at a time, far below what a stranded event waits
 * (until the next event, or for ever). */
#define WATCH_DELIVERY_DEFAULT_NS 1000000

/* "watch_delivery": true (the default bound), false, or a bound. */
static int watch_delivery_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    scn_t *s = target;
    uint64_t ns = WATCH_DELIVERY_DEFAULT_NS;
    char why[160];

    if (json_is_boolean(value)) {
        if (s != NULL) {
            s->oracles.watch_delivery = json_is_true(value);
            s->oracles.watch_delivery_ns = ns;
        }
        return 0;
    }
    if (json_is_integer(value) && json_integer_value(value) > 0) {
        ns = (uint64_t)json_integer_value(value);
    } else if (!json_is_string(value) ||
               xsim_parse_duration_ns(json_string_value(value), &ns, why, sizeof(why)) != 0 ||
               ns == 0) {
        return xsim_schema_fail(ctx, "'%s' must be true, false or a duration above 0 (\"500us\")",
                                xsim_schema_path(ctx));
    }
    if (ns > 3600000000000ull)
        return xsim_schema_fail(ctx, "'%s' is above 1h", xsim_schema_path(ctx));
    if (s != NULL) {
        s->oracles.watch_delivery = true;
        s->oracles.watch_delivery_ns = ns;
    }
    return 0;
}

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
    {.name = "blk_data", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, oracles.blk_data)},
    {.name = "blk_durable", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, oracles.blk_durable)},
    {.name = "blk_no_lost_io",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, oracles.blk_no_lost_io)},
    {.name = "blk_order", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, oracles.blk_order)},
    {.name = "migration", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, oracles.migration)},
    {.name = "clock_monotonic",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, oracles.clock_monotonic)},
    {.name = "timers", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, oracles.timers)},
    {.name = "ipis", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(scn_t, oracles.ipis)},
    {.name = "port_close",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, oracles.port_close),
     .doc = "no handler of a closed port's binding runs after its close returned"},
    {.name = "grants",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, oracles.grants),
     .doc = "no grant is revoked or rewritten while a backend holds it mapped"},
    {.name = "clock_accuracy",
     .type = XSIM_SCHEMA_DURATION,
     .umin = 1,
     .umax = 1000000000,
     XSIM_MEMBER(scn_t, oracles.clock_accuracy_ns),
     .doc = "bound on the guest clock's wander against virtual time, per CPU between resumes"},
    {.name = "max_upcalls_per_event",
     .type = XSIM_SCHEMA_DOUBLE,
     .dmin = 0.01,
     .dmax = 1e9,
     XSIM_MEMBER(scn_t, oracles.max_upcalls_per_event)},
    {.name = "xenbus_replies",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(scn_t, oracles.xenbus_replies),
     .doc = "xenstore workloads: every reply the guest got answers its own request"},
    {.name = "watch_delivery",
     .type = XSIM_SCHEMA_ANY,
     .set = watch_delivery_set,
     .doc = "true (bound 1ms) or a bound: every watch event queued for the guest reached its "
            "callback, within the bound under 'time'"},
};
static const struct xsim_schema oracle_schema = XSIM_SCHEMA("oracles", oracle_fields);

static int policy_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target);
static int migrations_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target);

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
    {.name = "disks",
     .type = XSIM_SCHEMA_ARRAY_OF,
     .min = 0,
     .max = XSIM_SCN_MAX_DISKS,
     .sub = &disk_schema,
     XSIM_ARRAY_MEMBER(scn_t, disks, ndisks)},
    {.name = "migrations",
     .type = XSIM_SCHEMA_ANY,
     .set = migrations_set,
     .doc = "suspends in time order, at most 10000"},
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

const struct xsim_schema *xsim__scenario_schema(void)
{
    return &scenario_schema;
}

static int policy_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    scn_t *s = target;
    struct xsim_error perr;
    struct xsim_policy *p;

    if (!json_is_string(value))
        return xsim_schema_fail(ctx, "'policy' must be a string; expected time, random, "
                                     "pct:D[:K], dfs:B or bytes (optionally +time)");
    p = xsim_policy_create(json_string_value(value), &perr);
    if (p == NULL || strncmp(json_string_value(value), "replay", 6) == 0) {
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

/* What a backend advertises unless told otherwise (a disk's, a new host's). */
void xsim__scn_disk_features_default(struct xsim_scn_disk_features *f)
{
    *f = (dfeat_t){.flush = true,
                   .barrier = true,
                   .discard = true,
                   .indirect_segments = 256,
                   .max_ring_page_order = 4};
}

static void mig_defaults(mig_t *m)
{
    memset(m, 0, sizeof(*m));
    m->downtime_ns = 5000000;
    m->hvm_callback_vector = true;
    m->percpu_upcall_vector = true;
    m->hvm_safe_pvclock = true;
    m->platform_pci = true;
    m->fifo_events = true;
    xsim__scn_disk_features_default(&m->disk_features);
}

/* The migrations, checked into one heap block with their count in front
 * (the schema fills an array and its count relative to one base), then
 * moved into the scenario. Scenarios may have thousands: no fixed array. */
struct mig_block {
    size_t n;
    mig_t m[];
};

static int migrations_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    scn_t *s = target;
    size_t n = json_array_size(value);
    struct mig_block *b;
    int rc;

    if (!json_is_array(value))
        return xsim_schema_fail(ctx, "'%s' must be an array of migrations", xsim_schema_path(ctx));
    if (n > XSIM_SCN_MAX_MIGRATIONS)
        return xsim_schema_fail(ctx,
                                "'%s' has %zu elements; at most %d (each suspend costs the host "
                                "run time: split the soak into several runs)",
                                xsim_schema_path(ctx), n, XSIM_SCN_MAX_MIGRATIONS);
    const struct xsim_schema_field as_array = {
        .type = XSIM_SCHEMA_ARRAY_OF,
        .sub = &mig_schema,
        .min = 0,
        .max = XSIM_SCN_MAX_MIGRATIONS,
        .offset = offsetof(struct mig_block, m),
        .size = n * sizeof(mig_t),
        .elem_size = sizeof(mig_t),
        .count_offset = offsetof(struct mig_block, n),
        .count_size = sizeof(size_t),
    };
    if (s == NULL || n == 0)
        return xsim_schema_check_as(ctx, &as_array, NULL);
    b = malloc(sizeof(*b) + n * sizeof(mig_t));
    if (b == NULL)
        return -ENOMEM;
    b->n = 0;
    for (size_t i = 0; i < n; i++)
        mig_defaults(&b->m[i]);
    rc = xsim_schema_check_as(ctx, &as_array, b);
    if (rc == 0) {
        free(s->migrations);
        s->migrations = malloc(n * sizeof(mig_t));
        if (s->migrations == NULL)
            rc = -ENOMEM;
        else
            memcpy(s->migrations, b->m, n * sizeof(mig_t));
        s->nmigrations = s->migrations != NULL ? n : 0;
    }
    free(b);
    return rc;
}
