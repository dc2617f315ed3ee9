/*
 * test_xs_abi.c - our xs_wire.h against Xen's own header (Debian's
 * libxen-dev): every name, value, size and offset, and the error table.
 * Xen's side is filled in xs_abi_xen.c (the two cannot share a unit).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>

#include "xensim/abi/xs_wire.h"

#include "xenstore/xs_abi.h"

static void xs_abi_ours(struct xs_abi *a)
{
    memset(a, 0, sizeof(*a));
    a->types[0] = XS_CONTROL;
    a->types[1] = XS_DEBUG;
    a->types[2] = XS_DIRECTORY;
    a->types[3] = XS_READ;
    a->types[4] = XS_GET_PERMS;
    a->types[5] = XS_WATCH;
    a->types[6] = XS_UNWATCH;
    a->types[7] = XS_TRANSACTION_START;
    a->types[8] = XS_TRANSACTION_END;
    a->types[9] = XS_INTRODUCE;
    a->types[10] = XS_RELEASE;
    a->types[11] = XS_GET_DOMAIN_PATH;
    a->types[12] = XS_WRITE;
    a->types[13] = XS_MKDIR;
    a->types[14] = XS_RM;
    a->types[15] = XS_SET_PERMS;
    a->types[16] = XS_WATCH_EVENT;
    a->types[17] = XS_ERROR;
    a->types[18] = XS_IS_DOMAIN_INTRODUCED;
    a->types[19] = XS_RESUME;
    a->types[20] = XS_SET_TARGET;
    a->types[21] = XS_RESET_WATCHES;
    a->types[22] = XS_DIRECTORY_PART;
    a->types[23] = XS_TYPE_COUNT;
    a->types[24] = XS_INVALID;
    a->types[25] = XS_WATCH_PATH;
    a->types[26] = XS_WATCH_TOKEN;
    a->nerrors = sizeof(xsd_errors) / sizeof(xsd_errors[0]);
    for (unsigned int i = 0; i < a->nerrors && i < XS_ABI_MAX_ERRORS; i++) {
        a->errnum[i] = xsd_errors[i].errnum;
        strncpy(a->errstr[i], xsd_errors[i].errstring, sizeof(a->errstr[i]) - 1);
    }
    a->sizes[0] = sizeof(struct xsd_sockmsg);
    a->sizes[1] = offsetof(struct xsd_sockmsg, req_id);
    a->sizes[2] = offsetof(struct xsd_sockmsg, tx_id);
    a->sizes[3] = offsetof(struct xsd_sockmsg, len);
    a->sizes[4] = sizeof(struct xenstore_domain_interface);
    a->sizes[5] = offsetof(struct xenstore_domain_interface, rsp);
    a->sizes[6] = offsetof(struct xenstore_domain_interface, req_cons);
    a->sizes[7] = offsetof(struct xenstore_domain_interface, req_prod);
    a->sizes[8] = offsetof(struct xenstore_domain_interface, rsp_cons);
    a->sizes[9] = offsetof(struct xenstore_domain_interface, rsp_prod);
    a->sizes[10] = offsetof(struct xenstore_domain_interface, server_features);
    a->sizes[11] = offsetof(struct xenstore_domain_interface, connection);
    a->sizes[12] = offsetof(struct xenstore_domain_interface, error);
    a->sizes[13] = sizeof(XENSTORE_RING_IDX);
    a->consts[0] = XENSTORE_RING_SIZE;
    a->consts[1] = MASK_XENSTORE_IDX(0x12345u);
    a->consts[2] = XENSTORE_PAYLOAD_MAX;
    a->consts[3] = XENSTORE_ABS_PATH_MAX;
    a->consts[4] = XENSTORE_REL_PATH_MAX;
    a->consts[5] = XENSTORE_SERVER_FEATURE_RECONNECTION;
    a->consts[6] = XENSTORE_SERVER_FEATURE_ERROR;
    a->consts[7] = XENSTORE_CONNECTED;
    a->consts[8] = XENSTORE_RECONNECT;
    a->consts[9] = XENSTORE_ERROR_NONE;
    a->consts[10] = XENSTORE_ERROR_COMM;
    a->consts[11] = XENSTORE_ERROR_RINGIDX;
    a->consts[12] = XENSTORE_ERROR_PROTO;
    strncpy(a->strs[0], XS_WRITE_NONE, sizeof(a->strs[0]) - 1);
    strncpy(a->strs[1], XS_WRITE_CREATE, sizeof(a->strs[1]) - 1);
    strncpy(a->strs[2], XS_WRITE_CREATE_EXCL, sizeof(a->strs[2]) - 1);
}

int main(void)
{
    struct xs_abi xen, ours;
    int bad = 0;

    xs_abi_xen(&xen);
    xs_abi_ours(&ours);
#define CMP(field, n)                                                            \
    for (unsigned int i = 0; i < (n); i++) {                                     \
        if (xen.field[i] != ours.field[i]) {                                     \
            printf("%s[%u]: Xen %ld, ours %ld\n", #field, i, (long)xen.field[i], \
                   (long)ours.field[i]);                                         \
            bad++;                                                               \
        }                                                                        \
    }
    CMP(types, 27)
    CMP(sizes, 14)
    CMP(consts, 13)
    CMP(errnum, XS_ABI_MAX_ERRORS)
    if (xen.nerrors != ours.nerrors) {
        printf("error table: Xen has %u entries, ours %u\n", xen.nerrors, ours.nerrors);
        bad++;
    }
    for (unsigned int i = 0; i < XS_ABI_MAX_ERRORS; i++) {
        if (strcmp(xen.errstr[i], ours.errstr[i]) != 0) {
            printf("error name %u: Xen %s, ours %s\n", i, xen.errstr[i], ours.errstr[i]);
            bad++;
        }
    }
    for (unsigned int i = 0; i < 3; i++) {
        if (strcmp(xen.strs[i], ours.strs[i]) != 0) {
            printf("write mode %u: Xen %s, ours %s\n", i, xen.strs[i], ours.strs[i]);
            bad++;
        }
    }
    printf("xs_wire.h: %d differences from Xen's header\n", bad);
    return bad == 0 ? 0 : 1;
}
