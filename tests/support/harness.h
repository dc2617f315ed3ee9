/*
 * harness.h - test helper: one world with the hypervisor model, a backend
 * domain 0 without vCPUs, and a guest domain 1 running libxenguest on N
 * vCPUs. CPU 0 boots, then starts the others with an IPI; each CPU then
 * runs the test's `main`, and by default idles (the run ends when the
 * world is quiescent).
 */
#ifndef XSIM_TEST_HARNESS_H
#define XSIM_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/guest/xg_evtchn.h"
#include "xensim/hv.h"
#include "xensim/machine.h"
#include "xensim/world.h"
#include "xensim/xshost.h"

#define TH_GUEST_DOMID    1
#define TH_BACKEND_DOMID  0
#define TH_STARTUP_VECTOR 0x30

struct th;
typedef void (*th_main_fn)(struct th *t, unsigned int cpu);

struct th_config {
    unsigned int ncpus;
    struct xsim_hv_features features;
    struct xg_guest_config guest;
    struct xsim_world_config world;
    const char *policy; /* NULL: "time" */
    size_t ram_pages;   /* 0: 64 */
    th_main_fn main;    /* per CPU, after boot; NULL: just idle */
    bool idle_after_main;
    /* Sees every interrupt first (emulated timers, LAPIC IPIs: see
     * xg_timer_interrupt, xg_ipi_interrupt); returns true when it handled
     * the vector, EOI included. NULL: everything goes to the guest. */
    bool (*interrupt)(struct th *t, unsigned int cpu, uint8_t vector);
    bool xenstore; /* host a XenStore daemon and introduce the guest to it */
    /* The guest's state: xg_guest_size() bytes, 64-byte aligned, borrowed
     * (reused across runs by a fuzzer); NULL: allocated per run. */
    void *guest_mem;
    void *user;
};

struct th {
    struct th_config cfg;
    struct xsim_machine *m; /* everything below it is the machine's */
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_domain *d, *dom0;
    struct xg_guest *g;
    const struct xg_platform *p;
    struct xsim_xshost *xs; /* cfg.xenstore */
    int boot_rc;
    int cpu_up_rc[XG_MAX_CPUS];
    volatile uint32_t started, nup, all_up;
    void *user;
};

/* The event channel ABI th_config_init asks the guest for (default AUTO,
 * which is FIFO with every feature on). A test file runs its cases once
 * per ABI by setting this in a CMocka group setup (th_abi_group_*). */
extern enum xg_event_abi th_event_abi;
int th_abi_group_2l(void **state);
int th_abi_group_fifo(void **state);
/* The ABI the current group runs ("2-level" or "fifo"). */
const char *th_abi_name(void);
/* Run the array `tests` once per ABI, as groups named after it; the
 * number of failed tests. A macro, as CMocka's group runner is one. */
#define TH_RUN_PER_ABI(tests)                                               \
    (cmocka_run_group_tests_name("2-level", tests, th_abi_group_2l, NULL) + \
     cmocka_run_group_tests_name("fifo", tests, th_abi_group_fifo, NULL))

/* Defaults: 2 CPUs, every feature, time policy, idle after main. */
void th_config_init(struct th_config *cfg, unsigned int ncpus);
/* The same, for a guest that talks to a XenStore (cfg.xenstore) with
 * `ram_pages` of RAM, running `main` with `user`: the set-up of the
 * device tests. */
void th_config_xs(struct th_config *cfg, unsigned int ncpus, size_t ram_pages, th_main_fn main,
                  void *user);
/* Build everything; `pol` may be NULL (then cfg->policy is parsed). */
int th_create(struct th *t, const struct th_config *cfg, struct xsim_policy *pol);
/* th_create with the defaults for `ncpus` (th_config_init), `main` on
 * each CPU and `user`: the set-up of most single-run tests. */
int th_create_main(struct th *t, unsigned int ncpus, th_main_fn main, void *user);
enum xsim_stop_reason th_run(struct th *t);
void th_destroy(struct th *t);

/* Wait (halting, not spinning) until *flag >= value; wake with th_wake_*. */
void th_wait_u32(struct th *t, volatile uint32_t *flag, uint32_t value);
/* Spin until *flag >= value, each turn a scheduling point on the flag
 * (XG_POINT_SPIN), so that every policy can run the CPU waited for. */
void th_spin_u32(const struct xg_platform *p, volatile uint32_t *flag, uint32_t value);
/* A spinning barrier of `n` CPUs on *arrived (0 to start with): count this
 * CPU in, then wait for the others. */
void th_spin_barrier(const struct xg_platform *p, volatile uint32_t *arrived, uint32_t n);
/* For harnesses with their own interrupt entry: true when `vector` is the
 * wakeup IPI (TH_STARTUP_VECTOR), which this then acknowledges. */
bool th_startup_ipi(struct th *t, uint8_t vector);
/* IPI every other CPU / one CPU with TH_STARTUP_VECTOR (a plain wakeup). */
void th_wake_others(struct th *t);
void th_wake_cpu(struct th *t, unsigned int cpu);

/* For harnesses with their own guest ops (t->cfg filled first): the
 * machine (machine.h) with `ops`/`guest`, cfg.ram_pages (or the default),
 * the policy (cfg.policy when `pol` is NULL) and a XenStore when
 * cfg.xenstore; t->w, hv, d, dom0, xs and p set. The guest is not
 * initialised. th_destroy tears it down. */
int th_build_machine(struct th *t, struct xsim_policy *pol, const struct xsim_guest_ops *ops,
                     void *guest, size_t default_ram_pages);

/* For harnesses with their own start function: boot (CPU 0) or bring up
 * this CPU, waiting for the others by spinning (each wait iteration a
 * scheduling point), then enable interrupts. False: this CPU must stop
 * (boot or cpu_up failed; see boot_rc / cpu_up_rc). */
bool th_bring_up_spin(struct th *t, unsigned int cpu);

/* Virtual now of the calling context. */
uint64_t th_now(struct th *t);

#endif
