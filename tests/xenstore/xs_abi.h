/*
 * xs_abi.h - the xs_wire ABI as plain numbers, filled from one header or
 * the other (xs_abi_xen.c: Xen's; test_xs_abi.c: ours) and compared.
 */
#ifndef XSIM_TEST_XS_ABI_H
#define XSIM_TEST_XS_ABI_H

#define XS_ABI_MAX_ERRORS 32

struct xs_abi {
    long types[27];
    unsigned int nerrors;
    int errnum[XS_ABI_MAX_ERRORS];
    char errstr[XS_ABI_MAX_ERRORS][16];
    unsigned long sizes[14];
    unsigned long consts[13];
    char strs[3][16];
};

void xs_abi_xen(struct xs_abi *a);

#endif
