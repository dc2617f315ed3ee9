/*
 * xs_wire.h - the XenStore wire protocol: the message header clients and
 * the daemon exchange (over a Unix socket or a domain's shared ring page),
 * the message types, the error names, and the shared ring page itself.
 *
 * Written for xensim from the layouts documented in Xen's public header
 * xen/include/public/io/xs_wire.h and docs/misc/xenstore.txt and
 * xenstore-ring.txt. Names and values are Xen's; declarations and comments
 * are our own. Freestanding: stdint.h and stddef.h only.
 *
 * A message is a 16-byte header followed by `len` payload bytes, at most
 * XENSTORE_PAYLOAD_MAX. Payloads are usually NUL-terminated strings; a READ
 * reply is the raw value without a terminator. Errors come back as an
 * XS_ERROR message whose payload is the errno name ("ENOENT\0").
 */
#ifndef XENSIM_ABI_XS_WIRE_H
#define XENSIM_ABI_XS_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Message types. Gaps are types Xen has retired (20 was XS_RESTRICT). */
enum xsd_sockmsg_type {
    XS_CONTROL = 0, /* daemon control commands; historically XS_DEBUG */
    XS_DIRECTORY = 1,
    XS_READ = 2,
    XS_GET_PERMS = 3,
    XS_WATCH = 4,
    XS_UNWATCH = 5,
    XS_TRANSACTION_START = 6,
    XS_TRANSACTION_END = 7,
    XS_INTRODUCE = 8,
    XS_RELEASE = 9,
    XS_GET_DOMAIN_PATH = 10,
    XS_WRITE = 11,
    XS_MKDIR = 12,
    XS_RM = 13,
    XS_SET_PERMS = 14,
    XS_WATCH_EVENT = 15, /* daemon -> client only, asynchronous, req_id 0 */
    XS_ERROR = 16,       /* daemon -> client only */
    XS_IS_DOMAIN_INTRODUCED = 17,
    XS_RESUME = 18,
    XS_SET_TARGET = 19,
    XS_RESET_WATCHES = 21,
    XS_DIRECTORY_PART = 22,

    XS_TYPE_COUNT, /* one past the highest type */

    XS_INVALID = 0xffff /* never a valid type */
};
#define XS_DEBUG XS_CONTROL

/* Write modes of the old XS_WRITE protocol (kept for source compatibility). */
#define XS_WRITE_NONE        "NONE"
#define XS_WRITE_CREATE      "CREATE"
#define XS_WRITE_CREATE_EXCL "CREATE|EXCL"

/* An errno value and the name that travels in an XS_ERROR payload. */
struct xsd_errors {
    int errnum;
    const char *errstring;
};

/*
 * The errors a daemon may send, in Xen's order (new ones only ever go at
 * the end). Defined only when the includer has errno values in scope, so
 * that this header need not include errno.h.
 */
#ifdef EINVAL
#define XSD_ERROR(x) \
    {                \
        x, #x        \
    }
static const struct xsd_errors xsd_errors[]
#if defined(__GNUC__)
    __attribute__((unused))
#endif
    = {
        XSD_ERROR(EINVAL),    XSD_ERROR(EACCES),  XSD_ERROR(EEXIST), XSD_ERROR(EISDIR),
        XSD_ERROR(ENOENT),    XSD_ERROR(ENOMEM),  XSD_ERROR(ENOSPC), XSD_ERROR(EIO),
        XSD_ERROR(ENOTEMPTY), XSD_ERROR(ENOSYS),  XSD_ERROR(EROFS),  XSD_ERROR(EBUSY),
        XSD_ERROR(EAGAIN),    XSD_ERROR(EISCONN), XSD_ERROR(E2BIG),  XSD_ERROR(EPERM),
};
#endif

/* Every message starts with this header, in the host's byte order. */
struct xsd_sockmsg {
    uint32_t type;   /* enum xsd_sockmsg_type */
    uint32_t req_id; /* chosen by the client, echoed in the reply */
    uint32_t tx_id;  /* transaction id, 0 outside a transaction */
    uint32_t len;    /* payload bytes that follow */
};

/* Index of the two strings in a watch event's payload (path\0token\0). */
enum xs_watch_type {
    XS_WATCH_PATH = 0,
    XS_WATCH_TOKEN,
};

/*
 * The shared page of a domain's connection. The guest produces requests in
 * req[] (req_prod) and the daemon consumes them (req_cons); the daemon
 * produces replies and watch events in rsp[] (rsp_prod) and the guest
 * consumes them (rsp_cons). Indexes run freely and are masked to the ring;
 * a producer never gets more than XENSTORE_RING_SIZE ahead of its consumer.
 * Messages are byte streams: one may wrap and may arrive in pieces.
 */
#define XENSTORE_RING_SIZE 1024
typedef uint32_t XENSTORE_RING_IDX;
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

struct xenstore_domain_interface {
    char req[XENSTORE_RING_SIZE]; /* guest -> daemon */
    char rsp[XENSTORE_RING_SIZE]; /* daemon -> guest */
    XENSTORE_RING_IDX req_cons, req_prod;
    XENSTORE_RING_IDX rsp_cons, rsp_prod;
    uint32_t server_features; /* XENSTORE_SERVER_FEATURE_* the daemon offers */
    uint32_t connection;      /* XENSTORE_CONNECTED / XENSTORE_RECONNECT */
    uint32_t error;           /* XENSTORE_ERROR_*, written by the daemon */
};

/* Largest payload in either direction; a longer request is a protocol
 * violation that ends the connection. */
#define XENSTORE_PAYLOAD_MAX 4096

/* Path length ceilings of the protocol document; longer paths get EINVAL.
 * (xenstored 4.17, the reference daemon of the differential test, enforces
 * 2048 for both.) */
#define XENSTORE_ABS_PATH_MAX 3072
#define XENSTORE_REL_PATH_MAX 2048

/* server_features bits. */
#define XENSTORE_SERVER_FEATURE_RECONNECTION 1 /* the guest may ask to reset the ring */
#define XENSTORE_SERVER_FEATURE_ERROR        2 /* the daemon reports errors in `error` */

/* connection values. */
#define XENSTORE_CONNECTED 0 /* normal operation */
#define XENSTORE_RECONNECT 1 /* the guest asked for a reset; the daemon clears it */

/* error values. */
#define XENSTORE_ERROR_NONE    0
#define XENSTORE_ERROR_COMM    1 /* communication problem */
#define XENSTORE_ERROR_RINGIDX 2 /* an index ran more than a ring ahead */
#define XENSTORE_ERROR_PROTO   3 /* protocol violation, e.g. a payload over the maximum */

_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg is 16 bytes");
_Static_assert(offsetof(struct xsd_sockmsg, type) == 0, "xsd_sockmsg.type");
_Static_assert(offsetof(struct xsd_sockmsg, req_id) == 4, "xsd_sockmsg.req_id");
_Static_assert(offsetof(struct xsd_sockmsg, tx_id) == 8, "xsd_sockmsg.tx_id");
_Static_assert(offsetof(struct xsd_sockmsg, len) == 12, "xsd_sockmsg.len");
_Static_assert((XENSTORE_RING_SIZE & (XENSTORE_RING_SIZE - 1)) == 0, "ring size is a power of 2");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp) == 1024, "rsp ring offset");
_Static_assert(offsetof(struct xenstore_domain_interface, req_cons) == 2048, "req_cons offset");
_Static_assert(offsetof(struct xenstore_domain_interface, req_prod) == 2052, "req_prod offset");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp_cons) == 2056, "rsp_cons offset");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp_prod) == 2060, "rsp_prod offset");
_Static_assert(offsetof(struct xenstore_domain_interface, server_features) == 2064,
               "server_features offset");
_Static_assert(offsetof(struct xenstore_domain_interface, connection) == 2068, "connection offset");
_Static_assert(offsetof(struct xenstore_domain_interface, error) == 2072, "error offset");
_Static_assert(sizeof(struct xenstore_domain_interface) == 2076, "ring page layout size");
_Static_assert(XS_RESET_WATCHES == 21 && XS_DIRECTORY_PART == 22, "retired type 20 kept as gap");

#endif /* XENSIM_ABI_XS_WIRE_H */
