/*
 * abi_skip.c - stands in for abi_compat when the canonical Xen headers are
 * not installed: says so and exits 77, which ctest reports as skipped.
 */
#include <stdio.h>

int main(void)
{
    printf("abi_compat: Xen public headers not found (Debian: libxen-dev); skipped\n");
    return 77;
}
