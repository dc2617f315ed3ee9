/*
 * xshost.h - a XenStore daemon (xenstore.h) hosted in a world: dom0's
 * store, and for each guest what the toolstack sets up: its home
 * /local/domain/<id>, a ring page in its RAM, an event channel, the HVM
 * params STORE_PFN / STORE_EVTCHN, and INTRODUCE, after which the daemon
 * serves the guest's ring whenever its event channel fires.
 *
 * The daemon answers within the hypervisor call that notified it (no
 * modelled daemon latency); everything stays deterministic.
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
