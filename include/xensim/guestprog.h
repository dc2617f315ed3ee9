/*
 * guestprog.h - the guest-program interface: how xensim hosts guest code
 * that is not its own.
 *
 * A guest program is what runs on the guest domain's vCPUs during a
 * scenario: it boots (detects Xen, sets up its event-channel callback),
 * brings up its CPUs, binds the scenario's devices, arms its timers,
 * answers suspend, and idles taking interrupts. xensim's own program (the
 * one `xensim run` uses by default, built from libxenguest) is written
 * against this interface like any other.
 *
 * A program in a shared object exports one symbol,
 *
 *     const struct xsim_guest_program xsim_guest_program = { ... };
 *
 * and `xensim run|explore|replay|shrink SCENARIO --guest PATH.so` runs it.
 * A program linked into a host program is passed in
 * xsim_run_options.guest instead.
 *
 * The program talks to the machine only through its platform (platform.h,
 * env->p: hypercalls, MSRs, shared-memory points, halt) - exactly what it
 * would use in a kernel - plus the few calls of `struct xsim_guest_env`
 * below, through which the scenario's workloads reach it: the devices'
 * queues it serves, the ticks and I/O the machine asks for from its idle
 * loop, and what it reports back so that the oracles can judge the run.
 *
 * Each program run gets its own zeroed, 64-byte-aligned state of
 * `state_size` bytes; a program keeps nothing in mutable globals
 * (`explore` runs many worlds, one after another and in parallel).
 *
 * Compatibility: a program built against ABI version N runs only on an
 * xensim whose XSIM_GUEST_ABI_VERSION is N; anything else is refused with a
 * message naming both versions. The version covers this header and the
 * structs it reaches (struct xsim_scenario, struct xsim_report,
 * struct xg_blk_io). Version 2: room for 32 oracle verdicts in a report
 * (was 16), which moves the report's later fields. Version 3: port close
 * and reuse (env->port_closed, env->serve_binding) and "xenstore"
 * workloads (XSIM_GUEST_XENSTORE, the xs_request op, env->xs_watch_fired)
 * and their keys in struct xsim_scenario, which move its later fields and
 * grow both this header's structs.
 */
#ifndef XENSIM_GUESTPROG_H
#define XENSIM_GUESTPROG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xensim/platform.h"

#ifdef __cplusplus
extern "C" {
#endif

#define XSIM_GUEST_ABI_VERSION 3
/* The symbol a guest shared object exports (a const struct xsim_guest_program). */
#define XSIM_GUEST_ENTRY_SYMBOL "xsim_guest_program"

struct xsim_scenario;
struct xsim_report;
/* A block request as blkfront takes it: xensim/guest/xg_blkfront.h has
 * its layout (a program with XSIM_GUEST_BLOCK_IO includes that header). */
struct xg_blk_io;

/* What a program implements: one bit per workload kind. A scenario that
 * needs a kind the program lacks is refused before it runs (exit 2). */
enum xsim_guest_caps {
    /* "events" workloads: bind each device's event channel, call
     * env->start_device once bound, and env->serve from its handler. */
    XSIM_GUEST_EVENTS = 1u << 0,
    /* "timer": a one-shot timer per CPU, armed for what env->work returns;
     * its expiry reported with env->timer_expired. Needs clock_ns. */
    XSIM_GUEST_TIMER = 1u << 1,
    /* "ipi": send_ipi when env->work (on CPU 0) asks; the handler on the
     * target calls env->ipi_handled. Needs clock_ns and send_ipi. */
    XSIM_GUEST_IPI = 1u << 2,
    /* disks and "block-io": connect every disk of the scenario (a blkfront
     * of its own, through xenbus) before env->ready; blk_submit takes the
     * I/O env->work issues. Needs clock_ns and blk_submit. */
    XSIM_GUEST_BLOCK_IO = 1u << 3,
    /* migrations: suspend when the toolstack asks (control/shutdown =
     * "suspend"), resume, and report each with env->suspended. */
    XSIM_GUEST_SUSPEND = 1u << 4,
    /* "lost-update": the planted race (two CPUs increment
     * *env->lost_update_counter without a lock, env->lost_update_iterations
     * times each). */
    XSIM_GUEST_LOST_UPDATE = 1u << 5,
    /* "xenstore" workloads: carry out through your xenbus client the
     * XenStore operations env->work asks for (xs_request, from any CPU,
     * several CPUs at once), and report each watch event your callback
     * gets with env->xs_watch_fired. Needs clock_ns and xs_request. */
    XSIM_GUEST_XENSTORE = 1u << 6,
};
#define XSIM_GUEST__ALL_CAPS 0x7fu

/* One XenStore operation of a "xenstore" workload, as the machine asks for
 * it. Paths are relative to the domain's home (/local/domain/<id>). */
enum xsim_xs_op_kind {
    XSIM_XS_OP_WRITE = 0,     /* path = value */
    XSIM_XS_OP_READ = 1,      /* path's value into reply */
    XSIM_XS_OP_DIRECTORY = 2, /* path's children, each NUL-terminated, into reply */
    XSIM_XS_OP_TXN_START = 3, /* the new transaction's id into tx */
    XSIM_XS_OP_TXN_END = 4,   /* commit (or abort) transaction tx */
    XSIM_XS_OP_WATCH = 5,     /* watch path with token; events go to env->xs_watch_fired */
};

struct xsim_xs_op {
    int kind;          /* enum xsim_xs_op_kind */
    uint32_t tx;       /* the transaction it belongs to (0: none); TXN_START sets it */
    const char *path;  /* every kind but TXN_START and TXN_END */
    const char *value; /* WRITE */
    const char *token; /* WATCH */
    bool commit;       /* TXN_END */
    char *reply;       /* READ, DIRECTORY: the machine's buffer of reply_size bytes */
    uint32_t reply_size;
    uint32_t reply_len; /* out: bytes of reply (without a final NUL) */
};

/* A device of the scenario: a backend in domain `backend_domid` with an
 * unbound event-channel port `backend_port` for the guest to bind
 * (EVTCHNOP_bind_interdomain). */
struct xsim_guest_device {
    const char *name;
    unsigned int workload; /* index in scenario->workloads */
    uint16_t backend_domid;
    uint32_t backend_port;
    int cpu;       /* the CPU the scenario wants it bound to, or -1 */
    bool spurious; /* it only sends notifications: serve finds nothing */
};

/* A disk of the scenario, for programs with XSIM_GUEST_BLOCK_IO. */
struct xsim_guest_disk {
    const char *name;
    uint32_t devid;          /* xenbus device id: frontend device/vbd/<devid> */
    bool cdrom;              /* a CD-ROM: read-only, may have no media */
    unsigned int ring_pages; /* what the scenario asks for */
    bool indirect;           /* use indirect segments if offered */
};

/* What the machine offers a program. Every call is made from guest context
 * on a vCPU (the one named by `cpu` where there is one) unless it says
 * otherwise. */
struct xsim_guest_env {
    uint32_t abi_version;
    const struct xg_platform *p; /* the guest domain's platform */
    unsigned int ncpus;
    const char *scenario_name;
    /* The whole scenario (the guest section: callback, upcall budget ...).
     * Programs that need only the lists below may ignore it. */
    const struct xsim_scenario *scenario;
    /* The machine runs a XenStore for the guest (xenbus works): always
     * when the scenario has disks or migrations. */
    bool xenstore;

    unsigned int ndevices;
    const struct xsim_guest_device *devices;
    unsigned int ndisks;
    const struct xsim_guest_disk *disks;
    /* XSIM_GUEST_LOST_UPDATE */
    uint64_t lost_update_iterations;
    volatile uint64_t *lost_update_counter;

    /* Set-up. Call ready() on CPU 0 once the program is set up (devices
     * bound, disks connected, timers and IPIs working on every CPU): the
     * machine starts its block I/O then, and a run that ends before it is
     * judged "not set up". setup_failed() records why set-up failed (the
     * run fails with it); boot_failed() says the boot itself failed. */
    void (*ready)(const struct xsim_guest_env *env);
    void (*setup_failed)(const struct xsim_guest_env *env, const char *what, int err);

    /* Devices (XSIM_GUEST_EVENTS). start_device: the device may send now
     * (call after binding and unmasking its port). serve: from the
     * device's handler on `cpu`, interrupts off: serve every queued item,
     * each charged its service time; returns the items served (0: nothing
     * was there, a spurious run). reconnect: after a resume on a new host,
     * the device's backend port there (the old channel is gone). */
    int (*start_device)(const struct xsim_guest_env *env, unsigned int dev);
    uint64_t (*serve)(const struct xsim_guest_env *env, unsigned int dev, unsigned int cpu);
    int (*reconnect)(const struct xsim_guest_env *env, unsigned int dev, uint32_t *new_port);

    /* The machine's workloads on `cpu`, from the CPU's idle loop with
     * interrupts on: records a tick to arm, issues due block I/O through
     * blk_submit and (CPU 0) IPIs through send_ipi. Returns the program's
     * clock time (clock_ns) for which the CPU's one-shot timer must be
     * armed, or UINT64_MAX when nothing is due. A program calls it only on
     * CPUs whose timer works. */
    uint64_t (*work)(const struct xsim_guest_env *env, unsigned int cpu);
    /* The CPU's timer expired (interrupt context), `deadline_ns` being
     * what it was armed for and `now_ns` the program's clock then. */
    void (*timer_expired)(const struct xsim_guest_env *env, unsigned int cpu,
                          uint64_t deadline_ns, uint64_t now_ns);
    /* An IPI handler ran on `cpu` (it takes every IPI sent before it). */
    void (*ipi_handled)(const struct xsim_guest_env *env, unsigned int cpu);
    /* A suspend returned `rc` (0 resumed on a new host, 1 cancelled,
     * < 0 failed); `clock_before_ns` is the program's clock just before
     * it suspended (the machine checks the clock did not go back). */
    void (*suspended)(const struct xsim_guest_env *env, int rc, uint64_t clock_before_ns);
    /* Nonzero once the machine stopped issuing new work (the drain
     * before the time limit). */
    bool (*draining)(const struct xsim_guest_env *env);
    /* XSIM_GUEST_XENSTORE: your callback of a watch set through
     * xs_request got an event (`path` as the daemon sent it). */
    void (*xs_watch_fired)(const struct xsim_guest_env *env, unsigned int cpu, const char *path,
                           const char *token);

    /* Port close and reuse (XSIM_GUEST_EVENTS, a device whose workload has
     * close_every_ns): a driver detaching and attaching again while its
     * device keeps sending. A device's bindings are numbered from 0 (the
     * one bound at set-up); the driver keeps the number in its per-binding
     * state (the handler's argument) and its handler serves with
     * serve_binding instead of serve. Every close_every_ns the program
     * closes the device's port from a CPU other than the one its handler
     * runs on, calls port_closed once the close returned (binding n is
     * then dead, its state torn down as a driver frees its softc) and
     * binds the device's backend_port again as binding n + 1 (the
     * hypervisor may hand out the same port number). serve_binding from a
     * binding already closed, or returning after its binding was closed,
     * is a handler that ran after its close returned: the machine counts
     * it (the port_close oracle) and serves nothing. */
    void (*port_closed)(const struct xsim_guest_env *env, unsigned int dev, uint32_t port);
    uint64_t (*serve_binding)(const struct xsim_guest_env *env, unsigned int dev,
                              uint32_t binding, unsigned int cpu);

    void *host; /* the machine's; do not touch */
};

struct xsim_guest_program {
    uint32_t abi_version; /* XSIM_GUEST_ABI_VERSION */
    uint32_t struct_size; /* sizeof(struct xsim_guest_program) */
    const char *name;
    uint32_t implements; /* enum xsim_guest_caps bits */
    size_t state_size;   /* bytes of per-run state the machine allocates (zeroed) */

    /* Host context, before any vCPU runs (required): set up `state`; keep
     * `env`, it lives as long as the run. 0 or a negative errno. */
    int (*init)(void *state, const struct xsim_guest_env *env);
    /* The entry point of vCPU `cpu` (required); the vCPU is done when it
     * returns. Interrupts are off on entry. */
    void (*start)(void *state, unsigned int cpu);
    /* Interrupt `vector` on `cpu` (required), entered with interrupts off. */
    void (*interrupt)(void *state, unsigned int cpu, uint8_t vector);
    /* Host context, after the run (optional): free what init allocated. */
    void (*fini)(void *state);

    /* The program's monotonic clock in ns (guest context; required by
     * TIMER, IPI and BLOCK_IO): ticks, I/O latencies and the clock oracle
     * are measured with it. */
    uint64_t (*clock_ns)(void *state);
    /* Send an IPI to `cpu` (required by IPI). 0, or a negative errno: a
     * send that fails is an IPI lost. */
    int (*send_ipi)(void *state, unsigned int cpu);
    /* Submit `io` to disk `disk` (required by BLOCK_IO): 0 and io->done
     * runs exactly once later (with NULL as its first argument, or the
     * program's own frontend), or a negative errno and it never runs
     * (-ENOSPC: full for now, try again; anything else: refused). */
    int (*blk_submit)(void *state, unsigned int disk, struct xg_blk_io *io);
    /* Carry out XenStore operation `op` on `cpu` through the program's
     * xenbus client (required by XENSTORE; guest context, interrupts on,
     * called from env->work): 0 when the daemon answered with success
     * (reply, reply_len, tx filled as the kind says), else the negative
     * errno the reply named (or the client's own error). It returns when
     * the reply came: other CPUs' requests may be outstanding meanwhile. */
    int (*xs_request)(void *state, unsigned int cpu, struct xsim_xs_op *op);
    /* Host context, after the run (optional): fill what the machine
     * cannot see for itself - callback kind, clock source, timer kind,
     * IPI mode, per-CPU upcall counts, disk states - into `rep`. The run
     * may have stopped (at its time limit, say) with a vCPU inside one of
     * your critical sections: read without taking locks. */
    void (*report)(void *state, struct xsim_report *rep);
};

/* xensim's own guest program (libxenguest's drivers). */
extern const struct xsim_guest_program xsim_builtin_guest_program;

/* What `s` needs of a program (enum xsim_guest_caps bits). */
uint32_t xsim_scenario_guest_needs(const struct xsim_scenario *s);
/* The names of the bits of `caps`, comma-separated, into buf. */
const char *xsim_guest_caps_format(uint32_t caps, char *buf, size_t size);

/* Check a program's table: ABI version, size, name, required ops. 0, or
 * -EINVAL with the reason in why. */
int xsim_guest_program_check(const struct xsim_guest_program *prog, char *why, size_t why_size);

/* Whether `prog` can run scenario `s`: it is well formed and implements
 * every workload kind `s` needs. 0; -EINVAL (a bad table) or -ENOTSUP
 * (it lacks a kind, named in why). */
int xsim_guest_program_accepts(const struct xsim_guest_program *prog,
                               const struct xsim_scenario *s, char *why, size_t why_size);

/* Load a guest program from a shared object: dlopen `path`, look up
 * XSIM_GUEST_ENTRY_SYMBOL and check it. On success *prog points into the
 * object, which stays loaded until xsim_guest_program_close(*handle).
 * -ENOENT (cannot open), -ESRCH (no symbol) or -EINVAL (a bad table),
 * with the reason in why. */
int xsim_guest_program_open(const char *path, const struct xsim_guest_program **prog,
                            void **handle, char *why, size_t why_size);
void xsim_guest_program_close(void *handle);

#ifdef __cplusplus
}
#endif

#endif
