/*
 * xs_host.c - XenStore hosted in a world; see xshost.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/abi/hvm_params.h"
#include "xensim/abi/xs_wire.h"
#include "xensim/xenstore.h"
#include "xensim/xshost.h"

#define MAX_RINGS 16
/* The tag of a delayed kick (xsim_xshost_set_latency): "XSLT". */
#define EV_KICK 0x58534c54

struct ring_slot {
    struct xsim_xshost *h;
    domid_t domid;
    evtchn_port_t bport; /* dom0's end */
    struct xsim_xs_ring *ring;
    uint64_t migrations;
    bool kick_due; /* a delayed kick is scheduled */
};

struct xsim_xshost {
    struct xsim_world *w;
    struct xsim_hv *hv;
    struct xsim_xs *xs;
    struct xsim_xs_conn *ts; /* the toolstack's dom0 connection */
    struct ring_slot rings[MAX_RINGS];
    unsigned int nrings;
    uint64_t latency_ns;
    struct xsim_xshost_observer obs;
};

static void ring_notify(void *ctx)
{
    struct ring_slot *r = ctx;

    (void)xsim_hv_evtchn_send(r->h->hv, 0, r->bport);
}

static void delayed_kick(struct xsim_world *w, void *arg)
{
    struct ring_slot *r = arg;

    (void)w;
    r->kick_due = false;
    if (r->ring != NULL)
        (void)xsim_xs_ring_kick(r->ring);
}

static void ring_irq(void *arg, domid_t domid, evtchn_port_t port)
{
    struct ring_slot *r = arg;
    struct xsim_xshost *h = r->h;

    (void)domid;
    (void)port;
    if (r->ring == NULL)
        return;
    if (h->latency_ns == 0) {
        (void)xsim_xs_ring_kick(r->ring);
        return;
    }
    /* Notifications while a kick is due coalesce into it, as a daemon
     * woken once reads everything the ring holds by then. */
    if (r->kick_due)
        return;
    if (xsim_event_schedule(h->w, xsim_world_now(h->w) + h->latency_ns, EV_KICK, delayed_kick, r) !=
        0)
        r->kick_due = true;
    else
        (void)xsim_xs_ring_kick(r->ring); /* no memory for the event: answer now */
}

static void event_queued(void *ctx, unsigned int domid, const char *path, uint32_t plen,
                         const char *token, uint32_t tlen)
{
    struct xsim_xshost *h = ctx;

    if (h->obs.event != NULL && domid != 0)
        h->obs.event(h->obs.arg, (domid_t)domid, path, plen, token, tlen);
}

void xsim_xshost_set_latency(struct xsim_xshost *h, uint64_t ns)
{
    h->latency_ns = ns;
}

void xsim_xshost_set_observer(struct xsim_xshost *h, const struct xsim_xshost_observer *obs)
{
    if (obs != NULL)
        h->obs = *obs;
    else
        memset(&h->obs, 0, sizeof(h->obs));
}

static bool domain_exists(void *ctx, unsigned int domid)
{
    struct xsim_xshost *h = ctx;

    return domid < DOMID_SELF && xsim_world_domain(h->w, (uint16_t)domid) != NULL;
}

/* The daemon's INTRODUCE: attach the domain's ring page and port. */
static int introduce(void *ctx, unsigned int domid, uint64_t mfn, uint32_t port)
{
    struct xsim_xshost *h = ctx;
    struct xsim_domain *d = xsim_world_domain(h->w, (uint16_t)domid);
    struct ring_slot *r;
    void *page;
    int rc;

    if (d == NULL || h->nrings == MAX_RINGS)
        return -ENOSPC;
    page = xsim_domain_gfn_to_ptr(d, mfn);
    if (page == NULL)
        return -EINVAL;
    r = &h->rings[h->nrings];
    memset(r, 0, sizeof(*r));
    r->h = h;
    r->domid = (domid_t)domid;
    rc = xsim_hv_evtchn_bind_interdomain(h->hv, 0, (domid_t)domid, port, &r->bport);
    if (rc != 0)
        return rc;
    rc = xsim_xs_ring_create(h->xs, domid, false, page, ring_notify, r, &r->ring);
    if (rc != 0) {
        xsim_hv_evtchn_close(h->hv, 0, r->bport);
        return rc;
    }
    xsim_hv_set_port_notify(h->hv, 0, r->bport, ring_irq, r);
    h->nrings++;
    return 0;
}

int xsim_xshost_create(struct xsim_world *w, struct xsim_hv *hv, struct xsim_xshost **out)
{
    struct xsim_xshost *h = calloc(1, sizeof(*h));
    struct xsim_xs_config cfg;
    int rc;

    *out = NULL;
    if (h == NULL)
        return -ENOMEM;
    h->w = w;
    h->hv = hv;
    xsim_xs_config_init(&cfg);
    cfg.domain_exists = domain_exists;
    cfg.introduce = introduce;
    cfg.event_queued = event_queued;
    cfg.ctx = h;
    rc = xsim_xs_create(&cfg, &h->xs);
    if (rc == 0)
        rc = xsim_xs_conn_open(h->xs, 0, true, NULL, NULL, &h->ts);
    if (rc != 0) {
        xsim_xshost_destroy(h);
        return rc;
    }
    *out = h;
    return 0;
}

void xsim_xshost_destroy(struct xsim_xshost *h)
{
    if (h == NULL)
        return;
    for (unsigned int i = 0; i < h->nrings; i++)
        xsim_xs_ring_destroy(h->rings[i].ring);
    if (h->ts != NULL)
        xsim_xs_conn_close(h->ts);
    xsim_xs_destroy(h->xs);
    free(h);
}

struct xsim_xs *xsim_xshost_store(struct xsim_xshost *h)
{
    return h->xs;
}

int xsim_xshost_request(struct xsim_xshost *h, uint32_t type, const char *payload, uint32_t len,
                        char *reply, uint32_t reply_size)
{
    struct xsd_sockmsg msg = {.type = type, .req_id = 1, .tx_id = 0, .len = len};
    char buf[sizeof(msg) + XENSTORE_PAYLOAD_MAX + 1];
    size_t got = 0;

    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    memcpy(buf, &msg, sizeof(msg));
    memcpy(buf + sizeof(msg), payload, len);
    if (xsim_xs_conn_input(h->ts, buf, sizeof(msg) + len) < 0)
        return -EIO;
    /* The reply is queued synchronously; read its header, then its body. */
    while (got < sizeof(msg)) {
        size_t n = xsim_xs_conn_output(h->ts, buf + got, sizeof(msg) - got);
        if (n == 0)
            return -EIO;
        got += n;
    }
    memcpy(&msg, buf, sizeof(msg));
    if (msg.len > XENSTORE_PAYLOAD_MAX)
        return -EIO;
    got = 0;
    while (got < msg.len) {
        size_t n = xsim_xs_conn_output(h->ts, buf + got, msg.len - got);
        if (n == 0)
            return -EIO;
        got += n;
    }
    buf[msg.len] = '\0';
    if (msg.type == XS_ERROR) {
        for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++) {
            if (strcmp(buf, xsd_errors[i].errstring) == 0)
                return -xsd_errors[i].errnum;
        }
        return -EIO;
    }
    if (reply != NULL && reply_size > 0) {
        size_t n = msg.len < reply_size - 1 ? msg.len : reply_size - 1;
        memcpy(reply, buf, n);
        reply[n] = '\0';
    }
    return 0;
}

int xsim_xshost_write(struct xsim_xshost *h, const char *path, const char *value)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t lp = strlen(path), lv = strlen(value);

    if (lp + 1 + lv > sizeof(buf))
        return -E2BIG;
    memcpy(buf, path, lp + 1);
    memcpy(buf + lp + 1, value, lv);
    return xsim_xshost_request(h, XS_WRITE, buf, (uint32_t)(lp + 1 + lv), NULL, 0);
}

int xsim_xshost_read(struct xsim_xshost *h, const char *path, char *out, uint32_t size)
{
    return xsim_xshost_request(h, XS_READ, path, (uint32_t)strlen(path) + 1, out, size);
}

static int set_perms(struct xsim_xshost *h, const char *path, const char *perms)
{
    char buf[512];
    size_t lp = strlen(path), lq = strlen(perms);

    if (lp + lq + 2 > sizeof(buf))
        return -E2BIG;
    memcpy(buf, path, lp + 1);
    memcpy(buf + lp + 1, perms, lq + 1);
    return xsim_xshost_request(h, XS_SET_PERMS, buf, (uint32_t)(lp + lq + 2), NULL, 0);
}

int xsim_xshost_add_guest(struct xsim_xshost *h, struct xsim_domain *d)
{
    domid_t domid = xsim_domain_id(d);
    char home[64], path[128], perm[32], intro[64];
    uint64_t gfn;
    evtchn_port_t gport;
    int rc, n;

    if (xsim_domain_page_alloc(d, &gfn) == NULL)
        return -ENOMEM;
    rc = xsim_hv_evtchn_alloc_unbound(h->hv, domid, 0, &gport);
    if (rc != 0)
        return rc;
    if ((rc = xsim_hv_set_param(h->hv, domid, HVM_PARAM_STORE_PFN, gfn)) != 0 ||
        (rc = xsim_hv_set_param(h->hv, domid, HVM_PARAM_STORE_EVTCHN, gport)) != 0)
        return rc;
    /* The home the toolstack makes, as xl does: dom0 owns it, the guest
     * reads it and owns the subdirectories it writes. */
    snprintf(home, sizeof(home), "/local/domain/%u", (unsigned int)domid);
    snprintf(perm, sizeof(perm), "n0%cr%u", '\0', (unsigned int)domid);
    if ((rc = xsim_xshost_write(h, home, "")) != 0)
        return rc;
    {
        char buf[256];
        size_t lp = strlen(home);
        memcpy(buf, home, lp + 1);
        memcpy(buf + lp + 1, "n0\0r", 4);
        n = snprintf(buf + lp + 5, sizeof(buf) - lp - 5, "%u", (unsigned int)domid);
        rc = xsim_xshost_request(h, XS_SET_PERMS, buf, (uint32_t)(lp + 5 + (size_t)n + 1), NULL, 0);
        if (rc != 0)
            return rc;
    }
    static const char *const subdirs[] = {"device", "control", "data", "memory"};
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", home, subdirs[i]);
        snprintf(perm, sizeof(perm), "n%u", (unsigned int)domid);
        if ((rc = xsim_xshost_write(h, path, "")) != 0 || (rc = set_perms(h, path, perm)) != 0)
            return rc;
    }
    /* INTRODUCE <domid> <mfn> <port>: the daemon calls introduce() above. */
    n = snprintf(intro, sizeof(intro), "%u%c%llu%c%u", (unsigned int)domid, '\0',
                 (unsigned long long)gfn, '\0', (unsigned int)gport);
    return xsim_xshost_request(h, XS_INTRODUCE, intro, (uint32_t)n + 1, NULL, 0);
}

/* A migrated guest meets a new xenstored: its ring connection starts over
 * (no watches, no transactions), and its store event channel is a new one:
 * a fresh unbound port of the guest in HVM_PARAM_STORE_EVTCHN, bound by
 * dom0 again. The old dom0 end (unbound since the guest's ports were
 * closed) is closed. */
int xsim_xshost_migrate_guest(struct xsim_xshost *h, domid_t domid)
{
    struct ring_slot *r = NULL;
    evtchn_port_t gport, bport;
    int rc;

    for (unsigned int i = 0; i < h->nrings; i++) {
        if (h->rings[i].domid == domid && h->rings[i].ring != NULL)
            r = &h->rings[i];
    }
    if (r == NULL)
        return -ENOENT;
    xsim_xs_ring_reset(r->ring);
    if (h->obs.reset != NULL)
        h->obs.reset(h->obs.arg, domid);
    (void)xsim_hv_evtchn_close(h->hv, 0, r->bport);
    r->bport = 0;
    rc = xsim_hv_evtchn_alloc_unbound(h->hv, domid, 0, &gport);
    if (rc != 0)
        return rc;
    rc = xsim_hv_set_param(h->hv, domid, HVM_PARAM_STORE_EVTCHN, gport);
    if (rc == 0)
        rc = xsim_hv_evtchn_bind_interdomain(h->hv, 0, domid, gport, &bport);
    if (rc != 0)
        return rc;
    r->bport = bport;
    r->migrations++;
    return xsim_hv_set_port_notify(h->hv, 0, bport, ring_irq, r);
}
