/*
 * test_xs_skip.c - stands in for an interop test whose peer (Debian's
 * libxenstore) is not installed: reports "skipped" to ctest (exit 77).
 */
#include <stdio.h>

int main(void)
{
    printf("SKIP: %s not available at build time\n", XS_SKIP_WHAT);
    return 77;
}
