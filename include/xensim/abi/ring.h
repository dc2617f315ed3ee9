/*
 * ring.h - shared producer/consumer rings of split drivers (blkif, netif,
 * ...): the page layout and the index arithmetic, Xen's io/ring.h macros.
 *
 * Written for xensim from the layouts and semantics documented in Xen's
 * public header xen/include/public/io/ring.h (interface version 0x00040e00).
 * Names and values are Xen's; declarations and comments are our own.
 *
 * Differences from Xen's header, on purpose:
 * - The macros that contain a memory barrier (RING_PUSH_*, the
 *   push-and-check-notify and final-check macros) exist only as XG_RING_*
 *   variants taking a `const struct xg_platform *` first: they access the
 *   shared indexes with xg_read_u32/xg_write_u32 and order them with
 *   xg_wmb/xg_mb/xg_rmb, which are scheduling points in the simulator. The
 *   plain Xen names are deliberately not defined, so that no ring code can
 *   publish an index without going through the platform.
 * - The slot array is a C99 flexible array member, so sizeof(struct
 *   NAME_sring) is the 64-byte header only (Xen declares ring[1]).
 * - No GNU statement expressions and no memset: the header stays
 *   freestanding and builds with -std=c11 -pedantic. The one extension is
 *   __typeof__ in RING_COPY_*, which GCC and clang accept in strict mode.
 */
#ifndef XENSIM_ABI_RING_H
#define XENSIM_ABI_RING_H

#include <stddef.h>
#include <stdint.h>

#include "xensim/abi/xen.h"
#include "xensim/platform.h"

/* Free-running ring index; slots are index & (size - 1). All index
 * comparisons are done on differences, so wrap-around is harmless. */
typedef unsigned int RING_IDX;

/* Round a 32-bit unsigned constant down to a power of two. */
#define XG__RD2(x)  (((x)&0x00000002) ? 0x2 : ((x)&0x1))
#define XG__RD4(x)  (((x)&0x0000000c) ? XG__RD2((x) >> 2) << 2 : XG__RD2(x))
#define XG__RD8(x)  (((x)&0x000000f0) ? XG__RD4((x) >> 4) << 4 : XG__RD4(x))
#define XG__RD16(x) (((x)&0x0000ff00) ? XG__RD8((x) >> 8) << 8 : XG__RD8(x))
#define XG__RD32(x) (((x)&0xffff0000) ? XG__RD16((x) >> 16) << 16 : XG__RD16(x))

/*
 * Number of slots in a ring of `_sz` bytes (header included): as many as
 * fit, rounded down to a power of two. __CONST_RING_SIZE takes the ring's
 * name tag and is a constant expression; __RING_SIZE takes a pointer to the
 * shared ring.
 */
#define __CONST_RING_SIZE(_s, _sz)                        \
    (XG__RD32(((_sz)-offsetof(struct _s##_sring, ring)) / \
              sizeof(((struct _s##_sring *)0)->ring[0])))
#define __RING_SIZE(_s, _sz)                                                      \
    (XG__RD32(((_sz) - (size_t)((const char *)(_s)->ring - (const char *)(_s))) / \
              sizeof((_s)->ring[0])))

/*
 * DEFINE_RING_TYPES(name, request type, response type) declares
 *   union name_sring_entry, struct name_sring (the shared page),
 *   struct name_front_ring and struct name_back_ring (each end's private
 *   state), and the typedefs name_sring_t, name_front_ring_t,
 *   name_back_ring_t.
 * The shared page starts with the four indexes and 48 bytes of padding
 * (pvt is used by a few protocols), then the slots at offset 64. Each slot
 * holds a request or, once the back end has answered it, a response.
 * req_event / rsp_event hold the index at which the consumer wants the next
 * notification.
 */
#define DEFINE_RING_TYPES(__name, __req_t, __rsp_t)             \
    union __name##_sring_entry {                                \
        __req_t req;                                            \
        __rsp_t rsp;                                            \
    };                                                          \
    struct __name##_sring {                                     \
        RING_IDX req_prod, req_event;                           \
        RING_IDX rsp_prod, rsp_event;                           \
        union {                                                 \
            struct {                                            \
                uint8_t smartpoll_active;                       \
            } netif;                                            \
            struct {                                            \
                uint8_t msg;                                    \
            } tapif_user;                                       \
            uint8_t pvt_pad[4];                                 \
        } pvt;                                                  \
        uint8_t __pad[44];                                      \
        union __name##_sring_entry ring[];                      \
    };                                                          \
    struct __name##_front_ring {                                \
        RING_IDX req_prod_pvt; /* next request slot to fill */  \
        RING_IDX rsp_cons;     /* next response to consume */   \
        unsigned int nr_ents;                                   \
        struct __name##_sring *sring;                           \
    };                                                          \
    struct __name##_back_ring {                                 \
        RING_IDX rsp_prod_pvt; /* next response slot to fill */ \
        RING_IDX req_cons;     /* next request to consume */    \
        unsigned int nr_ents;                                   \
        struct __name##_sring *sring;                           \
    };                                                          \
    typedef struct __name##_sring __name##_sring_t;             \
    typedef struct __name##_front_ring __name##_front_ring_t;   \
    typedef struct __name##_back_ring __name##_back_ring_t

/* Zero `n` bytes (SHARED_RING_INIT without memset). */
static inline void xg__ring_zero(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = 0;
}

static inline RING_IDX xg__ring_min(RING_IDX a, RING_IDX b)
{
    return a < b ? a : b;
}

/*
 * Initialise a shared ring. Done by the front end before it grants the page,
 * so plain stores suffice: nobody else can see the page yet.
 */
#define SHARED_RING_INIT(_s)                                         \
    do {                                                             \
        (_s)->req_prod = (_s)->rsp_prod = 0;                         \
        (_s)->req_event = (_s)->rsp_event = 1;                       \
        xg__ring_zero((_s)->pvt.pvt_pad, sizeof((_s)->pvt.pvt_pad)); \
        xg__ring_zero((_s)->__pad, sizeof((_s)->__pad));             \
    } while (0)

/* Attach each end's private state to a shared ring of `__size` bytes whose
 * indexes are at `_i` (0 for a new ring). */
#define FRONT_RING_ATTACH(_r, _s, _i, __size)                  \
    do {                                                       \
        (_r)->req_prod_pvt = (_i);                             \
        (_r)->rsp_cons = (_i);                                 \
        (_r)->nr_ents = (unsigned int)__RING_SIZE(_s, __size); \
        (_r)->sring = (_s);                                    \
    } while (0)
#define FRONT_RING_INIT(_r, _s, __size) FRONT_RING_ATTACH(_r, _s, 0, __size)
#define XEN_FRONT_RING_INIT(r, s, size) \
    do {                                \
        SHARED_RING_INIT(s);            \
        FRONT_RING_INIT(r, s, size);    \
    } while (0)

#define BACK_RING_ATTACH(_r, _s, _i, __size)                   \
    do {                                                       \
        (_r)->rsp_prod_pvt = (_i);                             \
        (_r)->req_cons = (_i);                                 \
        (_r)->nr_ents = (unsigned int)__RING_SIZE(_s, __size); \
        (_r)->sring = (_s);                                    \
    } while (0)
#define BACK_RING_INIT(_r, _s, __size) BACK_RING_ATTACH(_r, _s, 0, __size)

/* Slots in the ring. */
#define RING_SIZE(_r) ((_r)->nr_ents)

/* Front end: slots not holding a request or an unconsumed response. */
#define RING_FREE_REQUESTS(_r) (RING_SIZE(_r) - ((_r)->req_prod_pvt - (_r)->rsp_cons))
#define RING_FULL(_r)          (RING_FREE_REQUESTS(_r) == 0)

/*
 * Unconsumed messages. These read the other end's producer index with a
 * plain load and no barrier: use them only where that is enough (tests,
 * or after XG_RING_* has fetched the index), and read the index with
 * XG_RING_GET_REQ_PROD/XG_RING_GET_RSP_PROD in consumer loops. The request
 * count is capped by the free response slots, so a back end cannot be made
 * to overrun its responses by a lying req_prod.
 */
#define XEN_RING_NR_UNCONSUMED_RESPONSES(_r) ((RING_IDX)((_r)->sring->rsp_prod - (_r)->rsp_cons))
#define XEN_RING_NR_UNCONSUMED_REQUESTS(_r)                          \
    xg__ring_min((RING_IDX)((_r)->sring->req_prod - (_r)->req_cons), \
                 (RING_IDX)(RING_SIZE(_r) - ((_r)->req_cons - (_r)->rsp_prod_pvt)))
#define RING_HAS_UNCONSUMED_RESPONSES(_r) XEN_RING_NR_UNCONSUMED_RESPONSES(_r)
#define RING_HAS_UNCONSUMED_REQUESTS(_r)  XEN_RING_NR_UNCONSUMED_REQUESTS(_r)

/* Pointer to the slot of index `_idx`, in shared memory. */
#define RING_GET_REQUEST(_r, _idx)  (&((_r)->sring->ring[((_idx) & (RING_SIZE(_r) - 1))].req))
#define RING_GET_RESPONSE(_r, _idx) (&((_r)->sring->ring[((_idx) & (RING_SIZE(_r) - 1))].rsp))

/*
 * Copy a slot out of shared memory exactly once (through a volatile read, so
 * the compiler cannot re-read the shared slot later) and work on the copy
 * only: the other end may rewrite the slot at any time (XSA-155). The
 * unevaluated assignment checks that `dest` has the slot's type.
 */
#define RING_COPY_(type, r, idx, dest)                                      \
    do {                                                                    \
        (void)sizeof(*(dest) = *RING_GET_##type(r, idx));                   \
        *(dest) = *(volatile __typeof__(*(dest)) *)RING_GET_##type(r, idx); \
    } while (0)
#define RING_COPY_REQUEST(r, idx, req)  RING_COPY_(REQUEST, r, idx, req)
#define RING_COPY_RESPONSE(r, idx, rsp) RING_COPY_(RESPONSE, r, idx, rsp)

/* Back end: would consuming request `_cons` overrun the response slots? */
#define RING_REQUEST_CONS_OVERFLOW(_r, _cons) (((_cons) - (_r)->rsp_prod_pvt) >= RING_SIZE(_r))
/* A front end that published more requests than the ring holds is broken. */
#define RING_REQUEST_PROD_OVERFLOW(_r, _prod) (((_prod) - (_r)->rsp_prod_pvt) > RING_SIZE(_r))
/* A back end that published more responses than requests in flight is
 * broken. */
#define RING_RESPONSE_PROD_OVERFLOW(_r, _prod) (((_prod) - (_r)->rsp_cons) > RING_SIZE(_r))

/*
 * Platform variants: every access to a shared index is a scheduling point,
 * and the barriers are the platform's.
 */

/* Read the other end's producer index, then rmb so that the slots it covers
 * are read after it. */
static inline RING_IDX xg_ring_read_prod(const struct xg_platform *p, const volatile RING_IDX *prod)
{
    RING_IDX v = xg_read_u32(p, prod);
    xg_rmb(p);
    return v;
}
#define XG_RING_GET_REQ_PROD(p, _r) xg_ring_read_prod(p, &(_r)->sring->req_prod)
#define XG_RING_GET_RSP_PROD(p, _r) xg_ring_read_prod(p, &(_r)->sring->rsp_prod)

#define XG_RING_NR_UNCONSUMED_RESPONSES(p, _r) \
    ((RING_IDX)(xg_read_u32(p, &(_r)->sring->rsp_prod) - (_r)->rsp_cons))
#define XG_RING_NR_UNCONSUMED_REQUESTS(p, _r)                                         \
    xg__ring_min((RING_IDX)(xg_read_u32(p, &(_r)->sring->req_prod) - (_r)->req_cons), \
                 (RING_IDX)(RING_SIZE(_r) - ((_r)->req_cons - (_r)->rsp_prod_pvt)))

/* Copy a slot out once, after a scheduling point (see RING_COPY_). */
#define XG_RING_COPY_REQUEST(p, r, idx, req)                  \
    do {                                                      \
        xg_point(p, XG_POINT_LOAD, RING_GET_REQUEST(r, idx)); \
        RING_COPY_REQUEST(r, idx, req);                       \
    } while (0)
#define XG_RING_COPY_RESPONSE(p, r, idx, rsp)                  \
    do {                                                       \
        xg_point(p, XG_POINT_LOAD, RING_GET_RESPONSE(r, idx)); \
        RING_COPY_RESPONSE(r, idx, rsp);                       \
    } while (0)

/* Write a whole request or response built in private memory into its slot
 * in one go, after a scheduling point. */
#define XG_RING_PUT_REQUEST(p, r, idx, req)                    \
    do {                                                       \
        xg_point(p, XG_POINT_STORE, RING_GET_REQUEST(r, idx)); \
        *RING_GET_REQUEST(r, idx) = *(req);                    \
    } while (0)
#define XG_RING_PUT_RESPONSE(p, r, idx, rsp)                    \
    do {                                                        \
        xg_point(p, XG_POINT_STORE, RING_GET_RESPONSE(r, idx)); \
        *RING_GET_RESPONSE(r, idx) = *(rsp);                    \
    } while (0)

/* Publish the slots filled so far. The wmb makes the other end see the
 * slots before the index that covers them. */
#define XG_RING_PUSH_REQUESTS(p, _r)                                 \
    do {                                                             \
        xg_wmb(p);                                                   \
        xg_write_u32(p, &(_r)->sring->req_prod, (_r)->req_prod_pvt); \
    } while (0)
#define XG_RING_PUSH_RESPONSES(p, _r)                                \
    do {                                                             \
        xg_wmb(p);                                                   \
        xg_write_u32(p, &(_r)->sring->rsp_prod, (_r)->rsp_prod_pvt); \
    } while (0)

/*
 * Publish and decide whether the other end needs an event: it asked to be
 * notified at index `event`, so notify iff `event` lies in (old, new], i.e.
 * (new - event) < (new - old) in wrap-around arithmetic. The mb orders our
 * index store before the load of the other end's event index; without it
 * both ends can miss each other (we read a stale event while it reads our
 * stale index) and the ring stalls.
 */
#define XG_RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(p, _r, _notify)                       \
    do {                                                                             \
        RING_IDX xg__old = xg_read_u32(p, &(_r)->sring->req_prod);                   \
        RING_IDX xg__new = (_r)->req_prod_pvt;                                       \
        xg_wmb(p);                                                                   \
        xg_write_u32(p, &(_r)->sring->req_prod, xg__new);                            \
        xg_mb(p);                                                                    \
        (_notify) = ((RING_IDX)(xg__new - xg_read_u32(p, &(_r)->sring->req_event)) < \
                     (RING_IDX)(xg__new - xg__old));                                 \
    } while (0)
#define XG_RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(p, _r, _notify)                      \
    do {                                                                             \
        RING_IDX xg__old = xg_read_u32(p, &(_r)->sring->rsp_prod);                   \
        RING_IDX xg__new = (_r)->rsp_prod_pvt;                                       \
        xg_wmb(p);                                                                   \
        xg_write_u32(p, &(_r)->sring->rsp_prod, xg__new);                            \
        xg_mb(p);                                                                    \
        (_notify) = ((RING_IDX)(xg__new - xg_read_u32(p, &(_r)->sring->rsp_event)) < \
                     (RING_IDX)(xg__new - xg__old));                                 \
    } while (0)

/*
 * Before a consumer sleeps: if nothing is left, ask for an event at the next
 * index (event = cons + 1), mb, and look again, since the producer may have
 * published after our first look but before it could see the new event
 * index. `_work_to_do` is the number of unconsumed messages (non-zero: do
 * not sleep; re-read the producer index with XG_RING_GET_*_PROD).
 */
#define XG_RING_FINAL_CHECK_FOR_REQUESTS(p, _r, _work_to_do)          \
    do {                                                              \
        (_work_to_do) = XG_RING_NR_UNCONSUMED_REQUESTS(p, _r);        \
        if (_work_to_do)                                              \
            break;                                                    \
        xg_write_u32(p, &(_r)->sring->req_event, (_r)->req_cons + 1); \
        xg_mb(p);                                                     \
        (_work_to_do) = XG_RING_NR_UNCONSUMED_REQUESTS(p, _r);        \
    } while (0)
#define XG_RING_FINAL_CHECK_FOR_RESPONSES(p, _r, _work_to_do)         \
    do {                                                              \
        (_work_to_do) = XG_RING_NR_UNCONSUMED_RESPONSES(p, _r);       \
        if (_work_to_do)                                              \
            break;                                                    \
        xg_write_u32(p, &(_r)->sring->rsp_event, (_r)->rsp_cons + 1); \
        xg_mb(p);                                                     \
        (_work_to_do) = XG_RING_NR_UNCONSUMED_RESPONSES(p, _r);       \
    } while (0)

_Static_assert(sizeof(RING_IDX) == sizeof(uint32_t), "RING_IDX is accessed as a u32");
_Static_assert(XG__RD32(0x7fffffffu) == 0x40000000u && XG__RD32(63u) == 32u && XG__RD32(1u) == 1u,
               "round down to a power of two");

#endif /* XENSIM_ABI_RING_H */
