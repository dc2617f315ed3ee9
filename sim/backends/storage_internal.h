/*
 * storage_internal.h - what a storage variant kept outside storage.c (the
 * file one, in storage_file.c) needs: the ops table, creation and a slot
 * for its own state.
 */
#ifndef XSIM_STORAGE_INTERNAL_H
#define XSIM_STORAGE_INTERNAL_H

#include "xensim/storage.h"

struct xsim_storage_ops {
    /* Durable image: read/write `n` whole sectors. */
    int (*dread)(struct xsim_storage *s, uint64_t sector, uint32_t n, void *buf);
    int (*dwrite)(struct xsim_storage *s, uint64_t sector, uint32_t n, const void *buf);
    int (*ddiscard)(struct xsim_storage *s, uint64_t sector, uint64_t n);
    void (*fini)(struct xsim_storage *s);
    /* Optional: make the durable image stable (a flush after destaging). */
    int (*dsync)(struct xsim_storage *s);
    bool cdrom;
};

/* A storage object of variant `ops` with cfg's geometry and faults (the
 * path is not kept). Returns 0, -EINVAL or -ENOMEM; *out is new. */
int xsim__storage_new(const struct xsim_storage_config *cfg, const struct xsim_storage_ops *ops,
                      struct xsim_storage **out);

/* The variant's state slot (NULL after xsim__storage_new); borrowed. */
void **xsim__storage_priv(struct xsim_storage *s);

#endif
