/*
 * storage_file.c - the file variant of the storage models (see storage.h):
 * a disk image read and written with libuv's synchronous uv_fs_* calls on a
 * loop of its own. Kept apart from storage.c so that only it needs libuv.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "xensim/storage.h"

#include "storage_internal.h"

/* The file variant's state, in the storage object's priv slot (owned). */
struct file_state {
    uv_loop_t loop;
    bool loop_ok;
    uv_file fd;
};

static struct file_state *file_of(struct xsim_storage *s)
{
    return *xsim__storage_priv(s);
}

static int file_io(struct file_state *f, bool wr, uint64_t sector, uint64_t n, void *buf)
{
    uint64_t done = 0, len = n * XSIM_SECTOR_SIZE;

    while (done < len) {
        uv_fs_t req;
        uv_buf_t b = uv_buf_init((char *)buf + done, (unsigned int)(len - done));
        int64_t off = (int64_t)(sector * XSIM_SECTOR_SIZE + done);
        int r = wr ? uv_fs_write(&f->loop, &req, f->fd, &b, 1, off, NULL)
                   : uv_fs_read(&f->loop, &req, f->fd, &b, 1, off, NULL);
        uv_fs_req_cleanup(&req);
        if (r < 0)
            return r; /* libuv errors are negative errnos */
        if (r == 0) {
            if (wr)
                return -EIO;
            memset((char *)buf + done, 0, len - done); /* past EOF: never written */
            break;
        }
        done += (uint64_t)r;
    }
    return 0;
}

static int file_dread(struct xsim_storage *s, uint64_t sector, uint32_t n, void *buf)
{
    return file_io(file_of(s), false, sector, n, buf);
}

static int file_dwrite(struct xsim_storage *s, uint64_t sector, uint32_t n, const void *buf)
{
    return file_io(file_of(s), true, sector, n, (void *)buf);
}

static int file_ddiscard(struct xsim_storage *s, uint64_t sector, uint64_t n)
{
    struct file_state *f = file_of(s);
    uint8_t *z = calloc(64, XSIM_SECTOR_SIZE);
    int rc = 0;

    if (z == NULL)
        return -ENOMEM;
    for (uint64_t i = 0; i < n && rc == 0; i += 64)
        rc = file_io(f, true, sector + i, n - i < 64 ? n - i : 64, z);
    free(z);
    return rc;
}

static int file_dsync(struct xsim_storage *s)
{
    struct file_state *f = file_of(s);
    uv_fs_t req;
    int rc = uv_fs_fdatasync(&f->loop, &req, f->fd, NULL);

    uv_fs_req_cleanup(&req);
    return rc;
}

static void file_fini(struct xsim_storage *s)
{
    struct file_state *f = file_of(s);

    if (f == NULL)
        return;
    if (f->fd >= 0) {
        uv_fs_t req;
        uv_fs_fsync(&f->loop, &req, f->fd, NULL);
        uv_fs_req_cleanup(&req);
        uv_fs_close(&f->loop, &req, f->fd, NULL);
        uv_fs_req_cleanup(&req);
        f->fd = -1;
    }
    if (f->loop_ok) {
        uv_loop_close(&f->loop);
        f->loop_ok = false;
    }
    free(f);
    *xsim__storage_priv(s) = NULL;
}

static const struct xsim_storage_ops file_ops = {
    .dread = file_dread,
    .dwrite = file_dwrite,
    .ddiscard = file_ddiscard,
    .fini = file_fini,
    .dsync = file_dsync,
};

int xsim_storage_file_create(const struct xsim_storage_config *cfg, struct xsim_storage **out)
{
    struct xsim_storage *s;
    struct file_state *f;
    uv_fs_t req;
    int rc;

    if (cfg == NULL || cfg->path == NULL)
        return -EINVAL;
    rc = xsim__storage_new(cfg, &file_ops, &s);
    if (rc != 0)
        return rc;
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        xsim_storage_destroy(s);
        return -ENOMEM;
    }
    f->fd = -1;
    *xsim__storage_priv(s) = f;
    rc = uv_loop_init(&f->loop);
    if (rc == 0) {
        f->loop_ok = true;
        rc = uv_fs_open(&f->loop, &req, cfg->path, cfg->readonly ? O_RDONLY : (O_RDWR | O_CREAT),
                        0644, NULL);
        uv_fs_req_cleanup(&req);
        if (rc >= 0) {
            f->fd = rc;
            rc = 0;
        }
    }
    if (rc != 0) {
        xsim_storage_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}
