/*
 * test_zmem.c - zeroed tables for sparse data: a block handed out again
 * (an explorer builds a world per schedule, and the thread keeps freed
 * mappings) must read as zeros everywhere, whatever the previous user
 * wrote, read or left untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "world/zmem.h"

#define BIG ((size_t)6 << 20) /* a port table's size: mapped */

static size_t nonzero_bytes(const unsigned char *p, size_t size)
{
    size_t n = 0;

    for (size_t i = 0; i < size; i++)
        n += p[i] != 0;
    return n;
}

static void test_reuse_reads_zero(void **state)
{
    (void)state;
    for (int round = 0; round < 6; round++) {
        unsigned char *p = xsim__zalloc(BIG);
        assert_non_null(p);
        assert_int_equal(((uintptr_t)p) % 64, 0);
        assert_int_equal(nonzero_bytes(p, BIG), 0);
        /* Dirty it differently each round: the first page, a byte at each
         * end, a run across a page boundary, scattered bytes; read (but
         * leave zero) some pages in between. */
        volatile unsigned char sink = 0;
        for (size_t i = 0; i < BIG; i += 4096 * (size_t)(round + 3))
            sink ^= p[i];
        (void)sink;
        memset(p, 0xa5, 4096);
        p[BIG - 1] = 1;
        memset(p + 3 * 4096 - 100 + (size_t)round, 0x5a, 300);
        for (size_t i = 7; i < BIG; i += 65537 * (size_t)(round + 1))
            p[i] = (unsigned char)(i | 1);
        xsim__zfree(p, BIG);
    }
}

static void test_two_sizes_and_small(void **state)
{
    (void)state;
    for (int round = 0; round < 4; round++) {
        unsigned char *a = xsim__zalloc(BIG);
        unsigned char *b = xsim__zalloc(BIG / 2);
        unsigned char *c = xsim__zalloc(1000); /* heap */
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_int_equal(nonzero_bytes(a, BIG), 0);
        assert_int_equal(nonzero_bytes(b, BIG / 2), 0);
        assert_int_equal(nonzero_bytes(c, 1000), 0);
        memset(a + BIG / 2, 0xff, 8192);
        memset(b, 0xff, BIG / 2); /* every page */
        memset(c, 0xff, 1000);
        xsim__zfree(c, 1000);
        xsim__zfree(b, BIG / 2);
        xsim__zfree(a, BIG);
    }
    xsim__zfree(NULL, BIG);
}

/* More blocks alive at once than the thread keeps: the rest are unmapped,
 * and every block is still zero when handed out again. */
static void test_many_alive(void **state)
{
    enum { N = 9 };
    unsigned char *p[N];

    (void)state;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            p[i] = xsim__zalloc(BIG);
            assert_non_null(p[i]);
            assert_int_equal(nonzero_bytes(p[i], BIG), 0);
            p[i][(size_t)i * 4096 + 1] = 0x11;
        }
        for (int i = 0; i < N; i++)
            xsim__zfree(p[i], BIG);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_reads_zero),
        cmocka_unit_test(test_two_sizes_and_small),
        cmocka_unit_test(test_many_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
