/*
 * host.c - a program built against an installed xensim through the host API
 * (machine.h): a machine with a XenStore and a guest of two vCPUs that ask
 * the hypervisor its version, charge guest work and pass scheduling points;
 * prints the run's digest. Uses only the core API, so it links against
 * libxensim or libxensim-core alike.
 */
#include <inttypes.h>
#include <stdio.h>

#include "xensim/abi/version.h"
#include "xensim/abi/xen.h"
#include "xensim/machine.h"
#include "xensim/version.h"

struct host_guest {
    const struct xg_platform *p;
    long version;
};

static void guest_start(void *guest, unsigned int cpu)
{
    struct host_guest *g = guest;

    if (cpu == 0)
        g->version = xg_hypercall(g->p, __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    for (unsigned int i = 0; i < 4; i++) {
        xg_work(g->p, XG_WORK_GUEST, 100u * (cpu + 1u));
        xg_point(g->p, XG_POINT_FENCE, NULL);
    }
}

static void guest_interrupt(void *guest, unsigned int cpu, uint8_t vector)
{
    (void)guest;
    (void)cpu;
    (void)vector;
}

static const struct xsim_guest_ops guest_ops = {.start = guest_start,
                                                .interrupt = guest_interrupt};

int main(void)
{
    struct xsim_machine_config mc;
    struct xsim_machine *m;
    struct xsim_error err;
    struct host_guest g = {0};
    enum xsim_stop_reason why;
    int rc;

    xsim_machine_config_init(&mc, 2);
    mc.world.seed = 7;
    mc.xenstore = true;
    mc.ops = &guest_ops;
    mc.guest = &g;
    if ((rc = xsim_machine_create(&mc, &m, &err)) != 0) {
        fprintf(stderr, "setup failed: %s\n", err.text);
        return 1;
    }
    g.p = xsim_machine_platform(m);
    why = xsim_machine_run(m);
    printf("xensim %s: %s at %" PRIu64 " ns, Xen %ld.%ld, digest %016" PRIx64 "\n",
           xsim_version(), xsim_stop_reason_name(why), xsim_world_now(xsim_machine_world(m)),
           g.version >> 16, g.version & 0xffff, xsim_machine_digest(m));
    rc = why == XSIM_STOP_ALL_DONE && g.version > 0 ? 0 : 1;
    xsim_machine_destroy(m);
    return rc;
}
