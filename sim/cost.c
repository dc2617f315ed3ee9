/*
 * cost.c - cost profiles: built-in defaults and JSON loading.
 *
 * The built-in figures are round numbers of the right order for a current
 * Intel server running Xen 4.17 HVM guests without APICv. They are a
 * starting point, not a measurement: load a profile measured on your own
 * hardware for figures you want to quote. Orders of magnitude from:
 *  - kvm-unit-tests x86/vmexit.c (cpuid, vmcall, MSR, I/O and MMIO exit
 *    round trips: ~1000-1500 cycles for a light exit on Haswell..Skylake);
 *  - Gordon et al., "ELI: Bare-Metal Performance for I/O Virtualization",
 *    ASPLOS 2012 (interrupt delivery and EOI exits dominate interrupt cost);
 *  - Intel SDM vol. 3 ch. 29 (APIC virtualization and posted interrupts
 *    remove the EOI and injection exits).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "xensim/cost.h"
#include "xensim/world.h"

void xsim_cost_profile_default(struct xsim_cost_profile *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "builtin");
    p->ns[XSIM_COST_POINT] = 1;              /* a cached shared-memory access */
    p->ns[XSIM_COST_HYPERCALL] = 700;        /* VMCALL exit, dispatch, VM entry */
    p->ns[XSIM_COST_EXIT_MSR] = 900;         /* WRMSR exit (TSC deadline, x2APIC ICR) */
    p->ns[XSIM_COST_EXIT_MMIO] = 2500;       /* MMIO exit with instruction decode */
    p->ns[XSIM_COST_EXIT_IO] = 1500;         /* port I/O exit */
    p->ns[XSIM_COST_EXIT_EOI] = 800;         /* APIC-access/EOI exit */
    p->ns[XSIM_COST_EXIT_CPUID] = 600;       /* CPUID exit */
    p->ns[XSIM_COST_EXIT_HLT] = 1000;        /* HLT exit and deschedule */
    p->ns[XSIM_COST_INJECT] = 200;           /* event injection at VM entry */
    p->ns[XSIM_COST_UPCALL] = 100;           /* upcall entry and exit in the guest */
    p->ns[XSIM_COST_HANDLER] = 0;            /* declared by the guest */
    p->ns[XSIM_COST_GUEST] = 0;              /* declared by the guest */
    p->ns[XSIM_COST_IOAPIC] = 1000;          /* IOAPIC routing, level re-evaluation */
    p->ns[XSIM_COST_BACKEND] = 0;            /* declared by the backend model */
    p->ns[XSIM_COST_WAKE] = 2000;            /* wake a halted vCPU on a pCPU */
    p->ns[XSIM_COST_EXIT_INTR] = 800;        /* external-interrupt exit (kick IPI) */
    p->ns[XSIM_COST_EXIT_EOI_INDUCED] = 500; /* APICv EOI-induced exit */
}

int xsim_cost_profile_set(struct xsim_cost_profile *p, const char *name, uint64_t ns)
{
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        if (strcmp(name, xsim_cost_reason_name((enum xsim_cost_reason)r)) == 0) {
            p->ns[r] = ns;
            return 0;
        }
    }
    for (unsigned int i = 0; i < p->nnamed; i++) {
        if (strcmp(p->named[i].name, name) == 0) {
            p->named[i].ns = ns;
            return 0;
        }
    }
    if (p->nnamed == XSIM_COST_MAX_NAMED || strlen(name) >= sizeof(p->named[0].name))
        return -ENOSPC;
    snprintf(p->named[p->nnamed].name, sizeof(p->named[0].name), "%s", name);
    p->named[p->nnamed].ns = ns;
    p->nnamed++;
    return 0;
}

uint64_t xsim_cost_profile_get(const struct xsim_cost_profile *p, const char *name,
                               uint64_t fallback)
{
    for (unsigned int i = 0; i < p->nnamed; i++) {
        if (strcmp(p->named[i].name, name) == 0)
            return p->named[i].ns;
    }
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++) {
        if (strcmp(name, xsim_cost_reason_name((enum xsim_cost_reason)r)) == 0)
            return p->ns[r];
    }
    return fallback;
}

static int load(struct xsim_cost_profile *p, json_t *root, const char *src, struct xsim_error *err)
{
    const char *key;
    json_t *val, *costs;

    if (!json_is_object(root))
        return xsim_error_set(err, src, 1, 1, "a cost profile must be a JSON object");
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "name") == 0) {
            if (!json_is_string(val))
                return xsim_error_set(err, src, 0, 0, "'name' must be a string");
            snprintf(p->name, sizeof(p->name), "%s", json_string_value(val));
        } else if (strcmp(key, "source") == 0 || strcmp(key, "comment") == 0) {
            if (!json_is_string(val))
                return xsim_error_set(err, src, 0, 0, "'%s' must be a string", key);
        } else if (strcmp(key, "apicv") == 0 || strcmp(key, "posted_interrupts") == 0) {
            if (!json_is_boolean(val))
                return xsim_error_set(err, src, 0, 0, "'%s' must be true or false", key);
            if (key[0] == 'a')
                p->apicv = json_is_true(val);
            else
                p->posted_interrupts = json_is_true(val);
        } else if (strcmp(key, "costs") != 0) {
            return xsim_error_set(err, src, 0, 0,
                                  "unknown key '%s'; expected name, source, comment, apicv, "
                                  "posted_interrupts or costs",
                                  key);
        }
    }
    costs = json_object_get(root, "costs");
    if (costs == NULL)
        return 0;
    if (!json_is_object(costs))
        return xsim_error_set(err, src, 0, 0, "'costs' must be an object of name: ns");
    json_object_foreach(costs, key, val)
    {
        json_t *ns = val;
        if (json_is_object(val))
            ns = json_object_get(val, "ns");
        if (!json_is_integer(ns) || json_integer_value(ns) < 0 ||
            json_integer_value(ns) > 1000000000000LL)
            return xsim_error_set(err, src, 0, 0,
                                  "cost '%s' must be an integer number of ns in [0, 10^12] "
                                  "or {\"ns\": N, \"source\": \"...\"}",
                                  key);
        if (xsim_cost_profile_set(p, key, (uint64_t)json_integer_value(ns)) != 0)
            return xsim_error_set(err, src, 0, 0, "cost '%s': name too long or too many costs",
                                  key);
    }
    return 0;
}

static int finish(struct xsim_cost_profile *p, json_t *root, const json_error_t *jerr,
                  const char *src, struct xsim_error *err)
{
    int rc;

    if (root == NULL)
        return xsim_error_set(err, src, jerr->line, jerr->column, "%s", jerr->text);
    rc = load(p, root, src, err);
    json_decref(root);
    return rc;
}

int xsim_cost_profile_load_file(struct xsim_cost_profile *p, const char *path,
                                struct xsim_error *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

    return finish(p, root, &jerr, path, err);
}

int xsim_cost_profile_load_string(struct xsim_cost_profile *p, const char *json,
                                  struct xsim_error *err)
{
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);

    return finish(p, root, &jerr, "<string>", err);
}
