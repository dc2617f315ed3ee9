/*
 * test_gnttab.c - grant tables v1 end to end: the guest grants, a backend
 * in dom0 maps and copies with Xen's checks, revocation fails while mapped
 * and the reference is then never reused (XSA-396), untrusted pages are
 * zeroed (XSA-403), and revocation racing a backend map never leaves a
 * mapping of a revoked grant (explored), a grant's frame and domid are
 * visible before its flags to a backend mapping it at any moment
 * (explored). The hypervisor's flag rules for
 * map and unmap (GTF_reading while any mapping, GTF_writing while a
 * writable one), and its audit of mapped entries (gnttab.h): a revoke, a
 * new frame or cleared in-use bits under a mapping are each reported once,
 * with the reference and frame.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "xensim/abi/grant_table.h"
#include "xensim/gnttab.h"
#include "xensim/guest/xg_gnttab.h"

struct gt_ctx {
    struct xg_gnttab gt;
    int init_rc;
    /* results */
    int map_rw, map_ro, map_wrongdom, map_badref, map_rw_of_ro, map_free;
    uint16_t flags_mapped, flags_after;
    int end_busy, end_again, end_after_unmap, end_unmapped, end_bad;
    int copy_in, copy_out, copy_oob;
    char readback[16];
    bool zeroed;
    grant_ref_t leaked_ref;
    bool leaked_reused;
    long setup_rc, query_rc;
    uint32_t nr_frames, max_frames, version;
};

static void gt_main(struct th *t, unsigned int cpu)
{
    struct gt_ctx *x = t->user;
    struct xg_gnttab *gt = &x->gt;
    const struct xg_platform *p = t->p;
    grant_ref_t r1, r2, r3, r4;
    uint64_t gfn;
    void *page;
    uint8_t *secret;

    if (cpu != 0)
        return;
    x->init_rc = xg_gnttab_init(gt, t->g, 2);
    if (x->init_rc != 0)
        return;
    struct gnttab_query_size q = {.dom = DOMID_SELF};
    x->query_rc =
        xg_hypercall(p, __HYPERVISOR_grant_table_op, GNTTABOP_query_size, (unsigned long)&q, 1);
    x->nr_frames = q.nr_frames;
    x->max_frames = q.max_nr_frames;
    struct gnttab_get_version gv = {.dom = DOMID_SELF};
    xg_hypercall(p, __HYPERVISOR_grant_table_op, GNTTABOP_get_version, (unsigned long)&gv, 1);
    x->version = gv.version;

    /* A writable grant to dom0: map, see the status bits, revoke fails. */
    secret = xg_page_alloc(p, &gfn);
    memcpy(secret, "guest-secret", 13);
    xg_gnttab_grant_page(gt, TH_BACKEND_DOMID, secret, false, true, &r1);
    x->zeroed = secret[0] == 0;
    x->map_rw = xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r1, false, &page);
    xg_gnttab_flags(gt, r1, &x->flags_mapped);
    x->end_busy = xg_gnttab_end_access(gt, r1);
    /* Other domains and bad references are refused. */
    x->map_wrongdom = xsim_gnttab_map(t->hv, 5, TH_GUEST_DOMID, r1, true, &page);
    x->map_badref = xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, 100000, true, &page);
    x->map_free = xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, 20, true, &page);
    /* Copy in and out, and out of bounds. */
    x->copy_in = xsim_gnttab_copy(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r1, true, 100,
                                  "from-backend", 13);
    x->copy_out =
        xsim_gnttab_copy(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r1, false, 100, x->readback, 13);
    x->copy_oob =
        xsim_gnttab_copy(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r1, false, 4090, x->readback, 13);
    /* The backend unmaps; the leaked reference still cannot be ended. */
    xsim_gnttab_unmap(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r1, false);
    xg_gnttab_flags(gt, r1, &x->flags_after);
    x->end_again = xg_gnttab_end_access(gt, r1);
    x->leaked_ref = r1;

    /* A read-only grant: read-only maps only. */
    xg_page_alloc(p, &gfn);
    xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, true, &r2);
    x->map_rw_of_ro = xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r2, false, &page);
    x->map_ro = xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r2, true, &page);
    xsim_gnttab_unmap(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r2, true);
    x->end_after_unmap = xg_gnttab_end_access(gt, r2);
    /* Never mapped: ends at once; the reference is reused; the leaked one
     * never comes back. */
    xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, false, &r3);
    x->end_unmapped = xg_gnttab_end_access(gt, r3);
    x->end_bad = xg_gnttab_end_access(gt, r3);
    x->leaked_reused = false;
    for (int i = 0; i < 2000; i++) {
        if (xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, false, &r4) != 0)
            break;
        if (r4 == r1)
            x->leaked_reused = true;
    }
}

static void test_grant_semantics(void **state)
{
    struct th t;
    struct gt_ctx *x = calloc(1, sizeof(*x));

    (void)state;
    assert_int_equal(th_create_main(&t, 1, gt_main, x), 0);
    th_run(&t);
    assert_int_equal(x->init_rc, 0);
    assert_int_equal(x->query_rc, 0);
    assert_int_equal(x->nr_frames, 2);
    assert_int_equal(x->max_frames, XSIM_GNTTAB_MAX_FRAMES);
    assert_int_equal(x->version, 1);
    assert_true(x->zeroed);
    assert_int_equal(x->map_rw, 0);
    assert_int_equal(x->flags_mapped, GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(x->end_busy, -EBUSY);
    assert_int_equal(x->map_wrongdom, -EPERM);
    assert_int_equal(x->map_badref, -EINVAL);
    assert_int_equal(x->map_free, -EINVAL);
    assert_int_equal(x->copy_in, 0);
    assert_int_equal(x->copy_out, 0);
    assert_string_equal(x->readback, "from-backend");
    assert_int_equal(x->copy_oob, -EINVAL);
    assert_int_equal(x->flags_after, GTF_permit_access);
    assert_int_equal(x->end_again, -EBUSY);
    assert_int_equal(x->map_rw_of_ro, -EPERM);
    assert_int_equal(x->map_ro, 0);
    assert_int_equal(x->end_after_unmap, 0);
    assert_int_equal(x->end_unmapped, 0);
    assert_int_equal(x->end_bad, -EINVAL);
    assert_false(x->leaked_reused);
    assert_int_equal(x->gt.leaked, 1); /* one reference given up, counted once */
    th_destroy(&t);
    free(x);
}

/* ---- revocation racing a backend map ---- */

struct race_ctx {
    struct th *t;
    struct xg_gnttab gt;
    grant_ref_t ref;
    volatile uint32_t granted;
    int end_rc;
    bool revoked;
    int map_rc;
    bool violation;
    char why[128];
};

static void backend_map(struct xsim_world *w, void *arg)
{
    struct race_ctx *x = arg;
    void *page;

    x->map_rc = xsim_gnttab_map(x->t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, x->ref, false, &page);
    if (x->map_rc == 0 && x->revoked) {
        x->violation = true;
        snprintf(x->why, sizeof(x->why), "mapped a grant the guest had revoked");
    }
}

static void race_main(struct th *t, unsigned int cpu)
{
    struct race_ctx *x = t->user;

    if (cpu == 0) {
        uint64_t gfn;
        xg_gnttab_init(&x->gt, t->g, 1);
        xg_page_alloc(t->p, &gfn);
        xg_gnttab_grant(&x->gt, TH_BACKEND_DOMID, gfn, false, &x->ref);
        /* The backend maps "soon": the policy decides against what. */
        xsim_event_schedule(t->w, th_now(t), 3, backend_map, x);
        xg_write_u32(t->p, &x->granted, 1);
        th_wake_others(t);
    } else {
        th_wait_u32(t, &x->granted, 1);
        x->end_rc = xg_gnttab_end_access(&x->gt, x->ref);
        if (x->end_rc == 0) {
            x->revoked = true;
            if (xsim_gnttab_map_count(t->hv, TH_GUEST_DOMID, x->ref) != 0) {
                x->violation = true;
                snprintf(x->why, sizeof(x->why), "revoked while mapped");
            }
        }
    }
}

static void test_revoke_race(void **state)
{
    const char *specs[] = {"random", "pct:2:200", "pct:3:200"};
    unsigned int ended = 0, busy = 0;

    (void)state;
    for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
        struct xsim_error err;
        struct xsim_policy *pol = xsim_policy_create(specs[s], &err);
        for (uint64_t seed = 1; seed <= 1000; seed++) {
            struct th_config cfg;
            struct th t;
            struct race_ctx *x = calloc(1, sizeof(*x));
            th_config_init(&cfg, 2);
            cfg.world.seed = seed;
            cfg.main = race_main;
            cfg.user = x;
            assert_int_equal(th_create(&t, &cfg, pol), 0);
            x->t = &t;
            th_run(&t);
            if (x->violation)
                fail_msg("%s seed %" PRIu64 ": %s", specs[s], seed, x->why);
            /* The backend's map, if any, is still held: the hypervisor
             * must find its entry intact. */
            if (x->map_rc == 0)
                assert_int_equal(xsim_gnttab_check(t.hv, TH_GUEST_DOMID, x->ref), 0);
            /* Exactly one side wins. */
            assert_true((x->end_rc == 0) != (x->map_rc == 0));
            ended += x->end_rc == 0;
            busy += x->end_rc == -EBUSY;
            th_destroy(&t);
            free(x);
        }
        xsim_policy_destroy(pol);
    }
    printf("revoke vs map over 3000 schedules: the guest revoked first %u times, the backend "
           "mapped first %u times, never both\n",
           ended, busy);
    assert_true(ended > 0 && busy > 0);
}

/* ---- a grant published racing a backend that maps it ---- */

/*
 * The backend maps a reference as soon as its flags say "granted", as a
 * real backend may (it read the reference from a ring or XenStore, or it
 * is hostile). The guest re-grants a reference it used before for another
 * page, so the entry still holds the old frame: flags written before the
 * frame and domid (mutant 14) let the map take the old page. The backend
 * polls with a timed event, so the policy places its attempts between any
 * two of the guest's accesses.
 */
struct publish_ctx {
    struct th *t;
    struct xg_gnttab gt;
    grant_ref_t ref;
    void *new_page;
    volatile uint32_t done; /* the second grant returned */
    int end_rc, regrant_rc;
    grant_ref_t again;
    unsigned int attempts;
    int map_rc;
    bool mapped_early; /* mapped before the second grant returned */
    bool violation;
    char why[128];
};

static void publish_poll(struct xsim_world *w, void *arg)
{
    struct publish_ctx *x = arg;
    bool last = x->done != 0;
    void *page = NULL;

    x->attempts++;
    x->map_rc = xsim_gnttab_map(x->t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, x->ref, true, &page);
    if (x->map_rc == 0) {
        x->mapped_early = !last;
        if (page != x->new_page) {
            x->violation = true;
            snprintf(x->why, sizeof(x->why),
                     "the backend mapped reference %u before its frame was written (%s page)",
                     (unsigned)x->ref, page == NULL ? "no" : "the previous grant's");
        }
        xsim_gnttab_unmap(x->t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, x->ref, true);
        return;
    }
    /* Bounded: a policy that ranks this poller above the guest would
     * otherwise never let the guest run. */
    if (!last && x->attempts < 200)
        xsim_event_schedule(w, xsim_world_now(w) + 1, 3, publish_poll, x);
}

static void publish_main(struct th *t, unsigned int cpu)
{
    struct publish_ctx *x = t->user;
    uint64_t gfn_old, gfn_new;

    if (cpu != 0)
        return;
    xg_gnttab_init(&x->gt, t->g, 1);
    xg_page_alloc(t->p, &gfn_old);
    x->new_page = xg_page_alloc(t->p, &gfn_new);
    /* Granted and ended: the entry keeps the old frame and domid. */
    xg_gnttab_grant(&x->gt, TH_BACKEND_DOMID, gfn_old, true, &x->ref);
    x->end_rc = xg_gnttab_end_access(&x->gt, x->ref);
    xsim_event_schedule(t->w, th_now(t), 3, publish_poll, x);
    x->regrant_rc = xg_gnttab_grant(&x->gt, TH_BACKEND_DOMID, gfn_new, true, &x->again);
    xg_write_u32(t->p, &x->done, 1);
}

static void test_publish_race(void **state)
{
    const char *specs[] = {"random", "pct:2:100", "pct:3:100"};
    unsigned int early = 0;

    (void)state;
    for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
        struct xsim_error err;
        struct xsim_policy *pol = xsim_policy_create(specs[s], &err);
        for (uint64_t seed = 1; seed <= 500; seed++) {
            struct th_config cfg;
            struct th t;
            struct publish_ctx *x = calloc(1, sizeof(*x));
            th_config_init(&cfg, 1);
            cfg.world.seed = seed;
            cfg.main = publish_main;
            cfg.user = x;
            assert_int_equal(th_create(&t, &cfg, pol), 0);
            x->t = &t;
            th_run(&t);
            if (x->violation)
                fail_msg("%s seed %" PRIu64 ": %s", specs[s], seed, x->why);
            assert_int_equal(x->end_rc, 0);
            assert_int_equal(x->regrant_rc, 0);
            /* Freed references are reused last in, first out: the same
             * entry, still holding the old frame. */
            assert_int_equal(x->again, x->ref);
            /* Whenever the polls ended, the grant, once returned, maps the
             * new page. */
            if (x->map_rc != 0) {
                void *page = NULL;
                assert_int_equal(
                    xsim_gnttab_map(t.hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, x->ref, true, &page),
                    0);
                assert_ptr_equal(page, x->new_page);
            }
            early += x->mapped_early;
            th_destroy(&t);
            free(x);
        }
        xsim_policy_destroy(pol);
    }
    printf("grant publish vs map over 1500 schedules: the backend mapped before the grant "
           "returned %u times, never the previous page\n",
           early);
    /* The race was really run: some maps landed inside the grant. */
    assert_true(early > 0);
}

/* ---- the hypervisor's flag rules and its audit ---- */

struct rules_ctx {
    struct xg_gnttab gt;
    uint16_t f_ro, f_rw_too, f_ro_left, f_none;
    int map_half, map_other, unmap_twice;
    struct xsim_gnttab_audit clean, revoked, moved, cleared, again;
    int check_revoked;
    grant_ref_t r_revoked, r_moved;
    uint32_t frame_revoked;
    uint64_t new_gfn;
};

static void rules_main(struct th *t, unsigned int cpu)
{
    struct rules_ctx *x = t->user;
    struct xg_gnttab *gt = &x->gt;
    struct grant_entry_v1 *e;
    grant_ref_t r, half;
    uint64_t gfn;
    void *pg1, *pg2;

    if (cpu != 0)
        return;
    xg_gnttab_init(gt, t->g, 1);
    xg_page_alloc(t->p, &gfn);
    xg_page_alloc(t->p, &x->new_gfn);

    /* Reading for any mapping, writing only while a writable one is held,
     * both gone with the last unmap. */
    xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, false, &r);
    xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, true, &pg1);
    xg_gnttab_flags(gt, r, &x->f_ro);
    xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, false, &pg2);
    xg_gnttab_flags(gt, r, &x->f_rw_too);
    xsim_gnttab_unmap(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, false);
    xg_gnttab_flags(gt, r, &x->f_ro_left);
    xsim_gnttab_unmap(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, true);
    xg_gnttab_flags(gt, r, &x->f_none);
    x->unmap_twice = xsim_gnttab_unmap(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, true);
    /* Granted to someone else: refused. */
    x->map_other = xsim_gnttab_map(t->hv, 7, TH_GUEST_DOMID, r, true, &pg1);
    xg_gnttab_end_access(gt, r);
    xsim_gnttab_audit(t->hv, &x->clean);

    /* An entry being written (frame and domid set, flags not yet): not a
     * grant, refused. */
    xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, false, &half);
    xg_gnttab_end_access(gt, half);
    e = &gt->frames[0][half];
    e->frame = (uint32_t)x->new_gfn;
    e->domid = TH_BACKEND_DOMID;
    x->map_half = xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, half, true, &pg1);

    /* What mutant 15 does, by hand: the guest found the entry unused,
     * the backend maps it, then the guest stores 0 over it. Xen keeps the
     * mapping; the audit reports it at the next look (here, a check). */
    xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, false, &r);
    xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, false, &pg1);
    __atomic_store_n(&gt->frames[0][r].flags, 0, __ATOMIC_SEQ_CST);
    x->check_revoked = xsim_gnttab_check(t->hv, TH_GUEST_DOMID, r);
    xsim_gnttab_audit(t->hv, &x->revoked);
    /* Reported once per mapping, not at the unmap again. */
    xsim_gnttab_unmap(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, false);
    xsim_gnttab_audit(t->hv, &x->again);
    x->r_revoked = r;
    x->frame_revoked = (uint32_t)gfn;

    /* A new frame under a mapping (an entry mapped before its frame was
     * written), found at the unmap. */
    xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, true, &r);
    xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, true, &pg1);
    gt->frames[0][r].frame = (uint32_t)x->new_gfn;
    xsim_gnttab_unmap(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, true);
    xsim_gnttab_audit(t->hv, &x->moved);
    x->r_moved = r;

    /* The flags written again under a mapping: the in-use bits are gone,
     * found by the next map of the entry. */
    xg_gnttab_grant(gt, TH_BACKEND_DOMID, gfn, false, &r);
    xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, false, &pg1);
    __atomic_store_n(&gt->frames[0][r].flags, GTF_permit_access, __ATOMIC_SEQ_CST);
    xsim_gnttab_map(t->hv, TH_BACKEND_DOMID, TH_GUEST_DOMID, r, true, &pg2);
    xsim_gnttab_audit(t->hv, &x->cleared);
}

static void test_flag_rules_and_audit(void **state)
{
    struct th t;
    struct rules_ctx *x = calloc(1, sizeof(*x));

    (void)state;
    assert_int_equal(th_create_main(&t, 1, rules_main, x), 0);
    th_run(&t);
    assert_int_equal(x->f_ro, GTF_permit_access | GTF_reading);
    assert_int_equal(x->f_rw_too, GTF_permit_access | GTF_reading | GTF_writing);
    assert_int_equal(x->f_ro_left, GTF_permit_access | GTF_reading);
    assert_int_equal(x->f_none, GTF_permit_access);
    assert_int_equal(x->unmap_twice, -EINVAL);
    assert_int_equal(x->map_other, -EPERM);
    assert_int_equal(x->map_half, -EINVAL);
    /* Everything so far was by the rules. */
    assert_int_equal(x->clean.violations, 0);
    assert_true(x->clean.maps >= 2);
    /* The revoke under a mapping. */
    assert_int_equal(x->check_revoked, -EFAULT);
    assert_int_equal(x->revoked.violations, 1);
    assert_int_equal(x->revoked.granter, TH_GUEST_DOMID);
    assert_int_equal(x->revoked.ref, x->r_revoked);
    assert_int_equal(x->revoked.frame, x->frame_revoked);
    assert_int_equal(x->revoked.flags_now, 0);
    assert_string_equal(x->revoked.what, "grant revoked while mapped");
    assert_int_equal(x->again.violations, 1);
    /* The frame changed under a mapping. */
    assert_int_equal(x->moved.violations, 2);
    /* The in-use bits cleared under a mapping. */
    assert_int_equal(x->cleared.violations, 3);
    /* The audit keeps the first violation. */
    assert_int_equal(x->cleared.ref, x->r_revoked);
    th_destroy(&t);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grant_semantics),
        cmocka_unit_test(test_revoke_race),
        cmocka_unit_test(test_publish_race),
        cmocka_unit_test(test_flag_rules_and_audit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
