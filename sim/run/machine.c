/*
 * machine.c - see machine.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/machine.h"
#include "xensim/toolstack.h"
#include "xensim/xshost.h"

struct xsim_machine {
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_domain *dom0, *d;
    struct xsim_xshost *xs;
    struct xsim_toolstack *ts;
    struct xsim_policy *own_pol;
};

void xsim_machine_config_init(struct xsim_machine_config *cfg, unsigned int vcpus)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->vcpus = vcpus;
    xsim_hv_features_default(&cfg->features);
    xsim_world_config_init(&cfg->world);
    cfg->policy = "time";
}

static int fail(struct xsim_error *err, int rc, const char *what)
{
    if (err != NULL)
        xsim_error_set(err, "<machine>", 0, 0, "%s: %s", what, strerror(-rc));
    return rc;
}

int xsim_machine_create(const struct xsim_machine_config *cfg, struct xsim_machine **out,
                        struct xsim_error *err)
{
    struct xsim_machine *m;
    struct xsim_policy *pol = cfg->policy_obj;
    struct xsim_hv_features f0;
    int rc;

    *out = NULL;
    if (cfg->vcpus == 0 || cfg->vcpus > XSIM_MAX_VCPUS || cfg->ops == NULL ||
        cfg->ops->start == NULL || cfg->ops->interrupt == NULL)
        return fail(err, -EINVAL, "machine config (vCPUs 1..256, ops with start and interrupt)");
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return fail(err, -ENOMEM, "machine");
    if (pol == NULL) {
        struct xsim_error perr;
        pol = m->own_pol = xsim_policy_create(cfg->policy != NULL ? cfg->policy : "time", &perr);
        if (pol == NULL) {
            if (err != NULL)
                *err = perr;
            free(m);
            return -EINVAL;
        }
    }
    if ((rc = xsim_world_create(&cfg->world, pol, &m->w)) != 0) {
        fail(err, rc, "world");
        goto out;
    }
    if ((rc = xsim_hv_create(m->w, &m->hv)) != 0) {
        fail(err, rc, "hypervisor");
        goto out;
    }
    rc = xsim_domain_create(m->w, XSIM_MACHINE_BACKEND_DOMID, 0,
                            cfg->backend_ram_pages ? cfg->backend_ram_pages : 16, NULL, NULL,
                            &m->dom0);
    if (rc == 0)
        rc = xsim_domain_create(m->w, XSIM_MACHINE_GUEST_DOMID, cfg->vcpus,
                                cfg->guest_ram_pages ? cfg->guest_ram_pages : 256, cfg->ops,
                                cfg->guest, &m->d);
    if (rc != 0) {
        fail(err, rc, "domains");
        goto out;
    }
    xsim_hv_features_default(&f0);
    if ((rc = xsim_hv_add_domain(m->hv, m->dom0, &f0)) != 0 ||
        (rc = xsim_hv_add_domain(m->hv, m->d, &cfg->features)) != 0) {
        fail(err, rc, "hypervisor domains");
        goto out;
    }
    if (cfg->xenstore && ((rc = xsim_xshost_create(m->w, m->hv, &m->xs)) != 0 ||
                          (rc = xsim_xshost_add_guest(m->xs, m->d)) != 0)) {
        fail(err, rc, "XenStore");
        goto out;
    }
    *out = m;
    return 0;
out:
    xsim_machine_destroy(m);
    return rc;
}

struct xsim_world *xsim_machine_world(struct xsim_machine *m)
{
    return m->w;
}

struct xsim_hv *xsim_machine_hv(struct xsim_machine *m)
{
    return m->hv;
}

struct xsim_domain *xsim_machine_backend(struct xsim_machine *m)
{
    return m->dom0;
}

struct xsim_domain *xsim_machine_guest(struct xsim_machine *m)
{
    return m->d;
}

const struct xg_platform *xsim_machine_platform(struct xsim_machine *m)
{
    return xsim_domain_platform(m->d);
}

struct xsim_xshost *xsim_machine_xenstore(struct xsim_machine *m)
{
    return m->xs;
}

int xsim_machine_toolstack(struct xsim_machine *m, struct xsim_toolstack **out)
{
    int rc;

    if (m->ts == NULL) {
        if (m->xs == NULL)
            return -ENODEV; /* a toolstack speaks xenbus: it needs the XenStore */
        if ((rc = xsim_toolstack_create(m->w, m->hv, m->xs, m->d, &m->ts)) != 0)
            return rc;
    }
    *out = m->ts;
    return 0;
}

enum xsim_stop_reason xsim_machine_run(struct xsim_machine *m)
{
    return xsim_world_run(m->w);
}

uint64_t xsim_machine_digest(const struct xsim_machine *m)
{
    return xsim_world_digest(m->w);
}

const struct xsim_stats *xsim_machine_stats(const struct xsim_machine *m)
{
    return xsim_world_stats(m->w);
}

const struct xsim_choices *xsim_machine_choices(const struct xsim_machine *m)
{
    return xsim_world_choices(m->w);
}

const char *xsim_machine_failure(const struct xsim_machine *m)
{
    return xsim_world_failure(m->w);
}

void xsim_machine_destroy(struct xsim_machine *m)
{
    if (m == NULL)
        return;
    /* Backends unmap what they mapped of guest RAM while it still exists;
     * then the world, whose vCPU threads hold pointers into the rest. */
    xsim_toolstack_destroy(m->ts);
    xsim_world_destroy(m->w);
    xsim_xshost_destroy(m->xs);
    xsim_hv_destroy(m->hv);
    xsim_policy_destroy(m->own_pol);
    free(m);
}
