/*
 * use_macros.c - expands the function-like macros of include/xensim/abi/
 * the way guest code would, so that abi_static can check they compile
 * cleanly under its strict flags (-pedantic, -Wshadow, ...). Only
 * compiled (-fsyntax-only), never run.
 */
#include "xensim/abi/blkif.h"
#include "xensim/abi/cpuid.h"
#include "xensim/abi/event_channel.h"
#include "xensim/abi/grant_table.h"
#include "xensim/abi/hvm_op.h"
#include "xensim/abi/hvm_params.h"
#include "xensim/abi/memory.h"
#include "xensim/abi/ring.h"
#include "xensim/abi/sched.h"
#include "xensim/abi/vcpu.h"
#include "xensim/abi/version.h"
#include "xensim/abi/xen.h"
#include "xensim/abi/xenbus.h"

/* A protocol of one's own, as a driver would declare it. */
struct demo_request {
    uint64_t id;
    uint32_t op;
};
struct demo_response {
    uint64_t id;
    int32_t status;
};
DEFINE_RING_TYPES(demo, struct demo_request, struct demo_response);

/* (4096 - 64) / 16 = 252 slots fit; rounded down to a power of two. */
_Static_assert(__CONST_RING_SIZE(demo, 4096) == 128, "demo ring");

int use_front(const struct xg_platform *p, struct blkif_sring *s, struct blkif_front_ring *r);
int use_back(const struct xg_platform *p, struct demo_back_ring *r);
uint64_t use_misc(evtchn_port_t *ports, struct sched_poll *poll, struct xen_memory_reservation *m,
                  xen_pfn_t *frames);

/* Front end: queue one request from a private copy, publish, consume. */
int use_front(const struct xg_platform *p, struct blkif_sring *s, struct blkif_front_ring *r)
{
    struct blkif_request req = {.operation = BLKIF_OP_READ, .nr_segments = 1};
    struct blkif_response rsp;
    RING_IDX prod;
    int notify, more;

    XEN_FRONT_RING_INIT(r, s, XEN_PAGE_SIZE);
    if (RING_FULL(r) || RING_FREE_REQUESTS(r) < 1)
        return -1;
    XG_RING_PUT_REQUEST(p, r, r->req_prod_pvt, &req);
    r->req_prod_pvt++;
    XG_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(p, r, notify);
    XG_RING_PUSH_REQUESTS(p, r);

    prod = XG_RING_GET_RSP_PROD(p, r);
    if (RING_RESPONSE_PROD_OVERFLOW(r, prod))
        return -2;
    while (r->rsp_cons != prod) {
        XG_RING_COPY_RESPONSE(p, r, r->rsp_cons, &rsp);
        RING_COPY_RESPONSE(r, r->rsp_cons, &rsp);
        r->rsp_cons++;
    }
    XG_RING_FINAL_CHECK_FOR_RESPONSES(p, r, more);
    return notify + more + (int)RING_HAS_UNCONSUMED_RESPONSES(r) +
           (int)XG_RING_NR_UNCONSUMED_RESPONSES(p, r) + rsp.status;
}

/* Back end: consume requests from a private copy, answer them. */
int use_back(const struct xg_platform *p, struct demo_back_ring *r)
{
    struct demo_request req;
    struct demo_response rsp = {0};
    RING_IDX prod = XG_RING_GET_REQ_PROD(p, r);
    int notify, more;

    if (RING_REQUEST_PROD_OVERFLOW(r, prod))
        return -1;
    while (r->req_cons != prod && !RING_REQUEST_CONS_OVERFLOW(r, r->req_cons)) {
        XG_RING_COPY_REQUEST(p, r, r->req_cons, &req);
        RING_COPY_REQUEST(r, r->req_cons, &req);
        r->req_cons++;
        rsp.id = req.id;
        XG_RING_PUT_RESPONSE(p, r, r->rsp_prod_pvt, &rsp);
        *RING_GET_RESPONSE(r, r->rsp_prod_pvt) = rsp;
        r->rsp_prod_pvt++;
    }
    XG_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(p, r, notify);
    XG_RING_PUSH_RESPONSES(p, r);
    XG_RING_FINAL_CHECK_FOR_REQUESTS(p, r, more);
    BACK_RING_ATTACH(r, r->sring, r->req_cons, 2 * XEN_PAGE_SIZE);
    return notify + more + (int)RING_HAS_UNCONSUMED_REQUESTS(r) +
           (int)XG_RING_NR_UNCONSUMED_REQUESTS(p, r) + (int)RING_GET_REQUEST(r, 0)->op;
}

/* Handles, flags and encoders. */
uint64_t use_misc(evtchn_port_t *ports, struct sched_poll *poll, struct xen_memory_reservation *m,
                  xen_pfn_t *frames)
{
    struct grant_entry_v1 ge = {.flags = GTF_permit_access | GTF_readonly, .domid = 0};
    uint64_t v = 0;

    set_xen_guest_handle(poll->ports, ports);
    set_xen_guest_handle(m->extent_start, frames);
    m->mem_flags = XENMEMF_exact_node(1) | XENMEMF_address_bits(32);
    v += XG_HVM_CALLBACK_GSI(28) + XG_HVM_CALLBACK_VECTOR(0xf3) +
         XG_HVM_CALLBACK_PCI_INTX(0, 0, 3u << 3, 0) + XG_HVM_CALLBACK_TYPE(v);
    v += XEN_CPUID_LEAF(XG_XEN_CPUID_LEAF_HVM) + XENMEMF_get_node(m->mem_flags) +
         XENMEMF_get_address_bits(m->mem_flags);
    v += (uint64_t)(ge.flags & GTF_type_mask) + (uint64_t)EVTCHN_FIFO_LINK_MASK +
         (uint64_t)XenbusStateConnected + XG_BLKIF_MAX_INDIRECT_SEGMENTS;
    return v;
}
