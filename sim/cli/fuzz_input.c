/*
 * fuzz_input.c - see fuzz_input.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/fuzz_input.h"
#include "xensim/replayfile.h"
#include "xensim/scenario_set.h"

/* The overrides one input asks for: at most every migration's and every
 * disk's fault fields. */
struct ovlist {
    struct xsim_override *ov;
    size_t n, cap;
};

static int ov_add(struct ovlist *l, const char *path, json_t *value)
{
    if (value == NULL)
        return -ENOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct xsim_override *ov = realloc(l->ov, cap * sizeof(*ov));
        if (ov == NULL) {
            json_decref(value);
            return -ENOMEM;
        }
        l->ov = ov;
        l->cap = cap;
    }
    l->ov[l->n].path = strdup(path);
    l->ov[l->n].value = value;
    l->ov[l->n].what = "the fuzz input's";
    if (l->ov[l->n].path == NULL) {
        json_decref(value);
        return -ENOMEM;
    }
    l->n++;
    return 0;
}

static int ov_add_ns(struct ovlist *l, const char *path, uint64_t ns)
{
    char v[32];

    snprintf(v, sizeof(v), "%" PRIu64 "ns", ns);
    return ov_add(l, path, json_string(v));
}

static void ov_free(struct ovlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        xsim_override_free(&l->ov[i]);
    free(l->ov);
    memset(l, 0, sizeof(*l));
}

/* ---- the target ---- */

static int arm_oracles(const struct xsim_scenario *s, struct ovlist *l)
{
    bool events = false, lost = false, bio = false, timer = false, ipi = false, power = false;
    bool closes = false;
    int rc = 0;

    for (size_t i = 0; i < s->nworkloads; i++) {
        switch (s->workloads[i].type) {
        case XSIM_WL_EVENTS:
            events = true;
            closes = closes || s->workloads[i].close_every_ns != 0;
            break;
        case XSIM_WL_LOST_UPDATE:
            lost = true;
            break;
        case XSIM_WL_BLOCK_IO:
            bio = true;
            break;
        case XSIM_WL_TIMER:
            timer = true;
            break;
        case XSIM_WL_IPI:
            ipi = true;
            break;
        }
    }
    for (size_t d = 0; d < s->ndisks; d++)
        power = power || s->disks[d].power_loss_ns != 0;
#define ARM(cond, name)                                   \
    do {                                                  \
        if (rc == 0 && (cond))                            \
            rc = ov_add(l, "oracles." name, json_true()); \
    } while (0)
    ARM(lost, "lost_update");
    ARM(events, "no_lost_events");
    ARM(closes, "port_close");
    ARM(bio, "blk_data");
    ARM(bio, "blk_no_lost_io");
    ARM(bio && power, "blk_durable");
    ARM(s->nmigrations > 0, "migration");
    ARM(timer, "timers");
    ARM(timer, "clock_monotonic");
    ARM(ipi && s->machine.vcpus > 1, "ipis");
#undef ARM
    return rc;
}

int xsim_fuzz_target_load(struct xsim_fuzz_target *t, const char *path, struct xsim_error *err)
{
    struct xsim_scenario plain;
    struct ovlist l = {0};
    char buf[96];
    const char *spec;
    int rc;

    memset(t, 0, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "%s", path);
    if ((rc = xsim_scenario_load_file(&plain, path, err)) != 0)
        return rc;
    rc = arm_oracles(&plain, &l);
    if (rc == 0)
        rc = xsim_scenario_load_overrides(&t->base, path, plain.text, strlen(plain.text), l.ov, l.n,
                                          err);
    xsim_scenario_free(&plain);
    ov_free(&l);
    if (rc != 0)
        return rc;
    t->len = strlen(t->base.text);
    t->text = strdup(t->base.text);
    if (t->text == NULL) {
        xsim_scenario_free(&t->base);
        return -ENOMEM;
    }
    spec = xsim_scenario_policy_spec(&t->base, "bytes", buf, sizeof(buf));
    snprintf(t->gate, sizeof(t->gate), "%s", spec + strlen("bytes"));
    t->time_driven = t->gate[0] != '\0';
    return 0;
}

void xsim_fuzz_target_free(struct xsim_fuzz_target *t)
{
    xsim_scenario_free(&t->base);
    free(t->text);
    t->text = NULL;
}

/* ---- one input ---- */

/* The fault choices of header `h` as overrides of the target's scenario. */
static int fault_overrides(const struct xsim_fuzz_target *t, const uint8_t *h, struct ovlist *l)
{
    const struct xsim_scenario *s = &t->base;
    unsigned int shift = h[3] | (unsigned int)h[4] << 8;
    char path[96];
    int rc = 0;

    if (shift != 0 && (s->nmigrations > 0 || s->ndisks > 0)) {
        uint64_t first = UINT64_MAX, last = 0, end = s->stop.time_ns / 4 * 3;
        for (size_t i = 0; i < s->nmigrations; i++) {
            const struct xsim_scn_migration *m = &s->migrations[i];
            first = m->at_ns < first ? m->at_ns : first;
            last = m->at_ns + m->downtime_ns > last ? m->at_ns + m->downtime_ns : last;
        }
        for (size_t d = 0; d < s->ndisks; d++) {
            uint64_t p = s->disks[d].power_loss_ns;
            if (p != 0) {
                first = p < first ? p : first;
                last = p > last ? p : last;
            }
        }
        if (first != UINT64_MAX) {
            /* delta in [-first/2, end - last] (0 when the scenario is
             * already past 3/4 of its time) */
            int64_t lo = -(int64_t)(first / 2), hi = last < end ? (int64_t)(end - last) : 0;
            int64_t delta = lo + (int64_t)((double)(hi - lo) * (double)(shift - 1) / 65534.0);
            for (size_t i = 0; i < s->nmigrations && rc == 0; i++) {
                snprintf(path, sizeof(path), "migrations[%zu].at", i);
                rc = ov_add_ns(l, path, (uint64_t)((int64_t)s->migrations[i].at_ns + delta));
            }
            for (size_t d = 0; d < s->ndisks && rc == 0; d++) {
                if (s->disks[d].power_loss_ns == 0)
                    continue;
                snprintf(path, sizeof(path), "disks[%zu].faults.power_loss", d);
                rc = ov_add_ns(l, path, (uint64_t)((int64_t)s->disks[d].power_loss_ns + delta));
            }
        }
    }
    for (size_t d = 0; d < s->ndisks && rc == 0; d++) {
        if (h[5] != 0) {
            snprintf(path, sizeof(path), "disks[%zu].faults.read_error_rate", d);
            rc = ov_add(l, path, json_real((double)(h[5] >> 4) / 200.0));
            snprintf(path, sizeof(path), "disks[%zu].faults.write_error_rate", d);
            if (rc == 0)
                rc = ov_add(l, path, json_real((double)(h[5] & 15) / 200.0));
        }
        if (h[6] != 0 && rc == 0) {
            snprintf(path, sizeof(path), "disks[%zu].latency", d);
            rc = ov_add_ns(l, path, s->disks[d].latency_ns * h[6] / 64);
        }
    }
    return rc;
}

int xsim_fuzz_run(struct xsim_fuzz_target *t, const uint8_t *data, size_t size,
                  struct xsim_report *rep, struct xsim_scenario *scn)
{
    static const uint8_t none[1];
    uint8_t h[XSIM_FUZZ_HEADER] = {0};
    size_t nh, nsched;
    const uint8_t *sched;
    struct ovlist l = {0};
    struct xsim_scenario own, *s = &t->base;
    struct xsim_run_options ro = {0};
    struct xsim_choices list = {0};
    struct xsim_error err;
    uint8_t *wrapped = NULL;
    char spec[64], gate[32];
    bool sparse;
    int rc;

    memset(rep, 0, sizeof(*rep));
    if (data == NULL) {
        data = none;
        size = 0;
    }
    nh = size < XSIM_FUZZ_HEADER ? size : XSIM_FUZZ_HEADER;
    sched = data + nh;
    nsched = size - nh;
    if (nh > 0)
        memcpy(h, data, nh);
    sparse = (h[0] & 1) != 0;
    if ((rc = fault_overrides(t, h, &l)) != 0)
        goto out;
    if (l.n > 0 || scn != NULL) {
        s = scn != NULL ? scn : &own;
        rc = xsim_scenario_load_overrides(s, t->path, t->text, t->len, l.ov, l.n, &err);
        if (rc != 0) {
            snprintf(rep->failure, sizeof(rep->failure), "%s", err.text);
            goto out;
        }
    }
    snprintf(gate, sizeof(gate), "%s", t->gate);
    if (t->time_driven && h[7] != 0) {
        unsigned int us = (unsigned int)(h[7] - 1) % 51;
        if (us == 0)
            snprintf(gate, sizeof(gate), "+time");
        else
            snprintf(gate, sizeof(gate), "+time:%uus", us);
    }
    snprintf(spec, sizeof(spec), "%s%s", sparse ? "replay" : "bytes", gate);
    ro.policy = xsim_policy_create(spec, &err);
    if (ro.policy == NULL) {
        rc = -EINVAL;
        goto out_scn;
    }
    if (sparse) {
        uint64_t d = 0;
        unsigned int nv = (unsigned int)s->machine.vcpus;
        list.n = list.cap = nsched / 3;
        list.sw = calloc(list.n ? list.n : 1, sizeof(*list.sw));
        if (list.sw == NULL) {
            rc = -ENOMEM;
            goto out_pol;
        }
        for (size_t i = 0; i < list.n; i++) {
            const uint8_t *r = sched + 3 * i;
            d += (i > 0) + (uint64_t)(r[0] | (unsigned int)r[1] << 8);
            list.sw[i].decision = d;
            list.sw[i].entity = r[2] == 255 ? XSIM_ENTITY_EVENT : r[2] % (nv ? nv : 1);
        }
        list.decisions = list.n > 0 ? d + 1 : 0;
        if ((rc = xsim_policy_set_replay(ro.policy, &list)) != 0 ||
            (rc = xsim_policy_set_replay_lenient(ro.policy, true)) != 0)
            goto out_pol;
    } else {
        /* Flag bit 1: the schedule repeats (byte i is byte i % length), so
         * that a short input reaches the whole run. */
        if ((h[0] & 2) != 0 && nsched > 0 && nsched < XSIM_FUZZ_WRAP_BYTES) {
            wrapped = malloc(XSIM_FUZZ_WRAP_BYTES);
            if (wrapped == NULL) {
                rc = -ENOMEM;
                goto out_pol;
            }
            for (size_t i = 0; i < XSIM_FUZZ_WRAP_BYTES; i += nsched)
                memcpy(wrapped + i, sched,
                       XSIM_FUZZ_WRAP_BYTES - i < nsched ? XSIM_FUZZ_WRAP_BYTES - i : nsched);
            sched = wrapped;
            nsched = XSIM_FUZZ_WRAP_BYTES;
        }
        if ((rc = xsim_policy_set_bytes(ro.policy, sched, nsched)) != 0)
            goto out_pol;
    }
    ro.seed = s->seed + (h[1] | (unsigned int)h[2] << 8);
    ro.seed_set = true;
    ro.explain = t->explain;
    rc = xsim_run(s, &ro, rep, NULL, NULL);
out_pol:
    free(wrapped);
    xsim_choices_free(&list);
    xsim_policy_destroy(ro.policy);
out_scn:
    if (s == &own)
        xsim_scenario_free(&own);
    else if (rc != 0 && s == scn)
        xsim_scenario_free(scn);
out:
    ov_free(&l);
    return rc;
}

int xsim_fuzz_write_replay(struct xsim_fuzz_target *t, const uint8_t *data, size_t size,
                           const char *path, struct xsim_report *rep, struct xsim_error *err)
{
    struct xsim_scenario s;
    int rc = xsim_fuzz_run(t, data, size, rep, &s);

    if (rc != 0)
        return xsim_error_set(err, t->path, 0, 0, "the input could not run: %s",
                              rep->failure[0] ? rep->failure : strerror(-rc));
    rc = xsim_replay_write(path, &s, rep, &rep->choices, err);
    xsim_scenario_free(&s);
    if (rc != 0)
        return rc;
    return rep->all_pass ? 0 : 1;
}
