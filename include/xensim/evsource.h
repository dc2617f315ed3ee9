/*
 * evsource.h - a device model in a backend domain: it owns an interdomain
 * event channel to a guest and sends events at a configured rate and
 * distribution, recording each send's time so that the guest-side handler
 * can measure delivery latency (like a device ring of timestamped requests).
 */
#ifndef XENSIM_EVSOURCE_H
#define XENSIM_EVSOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/hv.h"
#include "xensim/measure.h"
#include "xensim/world.h"

enum xsim_evsource_dist {
    XSIM_EVSRC_PERIODIC = 0, /* every 1/rate */
    XSIM_EVSRC_POISSON,      /* exponential gaps with mean 1/rate */
    XSIM_EVSRC_BURST,        /* `burst` back-to-back sends every burst/rate */
};

struct xsim_evsource_config {
    domid_t backend, guest;
    double rate_hz; /* > 0 */
    enum xsim_evsource_dist dist;
    unsigned int burst; /* BURST: sends per burst (>= 1) */
    uint64_t start_ns;  /* first send not before */
    uint64_t count;     /* stop after this many sends; 0 = until stop_ns */
    uint64_t stop_ns;   /* 0 = never */
    const char *stream; /* PRNG stream name (distinct per source) */
};

struct xsim_evsource;

/* Create a source: allocates an unbound port in the backend for the guest
 * (xsim_evsource_port tells the guest which to bind). Sends start when the
 * guest binds (call xsim_evsource_start with the backend-side port). */
int xsim_evsource_create(struct xsim_world *w, struct xsim_hv *hv,
                         const struct xsim_evsource_config *cfg, struct xsim_evsource **out);
void xsim_evsource_destroy(struct xsim_evsource *s);
/* The backend's port the guest binds to with bind_interdomain. */
evtchn_port_t xsim_evsource_port(const struct xsim_evsource *s);
/* Begin sending (the guest has bound). */
int xsim_evsource_start(struct xsim_evsource *s);
/* The guest was migrated (its end of the channel is gone): close the
 * backend's port and allocate a new unbound one for the guest to bind
 * (xsim_evsource_port). Sends go on being recorded meanwhile; sends to a
 * closed port are dropped by the hypervisor as Xen drops them, and are
 * consumed once the guest binds again and looks. */
int xsim_evsource_reconnect(struct xsim_evsource *s);
void xsim_evsource_stop(struct xsim_evsource *s);

/* From the guest's handler, like a driver reading its device's ring: take
 * the oldest send not yet taken, whatever its time (a policy that runs
 * devices ahead of the vCPUs can show a vCPU a send from its future).
 * Returns true and its send time, or false when nothing is left. */
bool xsim_evsource_take(struct xsim_evsource *s, uint64_t *sent_ns);
/* The item last taken has been served: it leaves the system (used for the
 * number in system each arrival sees). */
void xsim_evsource_complete(struct xsim_evsource *s);
/* Take and complete every send made up to now at once; returns how many. */
uint64_t xsim_evsource_consume(struct xsim_evsource *s);

struct xsim_evsource_stats {
    uint64_t sent, taken, completed;
    uint64_t first_send_ns, last_send_ns; /* 0 when nothing was sent */
    /* Over sends: the items in the system (taken or not, not yet complete)
     * just before each send. Their mean is what arrivals see, which for
     * Poisson arrivals is the time-average number in system; with its 95%
     * half-width (batch means), -1 with too few sends. */
    double seen_in_system_mean, seen_in_system_ci95;
};
void xsim_evsource_stats(const struct xsim_evsource *s, struct xsim_evsource_stats *out);

#endif
