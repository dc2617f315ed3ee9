/*
 * abi_item.h - one entry of an ABI table, and the X-macros that turn the
 * shared list in items.def into a table. abi_ours.c and abi_xen.c expand the
 * same list against different headers; abi_compat.c compares the tables.
 *
 * Only <stddef.h> and <stdint.h> here: the two table translation units must
 * see nothing but their own ABI headers.
 */
#ifndef XENSIM_TESTS_ABI_ITEM_H
#define XENSIM_TESTS_ABI_ITEM_H

#include <stddef.h>
#include <stdint.h>

struct abi_item {
    const char *name; /* the expression, as written in items.def */
    uint64_t value;   /* size, offset or value (signed values sign-extended) */
    uint64_t aux;     /* alignment (sizes) or size of the field or constant */
    const char *type; /* C type of a field or constant, "" for sizes */
    const char *str;  /* string constants, and the name of an xsd_errors entry */
};

struct abi_table {
    const struct abi_item *items;
    size_t count;
};

/* Built by abi_ours.c and abi_xen.c. */
extern const struct abi_table abi_table_ours;
extern const struct abi_table abi_table_xen;
/* __XEN_INTERFACE_VERSION__ and __XEN_LATEST_INTERFACE_VERSION__ of the
 * canonical headers, as abi_xen.c saw them. */
extern const unsigned int abi_xen_interface_version;
extern const unsigned int abi_xen_interface_latest;
/* Run ring_scenario.inc on each side's macros: fills out[0..max) and
 * returns the number of results. */
size_t abi_ring_scenario_ours(struct abi_item *out, size_t max);
size_t abi_ring_scenario_xen(struct abi_item *out, size_t max);
/* List xs_wire.h's xsd_errors[] (only with XENSIM_ABI_HAVE_XS_WIRE). */
size_t abi_xs_errors_ours(struct abi_item *out, size_t max);
size_t abi_xs_errors_xen(struct abi_item *out, size_t max);

/* The C type of an expression, by name. Arrays, pointers, structs and
 * unions are "other": their layout is checked by size and offset. */
#define ABI_TYPE_NAME(x)                       \
    _Generic((x), _Bool                        \
             : "_Bool", char                   \
             : "char", signed char             \
             : "signed char", unsigned char    \
             : "unsigned char", short          \
             : "short", unsigned short         \
             : "unsigned short", int           \
             : "int", unsigned int             \
             : "unsigned int", long            \
             : "long", unsigned long           \
             : "unsigned long", long long      \
             : "long long", unsigned long long \
             : "unsigned long long", default   \
             : "other")

#define ABI_FIELD(T, f) (((T *)0)->f)

/* sizeof and alignment of a type. */
#define ABI_ITEM_SIZE(T) {"sizeof(" #T ")", sizeof(T), _Alignof(T), "", NULL},
/* Offset of a member (nested members with a.b), with its size and type. */
#define ABI_ITEM_OFFSET(T, f)                                             \
    {"offsetof(" #T ", " #f ")", offsetof(T, f), sizeof(ABI_FIELD(T, f)), \
     ABI_TYPE_NAME(ABI_FIELD(T, f)), NULL},
/* Value, size and type of an integer constant expression. */
#define ABI_ITEM_CONST(N) {#N, (uint64_t)(N), sizeof(N), ABI_TYPE_NAME(N), NULL},
/* An integer typedef: all-ones value (width and signedness) and type. */
#define ABI_ITEM_SCALAR(T) {"(" #T ")-1", (uint64_t)(T)-1, sizeof(T), ABI_TYPE_NAME((T)0), NULL},
/* A pair: a xensim name (only in our headers) checked against an
 * expression written with Xen's names. Both sides are named after `ours`. */
#define ABI_ITEM_PAIR_OURS(ours, xen) \
    {#ours, (uint64_t)(ours), sizeof(ours), ABI_TYPE_NAME(ours), NULL},
#define ABI_ITEM_PAIR_XEN(ours, xen) \
    {#ours, (uint64_t)(xen), sizeof(xen), ABI_TYPE_NAME(xen), NULL},
/* A string constant. */
#define ABI_ITEM_STR(N) {#N, sizeof(N), 1, "string", N},

#endif /* XENSIM_TESTS_ABI_ITEM_H */
