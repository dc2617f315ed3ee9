/*
 * test_storage.c - the storage models: RAM and file images behind a
 * volatile write cache (reads see the newest data, flush makes it durable,
 * power loss drops all or a random half of it), write-through mode, bounds,
 * read-only, CD-ROM media and error faults, and 10^5 scattered writes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "xensim/storage.h"

static void fill(uint8_t *b, uint32_t n, uint8_t tag)
{
    for (uint32_t i = 0; i < n * XSIM_SECTOR_SIZE; i++)
        b[i] = (uint8_t)(tag + i / XSIM_SECTOR_SIZE);
}

static void cfg_init(struct xsim_storage_config *c, uint64_t sectors)
{
    memset(c, 0, sizeof(*c));
    c->sectors = sectors;
    c->write_cache = true;
    c->faults.lose_all_cached = true;
}

/* The cache semantics every read-write variant must have. */
static void check_cache(struct xsim_storage *s, struct xsim_storage_faults *f)
{
    uint8_t a[4 * XSIM_SECTOR_SIZE], b[4 * XSIM_SECTOR_SIZE], z[4 * XSIM_SECTOR_SIZE];
    struct xsim_storage_stats st;

    memset(z, 0, sizeof(z));
    fill(a, 4, 10);
    /* write -> readable, not durable; power loss -> gone */
    assert_int_equal(xsim_storage_write(s, 8, 4, a), 0);
    assert_int_equal(xsim_storage_read(s, 8, 4, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(xsim_storage_read_durable(s, 8, 4, b), 0);
    assert_memory_equal(z, b, sizeof(z));
    xsim_storage_stats(s, &st);
    assert_int_equal(st.cached_sectors, 4);
    xsim_storage_power_loss(s);
    assert_int_equal(xsim_storage_read(s, 8, 4, b), 0);
    assert_memory_equal(z, b, sizeof(z));
    xsim_storage_stats(s, &st);
    assert_int_equal(st.lost_sectors, 4);
    /* write, flush, power loss -> kept */
    assert_int_equal(xsim_storage_write(s, 8, 4, a), 0);
    assert_int_equal(xsim_storage_flush(s), 0);
    xsim_storage_power_loss(s);
    assert_int_equal(xsim_storage_read(s, 8, 4, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(xsim_storage_read_durable(s, 8, 4, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    /* a newer cached write shadows the durable data; overlapping writes */
    fill(b, 2, 77);
    assert_int_equal(xsim_storage_write(s, 9, 2, b), 0);
    assert_int_equal(xsim_storage_read(s, 8, 4, z), 0);
    assert_memory_equal(z, a, XSIM_SECTOR_SIZE);
    assert_memory_equal(z + XSIM_SECTOR_SIZE, b, 2 * XSIM_SECTOR_SIZE);
    assert_memory_equal(z + 3 * XSIM_SECTOR_SIZE, a + 3 * XSIM_SECTOR_SIZE, XSIM_SECTOR_SIZE);
    /* discard: reads zero afterwards */
    assert_int_equal(xsim_storage_discard(s, 8, 4), 0);
    assert_int_equal(xsim_storage_read(s, 8, 4, b), 0);
    memset(z, 0, sizeof(z));
    assert_memory_equal(z, b, sizeof(z));
    /* bounds */
    assert_int_equal(xsim_storage_read(s, xsim_storage_sectors(s) - 1, 2, b), -EINVAL);
    assert_int_equal(xsim_storage_write(s, UINT64_MAX - 1, 4, a), -EINVAL);
    assert_int_equal(xsim_storage_read(s, xsim_storage_sectors(s) - 1, 1, b), 0);
    /* refused flush */
    f->refuse_flush = true;
    xsim_storage_set_faults(s, f);
    assert_int_equal(xsim_storage_flush(s), -EOPNOTSUPP);
    f->refuse_flush = false;
    xsim_storage_set_faults(s, f);
}

static void test_mem_cache(void **state)
{
    struct xsim_storage_config c;
    struct xsim_storage *s;

    (void)state;
    cfg_init(&c, 1u << 21);
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    check_cache(s, &c.faults);
    xsim_storage_destroy(s);
    c.sectors = 0;
    assert_int_equal(xsim_storage_mem_create(&c, &s), -EINVAL);
    assert_null(s);
}

static void test_file_cache(void **state)
{
    char dir[] = "/tmp/xsim-storage-XXXXXX", path[64];
    struct xsim_storage_config c;
    struct xsim_storage *s;
    uint8_t a[4 * XSIM_SECTOR_SIZE], b[4 * XSIM_SECTOR_SIZE];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/disk.img", dir);
    cfg_init(&c, 4096);
    c.path = path;
    assert_int_equal(xsim_storage_file_create(&c, &s), 0);
    check_cache(s, &c.faults);
    /* durable data survives closing and reopening the file; cached does not */
    fill(a, 4, 3);
    assert_int_equal(xsim_storage_write(s, 100, 4, a), 0);
    assert_int_equal(xsim_storage_flush(s), 0);
    assert_int_equal(xsim_storage_write(s, 200, 4, a), 0);
    xsim_storage_destroy(s);
    assert_int_equal(xsim_storage_file_create(&c, &s), 0);
    assert_int_equal(xsim_storage_read(s, 100, 4, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(xsim_storage_read(s, 200, 1, b), 0);
    assert_int_equal(b[0], 0);
    xsim_storage_destroy(s);
    /* a bad path is the open error */
    c.path = "/nonexistent-dir/x/y.img";
    assert_int_equal(xsim_storage_file_create(&c, &s), -ENOENT);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_subset_loss(void **state)
{
    struct xsim_storage_config c;
    struct xsim_storage *s;
    struct xsim_storage_stats st;
    struct xsim_rng rng;
    uint8_t a[XSIM_SECTOR_SIZE], b[XSIM_SECTOR_SIZE];
    unsigned int kept = 0;

    (void)state;
    xsim_rng_init(&rng, 7, "test");
    cfg_init(&c, 1u << 20);
    c.faults.lose_all_cached = false;
    c.rng = &rng;
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    for (uint32_t i = 0; i < 1000; i++) {
        memset(a, (int)(i % 255) + 1, sizeof(a));
        assert_int_equal(xsim_storage_write(s, (uint64_t)i * 17, 1, a), 0);
    }
    xsim_storage_power_loss(s);
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_equal(xsim_storage_read(s, (uint64_t)i * 17, 1, b), 0);
        if (b[0] != 0) {
            assert_int_equal(b[0], (uint8_t)((i % 255) + 1));
            kept++;
        }
    }
    xsim_storage_stats(s, &st);
    assert_int_equal(st.lost_sectors, 1000 - kept);
    assert_in_range(kept, 400, 600); /* each one with p = 1/2 */
    xsim_storage_destroy(s);
}

static void test_write_through_ro_faults(void **state)
{
    struct xsim_storage_config c;
    struct xsim_storage *s;
    struct xsim_storage_stats st;
    struct xsim_rng rng;
    uint8_t a[XSIM_SECTOR_SIZE], b[XSIM_SECTOR_SIZE];
    int eio = 0;

    (void)state;
    memset(a, 0x5a, sizeof(a));
    cfg_init(&c, 1024);
    c.write_cache = false;
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    assert_int_equal(xsim_storage_write(s, 5, 1, a), 0);
    xsim_storage_power_loss(s);
    assert_int_equal(xsim_storage_read_durable(s, 5, 1, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    xsim_storage_destroy(s);

    cfg_init(&c, 1024);
    c.readonly = true;
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    assert_true(xsim_storage_readonly(s));
    assert_int_equal(xsim_storage_write(s, 5, 1, a), -EROFS);
    assert_int_equal(xsim_storage_read(s, 5, 1, b), 0);
    xsim_storage_destroy(s);

    xsim_rng_init(&rng, 1, "faults");
    cfg_init(&c, 1024);
    c.rng = &rng;
    c.faults.write_error_rate = 0.5;
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    for (int i = 0; i < 200; i++) {
        int rc = xsim_storage_write(s, 1, 1, a);
        assert_true(rc == 0 || rc == -EIO);
        eio += rc == -EIO;
    }
    assert_in_range(eio, 60, 140);
    xsim_storage_stats(s, &st);
    assert_int_equal(st.errors, (uint64_t)eio);
    xsim_storage_destroy(s);

    /* a bounded cache destages when full */
    cfg_init(&c, 1024);
    c.cache_max = 4;
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(xsim_storage_write(s, (uint64_t)i, 1, a), 0);
    xsim_storage_stats(s, &st);
    assert_true(st.cached_sectors <= 4);
    assert_int_equal(xsim_storage_read_durable(s, 0, 1, b), 0);
    assert_memory_equal(a, b, sizeof(a));
    xsim_storage_destroy(s);
}

static void test_cdrom(void **state)
{
    struct xsim_storage_config c;
    struct xsim_storage *s;
    uint8_t b[XSIM_SECTOR_SIZE];

    (void)state;
    cfg_init(&c, 0);
    assert_int_equal(xsim_storage_cdrom_create(&c, &s), 0);
    assert_true(xsim_storage_is_cdrom(s));
    assert_true(xsim_storage_readonly(s));
    assert_int_equal(xsim_storage_read(s, 0, 1, b), -ENOMEDIUM);
    assert_int_equal(xsim_storage_cdrom_change(s, 100), 0);
    assert_int_equal(xsim_storage_read(s, 42, 1, b), 0);
    for (uint32_t i = 0; i < XSIM_SECTOR_SIZE; i++)
        assert_int_equal(b[i], xsim_storage_cdrom_byte(xsim_storage_cdrom_medium(s), 42, i));
    assert_int_equal(xsim_storage_write(s, 42, 1, b), -EROFS);
    assert_int_equal(xsim_storage_read(s, 100, 1, b), -EINVAL);
    assert_int_equal(xsim_storage_cdrom_change(s, 0), 0);
    assert_int_equal(xsim_storage_read(s, 0, 1, b), -ENOMEDIUM);
    xsim_storage_destroy(s);
    /* not a cdrom */
    cfg_init(&c, 8);
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    assert_int_equal(xsim_storage_cdrom_change(s, 4), -EINVAL);
    xsim_storage_destroy(s);
}

/* 10^5 scattered single-sector writes, half flushed: quick and exact. */
static void test_many_writes(void **state)
{
    struct xsim_storage_config c;
    struct xsim_storage *s;
    struct xsim_rng rng;
    uint8_t a[XSIM_SECTOR_SIZE], b[XSIM_SECTOR_SIZE];
    const uint64_t cap = 1u << 21;

    (void)state;
    cfg_init(&c, cap);
    assert_int_equal(xsim_storage_mem_create(&c, &s), 0);
    xsim_rng_init(&rng, 3, "many");
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t sec = xsim_rng_below(&rng, cap);
        memcpy(a, &sec, sizeof(sec));
        assert_int_equal(xsim_storage_write(s, sec, 1, a), 0);
        if (i == 50000)
            assert_int_equal(xsim_storage_flush(s), 0);
    }
    xsim_rng_init(&rng, 3, "many");
    for (uint32_t i = 0; i < 100000; i++) {
        uint64_t sec = xsim_rng_below(&rng, cap), got;
        assert_int_equal(xsim_storage_read(s, sec, 1, b), 0);
        memcpy(&got, b, sizeof(got));
        assert_true(got == sec);
    }
    xsim_storage_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_cache),   cmocka_unit_test(test_file_cache),
        cmocka_unit_test(test_subset_loss), cmocka_unit_test(test_write_through_ro_faults),
        cmocka_unit_test(test_cdrom),       cmocka_unit_test(test_many_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
