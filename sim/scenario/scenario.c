/*
 * scenario.c - loading a scenario: defaults, the schema check
 * (scenario_schema.c), then the rules across keys (block I/O against its
 * disk, disks and migrations against the run, buffer sizes). Every error
 * names file, line and column; docs/scenario-format.md is the reference.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/jsonschema.h"
#include "xensim/scenario_set.h"
#include "workload/workload.h"
#include "xensim/scenario.h"

#include "scenario/scenario_internal.h"

typedef struct xsim_scenario scn_t;
typedef struct xsim_scn_workload wl_t;
typedef struct xsim_scn_disk disk_t;

static void defaults(scn_t *s)
{
    memset(s, 0, sizeof(*s));
    s->machine.vcpus = 1;
    s->machine.hvm_callback_vector = true;
    s->machine.percpu_upcall_vector = true;
    s->machine.hvm_safe_pvclock = true;
    s->machine.platform_pci = true;
    s->machine.fifo_events = true;
    s->guest.balance_at_bind = true;
    s->stop.time_ns = 100000000; /* 100 ms */
    snprintf(s->policy, sizeof(s->policy), "time");
    s->seed = 1;
    for (size_t i = 0; i < XSIM_SCN_MAX_WORKLOADS; i++) {
        wl_t *w = &s->workloads[i];
        w->vcpu = -1;
        w->burst = 1;
        w->disk_index = -1;
        w->mix_read = 0.5;
        w->mix_write = 0.4;
        w->mix_flush = 0.1;
        w->io_sectors = 8;
        w->queue_depth = 8;
        w->keys = 2;
        w->watch = true;
    }
    for (size_t i = 0; i < XSIM_SCN_MAX_DISKS; i++) {
        disk_t *d = &s->disks[i];
        d->devid = 51712 + 16 * (uint32_t)i; /* xvda, xvdb, ... */
        d->sectors = 1u << 21;               /* 1 GiB */
        d->write_cache = true;
        xsim__scn_disk_features_default(&d->features);
        d->latency_ns = 50000;
        d->ns_per_sector = 2;
        d->ring_pages = 4;
        d->indirect = true;
    }
}

static int elem_error(const struct xsim_json_doc *doc, const char *array, size_t i,
                      struct xsim_error *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* An error positioned at element i of a top-level array. */
static int elem_error(const struct xsim_json_doc *doc, const char *array, size_t i,
                      struct xsim_error *err, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    int line = 0, col = 0;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    xsim_json_elem_pos(doc, json_object_get(doc->root, array), i, &line, &col);
    return xsim_json_error_at(doc, line, col, err, "%s", text);
}

static int check_block_io(scn_t *s, const struct xsim_json_doc *doc, size_t i,
                          struct xsim_error *err)
{
    wl_t *w = &s->workloads[i];
    const disk_t *d = NULL;
    uint64_t region;

    for (size_t k = 0; k < s->ndisks; k++) {
        if (strcmp(s->disks[k].name, w->disk) == 0) {
            w->disk_index = (int)k;
            d = &s->disks[k];
        }
    }
    if (d == NULL)
        return elem_error(doc, "workloads", i, err,
                          "'workloads[%zu].disk' is \"%s\", which is not in 'disks'", i, w->disk);
    if ((d->readonly || d->kind == XSIM_DISK_CDROM) &&
        (w->mix_write > 0 || w->mix_barrier > 0 || w->mix_discard > 0))
        return elem_error(doc, "workloads", i, err,
                          "'workloads[%zu]' writes to '%s', which is read-only; expected a mix "
                          "of reads and flushes only",
                          i, d->name);
    if (w->vcpu < 0)
        w->vcpu = 0;
    region = w->region != 0 ? w->region : d->sectors;
    if (region / w->io_sectors > (1u << 22))
        return elem_error(doc, "workloads", i, err,
                          "'workloads[%zu]' covers %llu blocks of %u sectors; at most 4194304: "
                          "set a smaller 'region' or larger 'io_sectors'",
                          i, (unsigned long long)(region / w->io_sectors), w->io_sectors);
    if (region > d->sectors || region < w->io_sectors)
        return elem_error(doc, "workloads", i, err,
                          "'workloads[%zu].region' is %llu sectors; expected %u..%llu (io_sectors "
                          "to the disk's size)",
                          i, (unsigned long long)region, w->io_sectors,
                          (unsigned long long)d->sectors);
    return 0;
}

static int check_disks(const scn_t *s, const struct xsim_json_doc *doc, struct xsim_error *err)
{
    for (size_t i = 0; i < s->ndisks; i++) {
        const disk_t *d = &s->disks[i];
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->disks[k].name, d->name) == 0 || s->disks[k].devid == d->devid)
                return elem_error(doc, "disks", i, err,
                                  "'disks[%zu]' has the name or devid of 'disks[%zu]'", i, k);
        }
        if (d->storage == XSIM_DISK_FILE && d->path[0] == '\0')
            return elem_error(doc, "disks", i, err,
                              "'disks[%zu]' is file storage and needs a 'path'", i);
        if (d->kind == XSIM_DISK_DISK && d->sectors == 0)
            return elem_error(doc, "disks", i, err,
                              "'disks[%zu].sectors' is 0; only a cdrom may be empty", i);
        if (d->power_loss_ns != 0 && d->power_loss_ns >= s->stop.time_ns)
            return elem_error(doc, "disks", i, err,
                              "'disks[%zu].faults.power_loss' is not before the run's stop time",
                              i);
        if (d->backend_gone_ns != 0 && d->backend_gone_ns >= s->stop.time_ns)
            return elem_error(doc, "disks", i, err,
                              "'disks[%zu].faults.backend_gone' is not before the run's stop time",
                              i);
    }
    for (size_t i = 0; i < s->nmigrations; i++) {
        if (s->migrations[i].at_ns >= s->stop.time_ns)
            return elem_error(doc, "migrations", i, err,
                              "'migrations[%zu].at' is not before the run's stop time", i);
        if (i > 0 && s->migrations[i].at_ns <= s->migrations[i - 1].at_ns)
            return elem_error(doc, "migrations", i, err,
                              "'migrations[%zu].at' must be later than 'migrations[%zu].at'", i,
                              i - 1);
    }
    return 0;
}

/* Block-io buffers live in guest RAM: bound what a scenario may ask for. */
#define MAX_BUFFER_PAGES 65536 /* 256 MiB */

static int check_buffers(const scn_t *s, const struct xsim_json_doc *doc, struct xsim_error *err)
{
    uint64_t pages = 0;

    for (size_t i = 0; i < s->nworkloads; i++) {
        const wl_t *w = &s->workloads[i];
        if (w->type != XSIM_WL_BLOCK_IO)
            continue;
        pages += (uint64_t)w->queue_depth * ((w->io_sectors * 512u + 4095) / 4096);
        if (pages > MAX_BUFFER_PAGES)
            return elem_error(doc, "workloads", i, err,
                              "the block-io workloads up to 'workloads[%zu]' need %llu MiB of "
                              "guest RAM for their buffers (queue_depth x io_sectors); at most "
                              "%u MiB",
                              i, (unsigned long long)(pages / 256), MAX_BUFFER_PAGES / 256);
    }
    return 0;
}

/* The nodes the xenstore workloads create are the guest's, under its
 * XenStore quota (1000 nodes per domain, of which the guest's own set-up
 * takes a few dozen): a scenario must not ask for more, or the daemon's
 * rightful EQUOTA would read as a wrong reply. */
#define MAX_XENSTORE_NODES 800

static int check_xenstore(const scn_t *s, const struct xsim_json_doc *doc, struct xsim_error *err)
{
    uint64_t nodes = 0;

    for (size_t i = 0; i < s->nworkloads; i++) {
        const wl_t *w = &s->workloads[i];
        uint64_t cpus = w->vcpu >= 0 ? 1 : (uint64_t)s->machine.vcpus;
        if (w->type != XSIM_WL_XENSTORE)
            continue;
        for (size_t k = 0; k < i; k++) {
            /* the name makes the subtree and the watch token */
            if (s->workloads[k].type == XSIM_WL_XENSTORE &&
                strcmp(s->workloads[k].name, w->name) == 0)
                return elem_error(doc, "workloads", i, err,
                                  "'workloads[%zu]' has the name of 'workloads[%zu]', another "
                                  "xenstore workload (each has its own data/<name>)",
                                  i, k);
        }
        /* each CPU's directory and keys, the workload's and the storm's
         * directories and the storm's keys */
        nodes += cpus * ((uint64_t)w->keys + 1) + 2 + (w->storm_rate > 0 ? 4 : 0);
        if (nodes > MAX_XENSTORE_NODES)
            return elem_error(doc, "workloads", i, err,
                              "the xenstore workloads up to 'workloads[%zu]' create %llu XenStore "
                              "nodes (vCPUs x (keys + 1) each); at most %u fit the guest's quota",
                              i, (unsigned long long)nodes, MAX_XENSTORE_NODES);
    }
    return 0;
}

static int check(scn_t *s, struct xsim_json_doc *doc, struct xsim_error *err)
{
    const json_t *oracles, *cb;
    int rc = xsim_schema_check(doc, doc->root, xsim__scenario_schema(), "", s, err);

    if (rc != 0)
        return rc;
    /* The expected callback is stored as its name. */
    oracles = json_object_get(doc->root, "oracles");
    cb = oracles != NULL ? json_object_get(oracles, "callback") : NULL;
    if (cb != NULL)
        snprintf(s->oracles.callback, sizeof(s->oracles.callback), "%s", json_string_value(cb));
    for (size_t i = 0; i < s->nworkloads; i++) {
        const wl_t *w = &s->workloads[i];
        int line = 0, col = 0;
        if (w->vcpu >= s->machine.vcpus) {
            xsim_json_elem_pos(doc, json_object_get(doc->root, "workloads"), i, &line, &col);
            return xsim_json_error_at(doc, line, col, err,
                                      "'workloads[%zu].vcpu' is %d but the machine has %d "
                                      "vCPUs; expected -1 or 0..%d",
                                      i, w->vcpu, s->machine.vcpus, s->machine.vcpus - 1);
        }
        if (w->type == XSIM_WL_LOST_UPDATE && s->machine.vcpus < 2) {
            xsim_json_elem_pos(doc, json_object_get(doc->root, "workloads"), i, &line, &col);
            return xsim_json_error_at(doc, line, col, err,
                                      "'workloads[%zu]' (lost-update) needs at least 2 vCPUs", i);
        }
        if (w->type == XSIM_WL_BLOCK_IO && (rc = check_block_io(s, doc, i, err)) != 0)
            return rc;
        if (w->close_every_ns != 0 && (s->machine.vcpus < 2 || w->close_every_ns < 1000)) {
            /* The close comes from a CPU other than the handler's. */
            xsim_json_elem_pos(doc, json_object_get(doc->root, "workloads"), i, &line, &col);
            return xsim_json_error_at(doc, line, col, err, "'workloads[%zu].close_every' %s", i,
                                      s->machine.vcpus < 2 ? "needs at least 2 vCPUs"
                                                           : "must be 0 (never) or at least 1us");
        }
    }
    if ((rc = check_buffers(s, doc, err)) != 0)
        return rc;
    if ((rc = check_xenstore(s, doc, err)) != 0)
        return rc;
    return check_disks(s, doc, err);
}

static int load(scn_t *s, struct xsim_json_doc *doc, const char *text, size_t len,
                struct xsim_error *err)
{
    int rc = check(s, doc, err);

    if (rc != 0)
        return rc;
    s->text = malloc(len + 1);
    if (s->text == NULL)
        return -ENOMEM;
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    return 0;
}

int xsim_scenario_load_buffer(struct xsim_scenario *s, const char *name, const char *text,
                              size_t len, struct xsim_error *err)
{
    struct xsim_json_doc doc;
    int rc;

    defaults(s);
    snprintf(s->path, sizeof(s->path), "%s", name != NULL ? name : "<string>");
    xsim_json_doc_init(&doc, NULL);
    rc = xsim_json_doc_load_buffer(&doc, s->path, text, len, err);
    if (rc == 0)
        rc = load(s, &doc, text, len, err);
    xsim_json_doc_close(&doc);
    if (rc != 0)
        xsim_scenario_free(s);
    return rc;
}

int xsim_scenario_load_file(struct xsim_scenario *s, const char *path, struct xsim_error *err)
{
    char *buf;
    size_t len;
    int rc = xsim_text_read_file(path, &buf, &len, err);

    if (rc != 0)
        return rc;
    rc = xsim_scenario_load_buffer(s, path, buf, len, err);
    free(buf);
    return rc;
}

void xsim_scenario_free(struct xsim_scenario *s)
{
    free(s->text);
    s->text = NULL;
    free(s->migrations);
    s->migrations = NULL;
    s->nmigrations = 0;
}
