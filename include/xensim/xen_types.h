/*
 * xen_types.h - the few Xen types the host API names, and nothing else.
 *
 * The host API (machine.h, hv.h, toolstack.h, gnttab.h, blkback.h, time.h,
 * evsource.h) passes domain ids, event channel ports and grant references,
 * and Xen's shared_info, vcpu_info, vcpu_time_info and evtchn_status
 * records and the XenStore ring page by pointer.
 * It takes them from here rather than from xensim/abi/, so that a file can
 * include the host API together with Xen's own public headers (Debian's
 * libxen-dev, or a kernel's copy of xen/include/public) in either order:
 * the typedefs are Xen's exactly (C11 lets a typedef be repeated with the
 * same type) and the structs are only declared. tests/abi builds such a
 * file both ways.
 *
 * Code that needs the layouts includes xensim/abi/ (xensim's own copy of
 * the ABI) or Xen's headers, not both in one file.
 */
#ifndef XENSIM_XEN_TYPES_H
#define XENSIM_XEN_TYPES_H

#include <stdint.h>

typedef uint16_t domid_t;       /* xen.h */
typedef uint32_t evtchn_port_t; /* event_channel.h */
typedef uint32_t grant_ref_t;   /* grant_table.h */

struct shared_info;
struct vcpu_info;
struct vcpu_time_info;
struct evtchn_status;
struct xenstore_domain_interface; /* io/xs_wire.h */

#endif /* XENSIM_XEN_TYPES_H */
