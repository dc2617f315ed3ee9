/*
 * hv_internal.h - the hypervisor model's private state, shared by hv.c
 * (dispatch, version, hvm, memory, vcpu ops, CPUID), evtchn.c (event
 * channels, sched ops) and the hardware models in sim/hw/.
 */
#ifndef XSIM_HV_INTERNAL_H
#define XSIM_HV_INTERNAL_H

#include "xensim/abi/event_channel.h"
#include "xensim/abi/hvm_params.h"
#include "xensim/abi/sched.h"
#include "xensim/abi/vcpu.h"
#include "xensim/abi/xen.h"
#include "xensim/gnttab.h"
#include "xensim/hv.h"
#include "xensim/world.h"

#define XSIM_HV_NR_PORTS_2L 4096                    /* 2-level ABI, 64-bit guest */
#define XSIM_HV_NR_PORTS    EVTCHN_FIFO_NR_CHANNELS /* the port table: FIFO's 131072 */
/* Event array pages of a FIFO domain: 1024 event words each. */
#define XSIM_HV_FIFO_WORDS_PER_PAGE (XEN_PAGE_SIZE / sizeof(event_word_t))
#define XSIM_HV_FIFO_MAX_PAGES      (EVTCHN_FIFO_NR_CHANNELS / XSIM_HV_FIFO_WORDS_PER_PAGE)
#define XSIM_HV_MAX_DOMS            16
#define XSIM_HV_MAX_POLL            128 /* Xen's limit on SCHEDOP_poll ports */

struct xsim_hv_port {
    uint8_t state;        /* EVTCHNSTAT_* (closed = free) */
    uint16_t notify_vcpu; /* vCPU whose selector/upcall this port drives */
    domid_t remote_dom;   /* unbound: who may bind; interdomain: peer */
    evtchn_port_t remote_port;
    uint32_t virq;
    uint64_t sets;
    /* FIFO ABI (sim/hv/evtchn_fifo.c). priority: the queue new events go
     * to. fifo_pending: an event that arrived before its event array page
     * existed, raised when the page is added. last_vcpu/last_priority: the
     * queue the port was last linked on (Xen's fifo_lastq); they survive a
     * free and a re-allocation, as in Xen, so that a stale tail is found. */
    uint8_t priority;
    bool fifo_pending;
    uint8_t last_priority;
    uint16_t last_vcpu;
    /* Backend domains: this port's "interrupt" (xsim_hv_set_port_notify). */
    xsim_hv_notify_fn notify;
    void *notify_arg;
};

struct xsim_hv_vcpu {
    struct xsim_vcpu *v;
    struct vcpu_info *vi; /* where the guest reads it (NULL: not mapped yet) */
    bool vi_registered;
    uint8_t upcall_vector; /* HVMOP_set_evtchn_upcall_vector, 0 = none */
    evtchn_port_t virq_port[NR_VIRQS];
    /* SCHEDOP_poll */
    bool polling;
    evtchn_port_t poll_ports[XSIM_HV_MAX_POLL];
    unsigned int npoll;
    bool poll_timed_out;
    uint64_t poll_timer;
    /* Owned by the time model (sim/hv/time.c): per-vCPU timers and the
     * published vcpu_time_info. */
    void *time;
    /* Owned by the LAPIC timer model (sim/hw/lapic_timer.c). */
    void *lapic_timer;
    /* FIFO ABI: the control block the guest registered (NULL: none) and
     * the tail of each priority queue (0: empty). */
    struct evtchn_fifo_control_block *fifo_cb;
    evtchn_port_t fifo_tail[EVTCHN_FIFO_MAX_QUEUES];
};

/* A FIFO domain's event array (Xen's struct evtchn_fifo_domain). */
struct xsim_hv_fifo {
    event_word_t *pages[XSIM_HV_FIFO_MAX_PAGES];
    unsigned int num_evtchns; /* ports with an event word */
};

struct xsim_ioapic {
    uint32_t regsel;
    uint64_t redir[XSIM_IOAPIC_PINS];
    bool level[XSIM_IOAPIC_PINS]; /* input line state */
};

struct xsim_hv_dom {
    struct xsim_hv *hv;
    struct xsim_domain *d;
    domid_t domid;
    struct xsim_hv_features feat;
    struct shared_info *si; /* the page the guest mapped, or si_private */
    struct shared_info *si_private;
    uint64_t si_gfn; /* 0 = not mapped */
    /* XSIM_HV_NR_PORTS entries (calloc: untouched pages cost nothing);
     * port_hwm bounds every walk over them: no port at or above it was
     * ever allocated. */
    struct xsim_hv_port *ports;
    evtchn_port_t port_hwm;
    /* No free port below this one (the allocation scan starts here). */
    evtchn_port_t free_hint;
    /* NULL: 2-level. Set by the first EVTCHNOP_init_control. */
    struct xsim_hv_fifo *fifo;
    struct xsim_hv_vcpu *vcpus;
    unsigned int nr_vcpus;
    uint64_t params[HVM_NR_PARAMS];
    enum xsim_callback_mode cb_mode;
    uint32_t cb_gsi;
    uint8_t cb_vector;
    uint64_t hypercall_page_gfn;
    int shutdown_reason;
    /* SHUTDOWN_suspend: the suspending vCPU blocks until the toolstack
     * resumes the domain with resume_rc (1 cancelled, 0 new host). */
    bool suspended;
    long resume_rc;
    unsigned int suspend_vcpu;
    xsim_hv_notify_fn notify;
    void *notify_arg;
    struct xsim_ioapic ioapic;
    /* Owned by the time model (sim/hv/time.c) and the HPET (sim/hw/hpet.c). */
    void *time;
    void *hpet;
    /* Owned by the grant table model (sim/hv/gnttab.c). */
    void *gnttab;
};

struct xsim_hv {
    struct xsim_world *w;
    /* Deterministic mode: one vCPU or event runs at a time, so updates of
     * shared words need no locked instructions (evtchn_fifo.c). */
    bool serial;
    struct xsim_hv_dom *doms[XSIM_HV_MAX_DOMS];
    unsigned int ndoms;
    xsim_hv_shutdown_fn shutdown_fn;
    void *shutdown_arg;
    /* gnttab.c: kept across migrations (a domain's table is not) */
    struct xsim_gnttab_audit gnt_audit;
};

struct xsim_hv_dom *xsim__hv_dom(struct xsim_hv *hv, domid_t domid);
struct xsim_hv_dom *xsim__hv_dom_of(struct xsim_domain *d);

/* evtchn.c */
long xsim__hv_evtchn_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                        unsigned long arg, unsigned long a3, unsigned long a4, unsigned long a5);
long xsim__hv_sched_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                       unsigned long arg, unsigned long a3, unsigned long a4, unsigned long a5);
/* Set a port pending and run the 2-level notification chain. */
void xsim__hv_set_pending(struct xsim_hv_dom *hd, evtchn_port_t port);
/* vcpu_mark_events_pending: the callback injection for one vCPU. */
void xsim__hv_mark_events_pending(struct xsim_hv_dom *hd, unsigned int vcpu);
/* Re-evaluate the GSI/INTx callback line from vCPU0's upcall_pending. */
void xsim__hv_update_callback_level(struct xsim_hv_dom *hd);
void xsim__hv_vcpu_entry(struct xsim_vcpu *v, void *arg);
/* Close every port of the domain (EVTCHNOP_reset). */
void xsim__hv_evtchn_close_all(struct xsim_hv_dom *hd);
/* Ports the domain's ABI allows: 4096 (2-level) or 131072 (FIFO). */
unsigned int xsim__hv_max_ports(const struct xsim_hv_dom *hd);
/* Kick the vCPUs polling `port` (SCHEDOP_poll). */
void xsim__hv_wake_pollers(struct xsim_hv_dom *hd, evtchn_port_t port);
/* vcpu_mark_events_pending: set upcall_pending and, if it was clear,
 * inject the callback. */
void xsim__hv_vcpu_mark_pending(struct xsim_hv_dom *hd, unsigned int vcpu);

/* evtchn_fifo.c: the FIFO ABI, Xen 4.17's xen/common/event_fifo.c. */
int xsim__hv_fifo_init_control(struct xsim_hv_dom *hd, struct evtchn_init_control *ic);
int xsim__hv_fifo_expand_array(struct xsim_hv_dom *hd, uint64_t gfn);
int xsim__hv_fifo_set_priority(struct xsim_hv_dom *hd, evtchn_port_t port, uint32_t priority);
void xsim__hv_fifo_set_pending(struct xsim_hv_dom *hd, evtchn_port_t port);
void xsim__hv_fifo_clear_pending(struct xsim_hv_dom *hd, evtchn_port_t port);
void xsim__hv_fifo_unmask(struct xsim_hv_dom *hd, evtchn_port_t port);
bool xsim__hv_fifo_is_pending(const struct xsim_hv_dom *hd, evtchn_port_t port);
bool xsim__hv_fifo_is_masked(const struct xsim_hv_dom *hd, evtchn_port_t port);
/* LINKED: Xen's is_busy; such a port is not re-allocated. */
bool xsim__hv_fifo_is_linked(const struct xsim_hv_dom *hd, evtchn_port_t port);
/* Back to 2-level: control blocks and event array forgotten. */
void xsim__hv_fifo_destroy(struct xsim_hv_dom *hd);

/* hv/time.c: VCPUOP timer ops and anything else vcpu_op does not know;
 * called after vcpu_op validated vcpuid. -ENOSYS for unknown ops. */
/* __HYPERVISOR_set_timer_op for the calling vCPU `vcpuid` (time.c). */
long xsim__hv_set_timer_op(struct xsim_hv_dom *hd, unsigned int vcpuid, uint64_t timeout);
long xsim__hv_vcpu_op_ext(struct xsim_hv_dom *hd, struct xsim_vcpu *v, unsigned long cmd,
                          unsigned int vcpuid, unsigned long arg);
/* hv/time.c: a vCPU's vcpu_info moved (registration): publish its time. */
void xsim__hv_time_vcpu_info_moved(struct xsim_hv_dom *hd, unsigned int vcpuid);
/* hv/time.c: the domain was added / is being destroyed. */
int xsim__hv_time_domain_init(struct xsim_hv_dom *hd);
void xsim__hv_time_domain_free(struct xsim_hv_dom *hd);
/* hv/time.c: a restored domain: every VCPUOP timer cancelled. */
void xsim__hv_time_reset_timers(struct xsim_hv_dom *hd);
/* hw/hpet.c: MMIO at XSIM_HPET_BASE (exit already charged by the caller). */
uint64_t xsim__hpet_read(struct xsim_hv_dom *hd, uint64_t off, unsigned int size);
void xsim__hpet_write(struct xsim_hv_dom *hd, uint64_t off, unsigned int size, uint64_t val);
/* hw/lapic_timer.c: TSC-deadline MSR (0x6e0) and x2APIC timer registers
 * (LVT timer 0x832, initial count 0x838, current count 0x839, divide
 * 0x83e). Returns -ENOENT for an MSR it does not handle. */
int xsim__lapic_timer_wrmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr,
                            uint64_t val);
int xsim__lapic_timer_rdmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr,
                            uint64_t *val);

/* hv/gnttab.c */
long xsim__hv_gnttab_op(struct xsim_domain *d, struct xsim_vcpu *v, void *ctx, unsigned long cmd,
                        unsigned long uop, unsigned long count, unsigned long a4, unsigned long a5);
long xsim__hv_gnttab_map_frame(struct xsim_hv_dom *hd, uint64_t idx, uint64_t gpfn);
void xsim__hv_gnttab_free(struct xsim_hv_dom *hd);

/* hw/ioapic.c */
uint64_t xsim__ioapic_read(struct xsim_hv_dom *hd, uint64_t off, unsigned int size);
void xsim__ioapic_write(struct xsim_hv_dom *hd, uint64_t off, unsigned int size, uint64_t val);
void xsim__ioapic_set_level(struct xsim_hv_dom *hd, unsigned int pin, bool level);
void xsim__ioapic_eoi(struct xsim_hv_dom *hd, int vector);

/* hw/lapic.c: x2APIC MSRs 0x800-0x8ff. */
bool xsim__lapic_msr(uint32_t msr);
int xsim__lapic_wrmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr, uint64_t val);
int xsim__lapic_rdmsr(struct xsim_hv_dom *hd, struct xsim_vcpu *v, uint32_t msr, uint64_t *val);

/* Copy a hypercall argument struct in/out of guest memory; -EFAULT if it is
 * not inside the domain's RAM. */
int xsim__copy_from_guest(struct xsim_domain *d, void *dst, unsigned long src, size_t len);
int xsim__copy_to_guest(struct xsim_domain *d, unsigned long dst, const void *src, size_t len);

#endif
