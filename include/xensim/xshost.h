/*
 * xshost.h - a XenStore daemon (xenstore.h) hosted in a world: dom0's
 * store, and for each guest what the toolstack sets up: its home
 * /local/domain/<id>, a ring page in its RAM, an event channel, the HVM
 * params STORE_PFN / STORE_EVTCHN, and INTRODUCE, after which the daemon
 * serves the guest's ring whenever its event channel fires.
 *
 * By default the daemon answers within the hypervisor call that notified
 * it (no modelled daemon latency). xsim_xshost_set_latency makes it answer
 * later, as a xenstored process in dom0 does: a guest's requests then wait
 * for their replies, and requests from several vCPUs are outstanding at
 * once. Either way everything stays deterministic.
 */
#ifndef XENSIM_XSHOST_H
#define XENSIM_XSHOST_H

#include "xensim/hv.h"
#include "xensim/world.h"

struct xsim_xs;
struct xsim_xshost;

int xsim_xshost_create(struct xsim_world *w, struct xsim_hv *hv, struct xsim_xshost **out);
void xsim_xshost_destroy(struct xsim_xshost *h);
/* Toolstack work for guest domain `d` (see above). */
int xsim_xshost_add_guest(struct xsim_xshost *h, struct xsim_domain *d);
/* After xsim_hv_domain_migrate of guest `domid` (the toolstack's
 * migration): reset its ring connection as a new xenstored has it (no
 * watches or transactions, indexes 0), allocate a new store event channel
 * for the guest, set HVM_PARAM_STORE_EVTCHN to it and bind dom0's end
 * again. -ENOENT for a guest never introduced. */
int xsim_xshost_migrate_guest(struct xsim_xshost *h, domid_t domid);
/* Serve a guest's ring `ns` after its event channel fires (0: at once, the
 * default): one timed event per kick, taking every request there by then. */
void xsim_xshost_set_latency(struct xsim_xshost *h, uint64_t ns);
/* Who watches the daemon's watch events (the oracles' ledger): event() for
 * every watch event queued for a guest's connection (see
 * xsim_xs_config.event_queued; strings not NUL-terminated), reset() when a
 * guest's connection starts over at a migration (its queued events are
 * gone by design). Either may be NULL; one observer per host. */
struct xsim_xshost_observer {
    void (*event)(void *arg, domid_t domid, const char *path, uint32_t plen, const char *token,
                  uint32_t tlen);
    void (*reset)(void *arg, domid_t domid);
    void *arg;
};
void xsim_xshost_set_observer(struct xsim_xshost *h, const struct xsim_xshost_observer *obs);
/* The store (borrowed), e.g. to open more connections. */
struct xsim_xs *xsim_xshost_store(struct xsim_xshost *h);
/* Toolstack request as dom0 (privileged): one xs_wire message with the
 * given NUL-separated payload; the reply payload goes to reply. Returns 0,
 * or the negative errno of an XS_ERROR reply. */
int xsim_xshost_request(struct xsim_xshost *h, uint32_t type, const char *payload, uint32_t len,
                        char *reply, uint32_t reply_size);
int xsim_xshost_write(struct xsim_xshost *h, const char *path, const char *value);
int xsim_xshost_read(struct xsim_xshost *h, const char *path, char *buf, uint32_t size);

#endif
