/*
 * host.c - a program built against an installed xensim: a world with the
 * hypervisor and one domain of two vCPUs that charge guest work and pass
 * scheduling points; prints the run's digest. Uses only the core API, so it
 * links against libxensim or libxensim-core alike.
 */
#include <inttypes.h>
#include <stdio.h>

#include "xensim/error.h"
#include "xensim/hv.h"
#include "xensim/version.h"
#include "xensim/world.h"

struct host_guest {
    struct xsim_world *w;
};

static void guest_start(void *guest, unsigned int cpu)
{
    struct host_guest *g = guest;

    for (unsigned int i = 0; i < 4; i++) {
        xsim_charge(xsim_vcpu_current(), XSIM_COST_GUEST, 100u * (cpu + 1u));
        xsim_point(g->w);
    }
}

static const struct xsim_guest_ops guest_ops = {.start = guest_start};

int main(void)
{
    struct xsim_world_config cfg;
    struct xsim_hv_features f;
    struct xsim_error err;
    struct host_guest g = {0};
    struct xsim_policy *pol = xsim_policy_create("time", &err);
    struct xsim_domain *d;
    struct xsim_hv *hv = NULL;
    enum xsim_stop_reason why;
    int rc;

    if (pol == NULL) {
        fprintf(stderr, "policy: %s\n", err.text);
        return 1;
    }
    xsim_world_config_init(&cfg);
    cfg.seed = 7;
    rc = xsim_world_create(&cfg, pol, &g.w);
    if (rc == 0)
        rc = xsim_hv_create(g.w, &hv);
    if (rc == 0)
        rc = xsim_domain_create(g.w, 1, 2, 16, &guest_ops, &g, &d);
    xsim_hv_features_default(&f);
    if (rc == 0)
        rc = xsim_hv_add_domain(hv, d, &f);
    if (rc != 0) {
        fprintf(stderr, "setup failed: %d\n", rc);
        return 1;
    }
    why = xsim_world_run(g.w);
    printf("xensim %s: %s at %" PRIu64 " ns, digest %016" PRIx64 "\n", xsim_version(),
           xsim_stop_reason_name(why), xsim_world_now(g.w), xsim_world_digest(g.w));
    rc = why == XSIM_STOP_ALL_DONE ? 0 : 1;
    xsim_hv_destroy(hv);
    xsim_world_destroy(g.w);
    xsim_policy_destroy(pol);
    return rc;
}
