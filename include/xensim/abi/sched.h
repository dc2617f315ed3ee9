/*
 * sched.h - the scheduler hypercall (__HYPERVISOR_sched_op): yield, block,
 * poll, shutdown (and suspend), watchdog.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/sched.h (interface version 0x00040e00). Names and values
 * are Xen's; declarations and comments are our own. x86-64 only.
 *
 * Arguments: (SCHEDOP_*, pointer to the op's struct or NULL).
 */
#ifndef XENSIM_ABI_SCHED_H
#define XENSIM_ABI_SCHED_H

#include "xensim/abi/event_channel.h"
#include "xensim/abi/xen.h"

#define SCHEDOP_yield           0 /* NULL */
#define SCHEDOP_block           1 /* NULL: sleep until an event is pending */
#define SCHEDOP_shutdown        2 /* struct sched_shutdown */
#define SCHEDOP_poll            3 /* struct sched_poll */
#define SCHEDOP_remote_shutdown 4 /* struct sched_remote_shutdown */
#define SCHEDOP_shutdown_code   5 /* struct sched_shutdown: reason to report later */
#define SCHEDOP_watchdog        6 /* struct sched_watchdog */
#define SCHEDOP_pin_override    7 /* struct sched_pin_override */

/* Shutdown reasons. SHUTDOWN_suspend returns to the guest: 0 when it resumes
 * on a new host (or after a real save/restore), 1 when the suspend was
 * cancelled or was a checkpoint. */
#define SHUTDOWN_poweroff   0
#define SHUTDOWN_reboot     1
#define SHUTDOWN_suspend    2
#define SHUTDOWN_crash      3
#define SHUTDOWN_watchdog   4
#define SHUTDOWN_soft_reset 5
#define SHUTDOWN_MAX        5

struct sched_shutdown {
    unsigned int reason; /* SHUTDOWN_* */
};
typedef struct sched_shutdown sched_shutdown_t;

/* Block until one of `ports` is pending or system time reaches `timeout`
 * (absolute ns; 0 means no timeout). */
struct sched_poll {
    XEN_GUEST_HANDLE(evtchn_port_t) ports; /* pointer-sized on x86-64 */
    unsigned int nr_ports;
    uint64_t timeout;
};
typedef struct sched_poll sched_poll_t;

struct sched_remote_shutdown {
    domid_t domain_id;
    unsigned int reason; /* SHUTDOWN_* */
};
typedef struct sched_remote_shutdown sched_remote_shutdown_t;

/* id 0 with a timeout creates a watchdog and returns its id; a known id with
 * timeout 0 destroys it, with a timeout re-arms it (seconds). */
struct sched_watchdog {
    uint32_t id;
    uint32_t timeout;
};
typedef struct sched_watchdog sched_watchdog_t;

struct sched_pin_override {
    int32_t pcpu;
};
typedef struct sched_pin_override sched_pin_override_t;

_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown");
_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll");
_Static_assert(offsetof(struct sched_poll, nr_ports) == 8, "sched_poll");
_Static_assert(offsetof(struct sched_poll, timeout) == 16, "sched_poll");
_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "sched_remote_shutdown");
_Static_assert(sizeof(struct sched_watchdog) == 8, "sched_watchdog");
_Static_assert(sizeof(struct sched_pin_override) == 4, "sched_pin_override");

#endif /* XENSIM_ABI_SCHED_H */
