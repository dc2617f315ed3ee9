/*
 * abi_ours.c - the ABI table of xensim's own headers (include/xensim/abi/).
 * Sees only those headers; abi_xen.c builds the same table from Xen's.
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
#ifdef XENSIM_ABI_HAVE_XS_WIRE
#include <errno.h> /* xs_wire.h declares xsd_errors[] only with errno values in scope */
#include "xensim/abi/xs_wire.h"
#endif

#include "abi_item.h"

#define ITEM_SIZE   ABI_ITEM_SIZE
#define ITEM_OFFSET ABI_ITEM_OFFSET
#define ITEM_CONST  ABI_ITEM_CONST
#define ITEM_SCALAR ABI_ITEM_SCALAR
#define ITEM_STR    ABI_ITEM_STR
#define ITEM_PAIR   ABI_ITEM_PAIR_OURS

static const struct abi_item items[] = {
#include "items.def"
#ifdef XENSIM_ABI_HAVE_XS_WIRE
#include "items_xs_wire.def"
#endif
};

const struct abi_table abi_table_ours = {items, sizeof(items) / sizeof(items[0])};

/* The ring behaviour scenario, on xensim's macros and a platform whose
 * scheduling points do nothing. */
static void abi_point(void *ctx, enum xg_point_kind kind, const volatile void *addr)
{
    (void)ctx;
    (void)kind;
    (void)addr;
}

static const struct xg_platform_ops abi_ops = {.point = abi_point};
static const struct xg_platform abi_plat = {&abi_ops, NULL};

#define SC_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, n) \
    XG_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&abi_plat, r, n)
#define SC_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, n) \
    XG_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&abi_plat, r, n)
#define SC_FINAL_CHECK_FOR_REQUESTS(r, w)  XG_RING_FINAL_CHECK_FOR_REQUESTS(&abi_plat, r, w)
#define SC_FINAL_CHECK_FOR_RESPONSES(r, w) XG_RING_FINAL_CHECK_FOR_RESPONSES(&abi_plat, r, w)
#define SC_PUSH_REQUESTS(r)                XG_RING_PUSH_REQUESTS(&abi_plat, r)
#define SC_PUSH_RESPONSES(r)               XG_RING_PUSH_RESPONSES(&abi_plat, r)
#define SC_GET_REQ_PROD(r)                 XG_RING_GET_REQ_PROD(&abi_plat, r)
#define SC_GET_RSP_PROD(r)                 XG_RING_GET_RSP_PROD(&abi_plat, r)
#define SC_FUNCTION                        abi_ring_scenario_ours
#include "ring_scenario.inc"

#ifdef XENSIM_ABI_HAVE_XS_WIRE
#define XS_FUNCTION abi_xs_errors_ours
#include "xs_errors.inc"
#endif
