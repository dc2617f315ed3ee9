/*
 * cost_load.c - loading cost profiles from JSON with positioned errors, and
 * resolving a profile name to a shipped file. The part of the cost module
 * that needs jansson; the figures themselves are in cost.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xensim/cost.h"
#include "xensim/world.h"

#include "world/cost_internal.h"
#include "scenario/jsonschema.h"

/* ---- loading ---- */

/* One cost as the loader reads it, before it is stored by name. */
struct cost_value {
    uint64_t ns;
    char source[XSIM_COST_SOURCE_MAX];
};

#define COST_NS_MAX 1000000000000ull /* 1000 s: any larger figure is a typo */

static const struct xsim_schema_field cost_value_fields[] = {
    {.name = "ns",
     .type = XSIM_SCHEMA_UINT64,
     .required = true,
     .umin = 0,
     .umax = COST_NS_MAX,
     XSIM_MEMBER(struct cost_value, ns),
     .doc = "virtual ns charged per occurrence"},
    {.name = "source",
     .type = XSIM_SCHEMA_STRING,
     .max = XSIM_COST_SOURCE_MAX - 1,
     XSIM_MEMBER(struct cost_value, source),
     .doc = "where the figure comes from"},
};
static const struct xsim_schema cost_value_schema = XSIM_SCHEMA("cost", cost_value_fields);
static const struct xsim_schema_field cost_as_object = {
    .type = XSIM_SCHEMA_OBJECT, .sub = &cost_value_schema, .size = sizeof(struct cost_value)};
static const struct xsim_schema_field cost_as_number = {
    .type = XSIM_SCHEMA_UINT64, XSIM_MEMBER(struct cost_value, ns), .umin = 0, .umax = COST_NS_MAX};

/* Every key of "costs": a number of ns or {"ns": N, "source": "..."},
 * stored under the key's reason or extra. */
static int cost_set(struct xsim_schema_ctx *ctx, const json_t *value, void *target)
{
    struct xsim_cost_profile *p = target;
    struct cost_value cv;
    int rc;

    memset(&cv, 0, sizeof(cv));
    if (!json_is_object(value) && !json_is_integer(value))
        return xsim_schema_fail(ctx,
                                "'%s' must be a number of ns or {\"ns\": N, \"source\": \"...\"}",
                                xsim_schema_path(ctx));
    rc = xsim_schema_check_as(ctx, json_is_object(value) ? &cost_as_object : &cost_as_number, &cv);
    if (rc != 0 || p == NULL)
        return rc;
    if (xsim_cost_profile_set(p, xsim_schema_key(ctx), cv.ns, cv.source) != 0)
        return xsim_schema_fail(ctx, "'%s' is not a cost this simulator charges",
                                xsim_schema_path(ctx));
    return 0;
}

#define COST_FIELD(n)                                                                \
    {                                                                                \
        .name = (n), .type = XSIM_SCHEMA_ANY, .set = cost_set, .doc = "a cost in ns" \
    }
/* The reasons (world.h order) and the declared extras: test_cost_profile
 * checks this list against xsim_cost_reason_name and xsim_cost_extra_name. */
static const struct xsim_schema_field cost_fields[] = {
    COST_FIELD("point"),      COST_FIELD("hypercall"),        COST_FIELD("exit_msr"),
    COST_FIELD("exit_mmio"),  COST_FIELD("exit_io"),          COST_FIELD("exit_eoi"),
    COST_FIELD("exit_cpuid"), COST_FIELD("exit_hlt"),         COST_FIELD("inject"),
    COST_FIELD("upcall"),     COST_FIELD("handler"),          COST_FIELD("guest"),
    COST_FIELD("ioapic"),     COST_FIELD("backend"),          COST_FIELD("wake"),
    COST_FIELD("exit_intr"),  COST_FIELD("exit_eoi_induced"), COST_FIELD("spin"),
};
_Static_assert(sizeof(cost_fields) / sizeof(cost_fields[0]) ==
                   XSIM_COST_REASONS + XSIM__COST_EXTRAS,
               "every reason and extra is a key of \"costs\"");
static const struct xsim_schema cost_schema = XSIM_SCHEMA("costs", cost_fields);

static int profile_finish(struct xsim_schema_ctx *ctx, const json_t *object, void *target)
{
    const json_t *a = json_object_get(object, "apicv");
    const json_t *pi = json_object_get(object, "posted_interrupts");

    (void)target;
    /* Posted-interrupt processing is enabled only with virtual interrupt
     * delivery (Intel SDM vol. 3C 29.6; Xen's vmcs.c drops it otherwise). */
    if (json_is_true(pi) && !json_is_true(a))
        return xsim_schema_fail_member(ctx, "posted_interrupts",
                                       "'posted_interrupts' needs 'apicv': true");
    return 0;
}

static const struct xsim_schema_field profile_fields[] = {
    {.name = "name",
     .type = XSIM_SCHEMA_STRING,
     .required = true,
     .min = 1,
     .max = 63,
     XSIM_MEMBER(struct xsim_cost_profile, name)},
    {.name = "description",
     .type = XSIM_SCHEMA_STRING,
     .max = XSIM_COST_SOURCE_MAX - 1,
     XSIM_MEMBER(struct xsim_cost_profile, description)},
    {.name = "source",
     .type = XSIM_SCHEMA_STRING,
     .max = XSIM_COST_SOURCE_MAX - 1,
     XSIM_MEMBER(struct xsim_cost_profile, source)},
    {.name = "comment", .type = XSIM_SCHEMA_STRING},
    {.name = "apicv", .type = XSIM_SCHEMA_BOOL, XSIM_MEMBER(struct xsim_cost_profile, apicv)},
    {.name = "posted_interrupts",
     .type = XSIM_SCHEMA_BOOL,
     XSIM_MEMBER(struct xsim_cost_profile, posted_interrupts)},
    {.name = "costs", .type = XSIM_SCHEMA_OBJECT, .sub = &cost_schema},
};
static const struct xsim_schema profile_schema = {
    .name = "cost profile",
    .fields = profile_fields,
    .nfields = sizeof(profile_fields) / sizeof(profile_fields[0]),
    .finish = profile_finish,
};

static int check_doc(struct xsim_cost_profile *p, struct xsim_json_doc *doc, struct xsim_error *err)
{
    if (!json_is_object(doc->root))
        return xsim_json_error_at(doc, 1, 1, err, "a cost profile must be a JSON object");
    return xsim_schema_check(doc, NULL, &profile_schema, "", p, err);
}

int xsim_cost_profile_load_file(struct xsim_cost_profile *p, const char *path,
                                struct xsim_error *err)
{
    struct xsim_json_doc doc;
    int rc;

    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_file(&doc, path, err);
    if (rc == 0)
        rc = check_doc(p, &doc, err);
    xsim_json_doc_close(&doc);
    return rc;
}

int xsim_cost_profile_load_string(struct xsim_cost_profile *p, const char *json,
                                  struct xsim_error *err)
{
    struct xsim_json_doc doc;
    int rc;

    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_buffer(&doc, "<string>", json, strlen(json), err);
    if (rc == 0)
        rc = check_doc(p, &doc, err);
    xsim_json_doc_close(&doc);
    return rc;
}

/* ---- resolution ---- */

static bool looks_like_path(const char *s)
{
    size_t len = strlen(s);

    return strchr(s, '/') != NULL || (len >= 5 && strcmp(s + len - 5, ".json") == 0);
}

/* -ENOENT with the list of shipped profiles in the message. */
static int unknown_name(const char *name, struct xsim_error *err)
{
    char names[32][64], list[400] = "";
    int n = xsim_cost_profile_names(names, 32);
    size_t used = 0;

    for (int i = 0; i < n && i < 32; i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - used)
            break;
        used += (size_t)w;
    }
    xsim_error_set(err, xsim_cost_profile_dir(), 0, 0,
                   "no cost profile named '%s'; available: %s (or give a path to a .json file)",
                   name, n > 0 ? list : "none");
    return -ENOENT;
}

int xsim_cost_profile_resolve(struct xsim_cost_profile *p, const char *name_or_path,
                              const char *relative_to_dir, struct xsim_error *err)
{
    char path[4096];
    int w;

    if (name_or_path == NULL || name_or_path[0] == '\0')
        return xsim_error_set(err, "<profile>", 0, 0, "empty cost profile name");
    xsim_cost_profile_default(p);
    if (looks_like_path(name_or_path)) {
        if (name_or_path[0] == '/' || relative_to_dir == NULL || relative_to_dir[0] == '\0')
            w = snprintf(path, sizeof(path), "%s", name_or_path);
        else
            w = snprintf(path, sizeof(path), "%s/%s", relative_to_dir, name_or_path);
    } else {
        for (const char *c = name_or_path; *c != '\0'; c++) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
                return unknown_name(name_or_path, err);
        }
        w = snprintf(path, sizeof(path), "%s/%s.json", xsim_cost_profile_dir(), name_or_path);
        if (w > 0 && (size_t)w < sizeof(path)) {
            FILE *f = fopen(path, "r");
            if (f == NULL && errno == ENOENT)
                return unknown_name(name_or_path, err);
            if (f != NULL)
                fclose(f);
        }
    }
    if (w < 0 || (size_t)w >= sizeof(path))
        return xsim_error_set(err, name_or_path, 0, 0, "cost profile path too long");
    return xsim_cost_profile_load_file(p, path, err);
}
