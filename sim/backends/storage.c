/*
 * storage.c - storage models behind a block backend (see storage.h): a
 * sparse RAM disk and a CD-ROM whose medium can change; the file variant
 * (libuv) is in storage_file.c. All share one volatile write cache
 * (sector -> data) in front of a durable image that each variant implements.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xensim/storage.h"

#include "storage_internal.h"

/* ---- sector map: open addressing, linear probing, backward-shift delete ---- */

#define SMAP_EMPTY UINT64_MAX

struct smap_ent {
    uint64_t key;
    uint8_t *data; /* XSIM_SECTOR_SIZE bytes, owned */
};

struct smap {
    struct smap_ent *ents;
    size_t cap, count; /* cap is a power of two or 0 */
};

static size_t smap_hash(uint64_t k, size_t cap)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

static uint8_t *smap_get(const struct smap *m, uint64_t key)
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = smap_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->ents[i].key == key)
            return m->ents[i].data;
        if (m->ents[i].key == SMAP_EMPTY)
            return NULL;
    }
}

static int smap_grow(struct smap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 256;
    struct smap_ent *n = malloc(ncap * sizeof(*n));

    if (n == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < ncap; i++)
        n[i].key = SMAP_EMPTY;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->ents[i].key == SMAP_EMPTY)
            continue;
        size_t j = smap_hash(m->ents[i].key, ncap);
        while (n[j].key != SMAP_EMPTY)
            j = (j + 1) & (ncap - 1);
        n[j] = m->ents[i];
    }
    free(m->ents);
    m->ents = n;
    m->cap = ncap;
    return 0;
}

/* The sector's buffer, created (zeroed) if absent; NULL on ENOMEM. */
static uint8_t *smap_put(struct smap *m, uint64_t key)
{
    uint8_t *d = smap_get(m, key);
    size_t i;

    if (d != NULL)
        return d;
    if ((m->count + 1) * 4 > m->cap * 3 && smap_grow(m) != 0)
        return NULL;
    d = calloc(1, XSIM_SECTOR_SIZE);
    if (d == NULL)
        return NULL;
    for (i = smap_hash(key, m->cap); m->ents[i].key != SMAP_EMPTY; i = (i + 1) & (m->cap - 1))
        ;
    m->ents[i].key = key;
    m->ents[i].data = d;
    m->count++;
    return d;
}

static void smap_del(struct smap *m, uint64_t key)
{
    size_t i, j;

    if (m->cap == 0)
        return;
    for (i = smap_hash(key, m->cap); m->ents[i].key != key; i = (i + 1) & (m->cap - 1)) {
        if (m->ents[i].key == SMAP_EMPTY)
            return;
    }
    free(m->ents[i].data);
    m->ents[i].key = SMAP_EMPTY;
    m->count--;
    /* Backward shift: move later members of the probe run into the hole. */
    for (j = (i + 1) & (m->cap - 1); m->ents[j].key != SMAP_EMPTY; j = (j + 1) & (m->cap - 1)) {
        size_t h = smap_hash(m->ents[j].key, m->cap);
        bool movable = (i <= j) ? (h <= i || h > j) : (h <= i && h > j);
        if (movable) {
            m->ents[i] = m->ents[j];
            m->ents[j].key = SMAP_EMPTY;
            i = j;
        }
    }
}

/* Free every entry but keep the table. */
static void smap_clear(struct smap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->ents[i].key != SMAP_EMPTY) {
            free(m->ents[i].data);
            m->ents[i].key = SMAP_EMPTY;
        }
    }
    m->count = 0;
}

static void smap_free(struct smap *m)
{
    smap_clear(m);
    free(m->ents);
    m->ents = NULL;
    m->cap = 0;
}

/* ---- the storage object and its variants ---- */

struct xsim_storage {
    const struct xsim_storage_ops *ops;
    struct xsim_storage_config cfg;
    struct xsim_storage_faults faults;
    struct xsim_storage_stats st;
    struct smap cache;
    struct xsim_rng own_rng; /* power-loss choices when cfg.rng is NULL */
    /* mem and cdrom: the durable image (absent sectors read as zero) */
    struct smap image;
    uint32_t medium_gen; /* cdrom: which medium is in */
    void *priv;          /* the variant's own state (file: storage_file.c) */
};

static int mem_dread(struct xsim_storage *s, uint64_t sector, uint32_t n, void *buf)
{
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *d = smap_get(&s->image, sector + i);
        uint8_t *o = (uint8_t *)buf + (size_t)i * XSIM_SECTOR_SIZE;
        if (d != NULL)
            memcpy(o, d, XSIM_SECTOR_SIZE);
        else
            memset(o, 0, XSIM_SECTOR_SIZE);
    }
    return 0;
}

static int mem_dwrite(struct xsim_storage *s, uint64_t sector, uint32_t n, const void *buf)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *d = smap_put(&s->image, sector + i);
        if (d == NULL)
            return -ENOMEM;
        memcpy(d, (const uint8_t *)buf + (size_t)i * XSIM_SECTOR_SIZE, XSIM_SECTOR_SIZE);
    }
    return 0;
}

static int mem_ddiscard(struct xsim_storage *s, uint64_t sector, uint64_t n)
{
    for (uint64_t i = 0; i < n && s->image.count > 0; i++)
        smap_del(&s->image, sector + i);
    return 0;
}

static void mem_fini(struct xsim_storage *s)
{
    smap_free(&s->image);
}

/* A CD-ROM medium's contents: a pattern of the sector number and the
 * medium's generation, so readers can check what they got. */
static int cd_dread(struct xsim_storage *s, uint64_t sector, uint32_t n, void *buf)
{
    uint8_t *o = buf;

    for (uint32_t i = 0; i < n; i++)
        for (uint32_t b = 0; b < XSIM_SECTOR_SIZE; b++)
            *o++ = xsim_storage_cdrom_byte(s->medium_gen, sector + i, b);
    return 0;
}

static const struct xsim_storage_ops mem_ops = {
    .dread = mem_dread,
    .dwrite = mem_dwrite,
    .ddiscard = mem_ddiscard,
    .fini = mem_fini,
};
static const struct xsim_storage_ops cdrom_ops = {
    .dread = cd_dread,
    .fini = mem_fini,
    .cdrom = true,
};

uint8_t xsim_storage_cdrom_byte(uint32_t medium, uint64_t sector, uint32_t byte)
{
    return (uint8_t)(sector * 131u + byte * 7u + medium * 29u + (sector >> 8));
}

int xsim__storage_new(const struct xsim_storage_config *cfg, const struct xsim_storage_ops *ops,
                      struct xsim_storage **out)
{
    struct xsim_storage *s;

    *out = NULL;
    if (cfg == NULL || (!ops->cdrom && cfg->sectors == 0) ||
        cfg->sectors > (UINT64_MAX / XSIM_SECTOR_SIZE))
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->ops = ops;
    s->cfg = *cfg;
    s->cfg.path = NULL; /* borrowed only during create */
    s->faults = cfg->faults;
    xsim_rng_init(&s->own_rng, 0, "storage:power-loss");
    *out = s;
    return 0;
}

int xsim_storage_mem_create(const struct xsim_storage_config *cfg, struct xsim_storage **out)
{
    return xsim__storage_new(cfg, &mem_ops, out);
}

int xsim_storage_cdrom_create(const struct xsim_storage_config *cfg, struct xsim_storage **out)
{
    int rc = xsim__storage_new(cfg, &cdrom_ops, out);

    if (rc == 0) {
        (*out)->cfg.readonly = true;
        (*out)->cfg.write_cache = false;
    }
    return rc;
}

void **xsim__storage_priv(struct xsim_storage *s)
{
    return &s->priv;
}

void xsim_storage_destroy(struct xsim_storage *s)
{
    if (s == NULL)
        return;
    smap_free(&s->cache);
    s->ops->fini(s);
    free(s);
}

static bool fault(struct xsim_storage *s, double rate)
{
    return rate > 0 && s->cfg.rng != NULL && xsim_rng_unit(s->cfg.rng) < rate;
}

static int check_range(const struct xsim_storage *s, uint64_t sector, uint64_t n)
{
    if (s->ops->cdrom && s->cfg.sectors == 0)
        return -ENOMEDIUM;
    if (sector > s->cfg.sectors || n > s->cfg.sectors - sector)
        return -EINVAL;
    return 0;
}

int xsim_storage_read(struct xsim_storage *s, uint64_t sector, uint32_t n, void *buf)
{
    int rc = check_range(s, sector, n);

    if (rc == 0 && fault(s, s->faults.read_error_rate))
        rc = -EIO;
    if (rc == 0)
        rc = s->ops->dread(s, sector, n, buf);
    if (rc != 0) {
        s->st.errors++;
        return rc;
    }
    /* The newest data is in the cache. */
    for (uint32_t i = 0; i < n && s->cache.count > 0; i++) {
        const uint8_t *d = smap_get(&s->cache, sector + i);
        if (d != NULL)
            memcpy((uint8_t *)buf + (size_t)i * XSIM_SECTOR_SIZE, d, XSIM_SECTOR_SIZE);
    }
    s->st.reads++;
    s->st.sectors_read += n;
    return 0;
}

int xsim_storage_read_durable(struct xsim_storage *s, uint64_t sector, uint32_t n, void *buf)
{
    int rc = check_range(s, sector, n);

    return rc != 0 ? rc : s->ops->dread(s, sector, n, buf);
}

/* Destage everything the cache holds to the durable image. */
static int destage(struct xsim_storage *s)
{
    struct smap *c = &s->cache;

    for (size_t i = 0; i < c->cap; i++) {
        if (c->ents[i].key == SMAP_EMPTY)
            continue;
        int rc = s->ops->dwrite(s, c->ents[i].key, 1, c->ents[i].data);
        if (rc != 0)
            return rc;
    }
    smap_clear(c);
    s->st.cached_sectors = 0;
    return 0;
}

int xsim_storage_write(struct xsim_storage *s, uint64_t sector, uint32_t n, const void *buf)
{
    int rc = check_range(s, sector, n);

    if (rc == 0 && s->cfg.readonly)
        rc = -EROFS;
    if (rc == 0 && fault(s, s->faults.write_error_rate))
        rc = -EIO;
    if (rc == 0 && s->cfg.write_cache && s->cfg.cache_max != 0 &&
        s->cache.count + n > s->cfg.cache_max)
        rc = destage(s); /* a full cache writes back before taking more */
    if (rc == 0 && !s->cfg.write_cache) {
        rc = s->ops->dwrite(s, sector, n, buf);
    } else if (rc == 0) {
        for (uint32_t i = 0; i < n && rc == 0; i++) {
            uint8_t *d = smap_put(&s->cache, sector + i);
            if (d == NULL)
                rc = -ENOMEM;
            else
                memcpy(d, (const uint8_t *)buf + (size_t)i * XSIM_SECTOR_SIZE, XSIM_SECTOR_SIZE);
        }
        s->st.cached_sectors = s->cache.count;
    }
    if (rc != 0) {
        s->st.errors++;
        return rc;
    }
    s->st.writes++;
    s->st.sectors_written += n;
    return 0;
}

int xsim_storage_flush(struct xsim_storage *s)
{
    int rc;

    if (s->faults.refuse_flush)
        return -EOPNOTSUPP;
    if (s->faults.flush_lies) {
        s->st.flushes++;
        return 0;
    }
    rc = destage(s);
    if (rc == 0 && s->ops->dsync != NULL)
        rc = s->ops->dsync(s);
    if (rc != 0) {
        s->st.errors++;
        return rc;
    }
    s->st.flushes++;
    return 0;
}

int xsim_storage_discard(struct xsim_storage *s, uint64_t sector, uint64_t n)
{
    int rc = check_range(s, sector, n);

    if (rc == 0 && (s->cfg.readonly || s->ops->ddiscard == NULL))
        rc = s->cfg.readonly ? -EROFS : -EOPNOTSUPP;
    for (uint64_t i = 0; rc == 0 && i < n && s->cache.count > 0; i++)
        smap_del(&s->cache, sector + i);
    s->st.cached_sectors = s->cache.count;
    if (rc == 0)
        rc = s->ops->ddiscard(s, sector, n);
    if (rc != 0) {
        s->st.errors++;
        return rc;
    }
    s->st.discards++;
    return 0;
}

void xsim_storage_power_loss(struct xsim_storage *s)
{
    struct smap *c = &s->cache;
    struct xsim_rng *rng = s->cfg.rng != NULL ? s->cfg.rng : &s->own_rng;

    if (!s->faults.lose_all_cached) {
        /* A cache destaging in any order: each sector made it or not. */
        for (size_t i = 0; i < c->cap; i++) {
            if (c->ents[i].key == SMAP_EMPTY)
                continue;
            if ((xsim_rng_next(rng) >> 63) != 0)
                (void)s->ops->dwrite(s, c->ents[i].key, 1, c->ents[i].data);
            else
                s->st.lost_sectors++;
        }
    } else {
        s->st.lost_sectors += c->count;
    }
    smap_clear(c);
    s->st.cached_sectors = 0;
}

uint64_t xsim_storage_sectors(const struct xsim_storage *s)
{
    return s->cfg.sectors;
}

bool xsim_storage_readonly(const struct xsim_storage *s)
{
    return s->cfg.readonly;
}

bool xsim_storage_is_cdrom(const struct xsim_storage *s)
{
    return s->ops->cdrom;
}

int xsim_storage_cdrom_change(struct xsim_storage *s, uint64_t sectors)
{
    if (!s->ops->cdrom || sectors > (UINT64_MAX / XSIM_SECTOR_SIZE))
        return -EINVAL;
    s->cfg.sectors = sectors;
    s->medium_gen++;
    return 0;
}

uint32_t xsim_storage_cdrom_medium(const struct xsim_storage *s)
{
    return s->medium_gen;
}

const struct xsim_storage_faults *xsim_storage_faults(const struct xsim_storage *s)
{
    return &s->faults;
}

void xsim_storage_set_faults(struct xsim_storage *s, const struct xsim_storage_faults *f)
{
    s->faults = *f;
}

void xsim_storage_stats(const struct xsim_storage *s, struct xsim_storage_stats *out)
{
    *out = s->st;
    out->cached_sectors = s->cache.count;
}
