/*
 * xg_suspend.h - the guest's side of suspend, resume and migration.
 *
 * The toolstack writes control/shutdown = "suspend"; the guest's watch
 * sees it, acks by writing "" and flags the request; CPU 0 then runs the
 * sequence from thread context (xg_suspend_run): park the other CPUs
 * (quiesced: no handlers run on them; they wait halted, not spinning),
 * suspend registered devices in order (a failure rolls back the ones
 * already suspended and aborts), stop per-CPU timers and IPIs, and call
 * SCHEDOP_shutdown(SHUTDOWN_suspend).
 *
 * It returns 1 when the suspend was cancelled (or was a checkpoint):
 * ports, vcpu_info, grants and rings are kept; devices resume with
 * new_host = false. It returns 0 on a new host: shared_info is mapped
 * again, every vCPU's vcpu_info registered again, the callback set again
 * (same preference order and fallbacks, the new host's features), the
 * timer VIRQ and IPI ports bound again on every vCPU (new port numbers),
 * periodic timers stopped and singleshot ones re-armed, the grant table
 * placed again with every reference free, the xenstore event channel
 * bound again and its watches re-registered, the clock's offset kept so
 * that the guest's monotonic time never goes backwards, and devices resume
 * with new_host = true (blkfront re-handshakes and requeues).
 * Then the parked CPUs are released and do their per-CPU part.
 */
#ifndef XENSIM_GUEST_XG_SUSPEND_H
#define XENSIM_GUEST_XG_SUSPEND_H

#include "xensim/guest/xg.h"
#include "xensim/guest/xg_gnttab.h"
#include "xensim/guest/xg_ipi.h"
#include "xensim/guest/xg_time.h"
#include "xensim/guest/xg_timer.h"
#include "xensim/guest/xg_xenbus.h"

#define XG_SUSPEND_MAX_DEVS 16

/* A device's hooks (blkfront: xg_blkfront_suspend / xg_blkfront_resume). */
struct xg_suspend_dev {
    const char *name;
    int (*suspend)(void *arg);
    int (*resume)(void *arg, bool new_host);
    void *arg;
};

struct xg_suspend_parts {
    struct xg_xenbus *xb;     /* required */
    struct xg_gnttab *gt;     /* optional */
    struct xg_clock *clk;     /* optional */
    struct xg_timers *timers; /* optional */
    struct xg_ipi *ipi;       /* optional */
    /* How CPU 0 wakes the others to park and to resume: an x2APIC ICR
     * write of this vector, which the guest's interrupt entry treats as a
     * plain wakeup (EOI, nothing else). */
    uint8_t kick_vector;
};

struct xg_suspend_stats {
    uint64_t requests;  /* "suspend" seen on control/shutdown */
    uint64_t suspends;  /* SCHEDOP_shutdown(suspend) issued */
    uint64_t cancelled; /* returned 1 */
    uint64_t resumed;   /* returned 0: a new host */
    uint64_t failed;    /* a device refused; rolled back */
    uint64_t last_rc;
};

struct xg_suspend;

unsigned long xg_suspend_size(void);

/* Initialise and watch control/shutdown. Parts are borrowed. */
int xg_suspend_init(struct xg_suspend *s, struct xg_guest *g, const struct xg_suspend_parts *parts);
/* Add a device, resumed in order and suspended in reverse order. */
int xg_suspend_register(struct xg_suspend *s, const struct xg_suspend_dev *dev);
/* A suspend was requested and not yet run. */
bool xg_suspend_requested(const struct xg_suspend *s);
/* A counter that changes when a request arrives (halt-wait on it). */
const volatile uint32_t *xg_suspend_request_seq(const struct xg_suspend *s);
/* CPU 0, thread context, interrupts on: the whole sequence. 0 (new host),
 * 1 (cancelled), or a negative errno (nothing suspended, rolled back). */
int xg_suspend_run(struct xg_suspend *s);
/* Every other CPU calls this from its idle loop: parks while a suspend is
 * in progress and does its per-CPU resume. Returns true if it parked. */
bool xg_suspend_cpu_poll(struct xg_suspend *s);
void xg_suspend_get_stats(const struct xg_suspend *s, struct xg_suspend_stats *out);

#endif
