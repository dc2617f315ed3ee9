/*
 * abi_xen.c - the ABI table of Xen's canonical public headers (Debian's
 * libxen-dev), built from the same items.def as abi_ours.c. Sees only the
 * canonical headers, at the interface version xensim's headers describe.
 */
#define __XEN_INTERFACE_VERSION__ 0x00040e00

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* memset, used by Xen's SHARED_RING_INIT */

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/io/blkif.h>
#include <xen/io/ring.h>
#include <xen/io/xenbus.h>
#ifdef XENSIM_ABI_HAVE_XS_WIRE
#include <errno.h> /* xs_wire.h declares xsd_errors[] only with errno values in scope */
#include <xen/io/xs_wire.h>
#endif

#include "abi_item.h"

#define ITEM_SIZE   ABI_ITEM_SIZE
#define ITEM_OFFSET ABI_ITEM_OFFSET
#define ITEM_CONST  ABI_ITEM_CONST
#define ITEM_SCALAR ABI_ITEM_SCALAR
#define ITEM_STR    ABI_ITEM_STR
#define ITEM_PAIR   ABI_ITEM_PAIR_XEN

static const struct abi_item items[] = {
#include "items.def"
#ifdef XENSIM_ABI_HAVE_XS_WIRE
#include "items_xs_wire.def"
#endif
};

const struct abi_table abi_table_xen = {items, sizeof(items) / sizeof(items[0])};
const unsigned int abi_xen_interface_version = __XEN_INTERFACE_VERSION__;
const unsigned int abi_xen_interface_latest = __XEN_LATEST_INTERFACE_VERSION__;

/* Xen's ring macros leave the barriers to the includer (interface versions
 * from 0x00030208 on). */
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

static RING_IDX abi_get_prod(const volatile RING_IDX *prod)
{
    RING_IDX v = *prod;
    xen_rmb();
    return v;
}

#define SC_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, n)  RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, n)
#define SC_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, n) RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, n)
#define SC_FINAL_CHECK_FOR_REQUESTS(r, w)        RING_FINAL_CHECK_FOR_REQUESTS(r, w)
#define SC_FINAL_CHECK_FOR_RESPONSES(r, w)       RING_FINAL_CHECK_FOR_RESPONSES(r, w)
#define SC_PUSH_REQUESTS(r)                      RING_PUSH_REQUESTS(r)
#define SC_PUSH_RESPONSES(r)                     RING_PUSH_RESPONSES(r)
#define SC_GET_REQ_PROD(r)                       abi_get_prod(&(r)->sring->req_prod)
#define SC_GET_RSP_PROD(r)                       abi_get_prod(&(r)->sring->rsp_prod)
#define SC_FUNCTION                              abi_ring_scenario_xen
#include "ring_scenario.inc"

#ifdef XENSIM_ABI_HAVE_XS_WIRE
#define XS_FUNCTION abi_xs_errors_xen
#include "xs_errors.inc"
#endif
