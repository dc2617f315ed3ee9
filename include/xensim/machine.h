/*
 * machine.h - hosting guest code: the machine a guest runs on, in one call.
 *
 * A machine is a deterministic world (world.h) with a hypervisor (hv.h),
 * a backend domain 0 without vCPUs (whose work is all timed events: the
 * devices of evsource.h, the disks and migrations of toolstack.h, the
 * XenStore of xshost.h) and one guest domain (domid 1) whose vCPUs enter
 * guest code through a `struct xsim_guest_ops`. This is the pattern the
 * test harness and `xensim run` follow; a program of your own does the
 * same:
 *
 *     struct xsim_machine_config mc;
 *     struct xsim_machine *m;
 *     xsim_machine_config_init(&mc, 2);          // 2 vCPUs
 *     mc.world.seed = 7;                         // seed, limits, costs
 *     mc.policy = "pct:3+time";                  // or mc.policy_obj
 *     mc.ops = &my_ops; mc.guest = &my_state;    // start, interrupt
 *     mc.xenstore = true;                        // if the guest uses xenbus
 *     if (xsim_machine_create(&mc, &m, &err) == 0) {
 *         p = xsim_machine_platform(m);          // give it to the guest code
 *         ... add devices: xsim_evsource_create(xsim_machine_world(m),
 *                          xsim_machine_hv(m), ...), disks through
 *                          xsim_machine_toolstack(m) ...
 *         enum xsim_stop_reason why = xsim_machine_run(m);
 *         digest = xsim_machine_digest(m);       // same inputs, same digest
 *         xsim_machine_destroy(m);
 *     }
 *
 * Everything here is in libxensim-core: no libuv, no jansson.
 */
#ifndef XENSIM_MACHINE_H
#define XENSIM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xensim/error.h"
#include "xensim/hv.h"
#include "xensim/platform.h"
#include "xensim/world.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xsim_machine;
struct xsim_toolstack;
struct xsim_xshost;

#define XSIM_MACHINE_BACKEND_DOMID 0
#define XSIM_MACHINE_GUEST_DOMID   1

struct xsim_machine_config {
    unsigned int vcpus;                 /* the guest's, 1..XSIM_MAX_VCPUS */
    struct xsim_hv_features features;   /* what the hypervisor offers the guest */
    struct xsim_world_config world;     /* seed, mode, limits, quantum, costs, log */
    const char *policy;                 /* a policy spec ("time", "pct:3+time" ...) */
    struct xsim_policy *policy_obj;     /* borrowed; wins over `policy` when set */
    size_t guest_ram_pages;             /* 0: 256 */
    size_t backend_ram_pages;           /* 0: 16 */
    bool xenstore;                      /* run a XenStore the guest reaches by xenbus */
    const struct xsim_guest_ops *ops;   /* the guest's entry points (copied) */
    void *guest;                        /* their argument (borrowed) */
};

/* Defaults: `vcpus` vCPUs, every hypervisor feature of Xen 4.17, world
 * defaults (seed 1, deterministic), policy "time", no XenStore. */
void xsim_machine_config_init(struct xsim_machine_config *cfg, unsigned int vcpus);

/* Build the machine. 0, or a negative errno with the reason in `err` (may
 * be NULL). */
int xsim_machine_create(const struct xsim_machine_config *cfg, struct xsim_machine **out,
                        struct xsim_error *err);

struct xsim_world *xsim_machine_world(struct xsim_machine *m);
struct xsim_hv *xsim_machine_hv(struct xsim_machine *m);
struct xsim_domain *xsim_machine_backend(struct xsim_machine *m);
struct xsim_domain *xsim_machine_guest(struct xsim_machine *m);
/* The platform the guest's code uses (its ops are the machine's). */
const struct xg_platform *xsim_machine_platform(struct xsim_machine *m);
/* The XenStore host, or NULL without cfg.xenstore. */
struct xsim_xshost *xsim_machine_xenstore(struct xsim_machine *m);
/* The toolstack (disks, migrations), created on first use; needs
 * cfg.xenstore. 0 or a negative errno. */
int xsim_machine_toolstack(struct xsim_machine *m, struct xsim_toolstack **out);

/* Run until a stop condition (world.h); once. */
enum xsim_stop_reason xsim_machine_run(struct xsim_machine *m);
uint64_t xsim_machine_digest(const struct xsim_machine *m);
const struct xsim_stats *xsim_machine_stats(const struct xsim_machine *m);
/* The run's choice list, for a replay policy (world.h). */
const struct xsim_choices *xsim_machine_choices(const struct xsim_machine *m);
/* Why the run failed (xsim_world_fail, a guest BUG), or NULL. */
const char *xsim_machine_failure(const struct xsim_machine *m);

/* Tear down: the toolstack (its backends unmap guest RAM), the world (its
 * vCPU threads), the XenStore, the hypervisor, an owned policy. Devices a
 * caller created on the machine are the caller's to destroy, after this. */
void xsim_machine_destroy(struct xsim_machine *m);

#ifdef __cplusplus
}
#endif

#endif
