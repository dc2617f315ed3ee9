/*
 * hv.h - the simulated Xen hypervisor: hypercall handlers (event channels,
 * vcpu, sched, hvm, memory, version ops), the Xen CPUID leaves, and the
 * emulated platform the HVM path needs (IOAPIC, platform PCI INTx line,
 * x2APIC MSRs). It attaches to a world and serves every domain added to it.
 *
 * Results follow Xen 4.17's semantics and error codes; where the simulator
 * differs it says so in the function's comment.
 */
#ifndef XENSIM_HV_H
#define XENSIM_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "xensim/world.h"
#include "xensim/xen_types.h"

struct xsim_hv;

/* What the hypervisor offers a domain. Hide a feature to test a guest's
 * fallback path. */
struct xsim_hv_features {
    bool hvm_callback_vector;  /* XENFEAT_hvm_callback_vector: CALLBACK_IRQ type 2 */
    bool percpu_upcall_vector; /* CPUID HVM leaf bit 6 + HVMOP_set_evtchn_upcall_vector */
    bool hvm_safe_pvclock;     /* XENFEAT_hvm_safe_pvclock */
    bool hvm_pirqs;            /* XENFEAT_hvm_pirqs */
    bool apic_access_virt;     /* CPUID HVM leaf bit 0 */
    bool x2apic_virt;          /* CPUID HVM leaf bit 1 */
    bool platform_pci;         /* the Xen platform PCI device (00:03.0 INTA#) exists */
    bool viridian;             /* Xen leaves start at 0x40000100, after Viridian's */
    bool fifo_events;          /* EVTCHNOP_init_control/expand_array/set_priority (else -ENOSYS) */
    uint32_t version;          /* XENVER_version: major << 16 | minor */
};

/* Everything on, Xen 4.17, no Viridian. */
void xsim_hv_features_default(struct xsim_hv_features *f);

/* How a domain's events reach its vCPUs (what the guest set up). */
enum xsim_callback_mode {
    XSIM_CB_NONE = 0,
    XSIM_CB_GSI,          /* CALLBACK_IRQ type 0: level GSI from vCPU0 */
    XSIM_CB_PCI_INTX,     /* CALLBACK_IRQ type 1: platform device INTx from vCPU0 */
    XSIM_CB_VECTOR,       /* CALLBACK_IRQ type 2: global vector, no EOI */
    XSIM_CB_PERCPU_VECTOR /* HVMOP_set_evtchn_upcall_vector: LAPIC vector, EOI */
};
const char *xsim_callback_mode_name(enum xsim_callback_mode m);

/* The platform device's location and the GSI its INTA# reaches
 * (Xen's PCI INTx swizzle: ((dev << 2) + (dev >> 3) + intx) % 32 + 16). */
#define XSIM_PLATFORM_PCI_DEVFN (3 << 3)
#define XSIM_PLATFORM_PCI_GSI   28
#define XSIM_IOAPIC_BASE        0xfec00000ull
#define XSIM_IOAPIC_PINS        48
#define XSIM_HPET_BASE          0xfed00000ull

/* Create the hypervisor and install its hypercall and CPU hooks on `w`. */
int xsim_hv_create(struct xsim_world *w, struct xsim_hv **out);
void xsim_hv_destroy(struct xsim_hv *hv);

/* Serve domain `d` with feature set `f` (copied). Domains without vCPUs
 * (backends, dom0 models) get ports but no shared_info delivery: events to
 * their ports call the notify callback instead. */
int xsim_hv_add_domain(struct xsim_hv *hv, struct xsim_domain *d, const struct xsim_hv_features *f);

enum xsim_callback_mode xsim_hv_callback_mode(struct xsim_hv *hv, domid_t domid);
uint8_t xsim_hv_callback_vector(struct xsim_hv *hv, domid_t domid, unsigned int vcpu);

/* Toolstack: set an HVM parameter (STORE_PFN, STORE_EVTCHN, ...). */
int xsim_hv_set_param(struct xsim_hv *hv, domid_t domid, uint32_t index, uint64_t value);
int xsim_hv_get_param(struct xsim_hv *hv, domid_t domid, uint32_t index, uint64_t *value);

/* ---- event channels from outside a guest (backends, toolstack) ----
 * Same semantics and errors as the hypercalls issued by domain `domid`. */
int xsim_hv_evtchn_alloc_unbound(struct xsim_hv *hv, domid_t domid, domid_t remote,
                                 evtchn_port_t *port);
int xsim_hv_evtchn_bind_interdomain(struct xsim_hv *hv, domid_t domid, domid_t remote,
                                    evtchn_port_t remote_port, evtchn_port_t *local_port);
int xsim_hv_evtchn_send(struct xsim_hv *hv, domid_t domid, evtchn_port_t port);
int xsim_hv_evtchn_close(struct xsim_hv *hv, domid_t domid, evtchn_port_t port);
int xsim_hv_evtchn_status(struct xsim_hv *hv, struct evtchn_status *st);
/* Raise a VIRQ for a domain (timer expiry, console...). vcpu ignored for
 * global VIRQs. */
int xsim_hv_send_virq(struct xsim_hv *hv, domid_t domid, unsigned int vcpu, uint32_t virq);

/* Called (in hypervisor context) when an event is set pending on a port of
 * a domain that has no vCPUs: the backend's "interrupt". */
typedef void (*xsim_hv_notify_fn)(void *arg, domid_t domid, evtchn_port_t port);
int xsim_hv_set_notify(struct xsim_hv *hv, domid_t domid, xsim_hv_notify_fn fn, void *arg);
/* The same for one port of such a domain (it takes precedence over the
 * domain-wide callback); fn NULL removes it. */
int xsim_hv_set_port_notify(struct xsim_hv *hv, domid_t domid, evtchn_port_t port,
                            xsim_hv_notify_fn fn, void *arg);

/* Called when a guest vCPU asks for a shutdown (SCHEDOP_shutdown). */
typedef void (*xsim_hv_shutdown_fn)(void *arg, domid_t domid, unsigned int reason);
void xsim_hv_set_shutdown_hook(struct xsim_hv *hv, xsim_hv_shutdown_fn fn, void *arg);

/* ---- suspend, resume, migration (the toolstack's side) ----
 * SCHEDOP_shutdown(SHUTDOWN_suspend) calls the shutdown hook (in the
 * hypercall, on the suspending vCPU: defer real work to a timed event) and
 * then blocks that vCPU inside the hypercall until xsim_hv_domain_resume.
 * A second vCPU suspending meanwhile gets -EBUSY. The guest parks its
 * other vCPUs itself. */

/* The domain is inside SCHEDOP_shutdown(SHUTDOWN_suspend). */
bool xsim_hv_domain_suspended(struct xsim_hv *hv, domid_t domid);
/* Let the suspended vCPU's hypercall return `rc`: 1 = cancelled (same
 * host, nothing reset), 0 = running on a new host (after
 * xsim_hv_domain_migrate). -ESRCH, or -EINVAL if not suspended. Callable
 * from timed events. */
int xsim_hv_domain_resume(struct xsim_hv *hv, domid_t domid, int rc);
/* Turn the suspended domain's hypervisor state into a freshly restored
 * domain's on a new host with features `f` (NULL: unchanged): every event
 * channel closed (interdomain peers see their port go back to unbound,
 * remote = this domain), shared_info and vcpu_info registrations gone (a
 * fresh shared_info waits to be mapped), no callback (per-vCPU vectors
 * cleared, the GSI/INTx line lowered), VCPUOP timers cancelled, the grant
 * table empty. Guest RAM, HVM params other than CALLBACK_IRQ, the IOAPIC
 * and the time config stay (apply the new host's time with
 * xsim_hv_time_config). -ESRCH, or -EINVAL if not suspended. */
int xsim_hv_domain_migrate(struct xsim_hv *hv, domid_t domid, const struct xsim_hv_features *f);

/* ---- inspection, for tests and reports ---- */
struct xsim_hv_port_info {
    uint32_t status; /* EVTCHNSTAT_* */
    uint32_t notify_vcpu;
    bool pending, masked;
    bool linked;      /* FIFO: on a queue (EVTCHN_FIFO_LINKED) */
    uint8_t priority; /* FIFO: the queue new events go to */
    uint64_t sets;    /* times the hypervisor set it pending */
};
int xsim_hv_port_info(struct xsim_hv *hv, domid_t domid, evtchn_port_t port,
                      struct xsim_hv_port_info *out);
/* The domain's shared_info as the hypervisor sees it (NULL if none). */
struct shared_info *xsim_hv_shared_info(struct xsim_hv *hv, domid_t domid);
struct vcpu_info *xsim_hv_vcpu_info(struct xsim_hv *hv, domid_t domid, unsigned int vcpu);
/* The domain's event channel ABI: "fifo" or "2-level". */
const char *xsim_hv_evtchn_abi(struct xsim_hv *hv, domid_t domid);
/* Last SCHEDOP_shutdown reason of the domain, or -1. */
int xsim_hv_shutdown_reason(struct xsim_hv *hv, domid_t domid);

#endif
