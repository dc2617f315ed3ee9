/*
 * abi_compat.c - compares xensim's ABI headers (include/xensim/abi/) with
 * Xen's canonical public headers: every size, alignment, offset, field type
 * and constant listed in items.def (tables built by abi_ours.c and
 * abi_xen.c, which never see each other's headers), then the answers the
 * io/ring.h macros give on the same script (ring_scenario.inc), and the
 * xsd_errors[] table of xs_wire.h (xs_errors.inc).
 *
 * Prints each mismatch with both values, then "ABI: N items compared,
 * M mismatches"; exits 1 if M > 0. `--list` prints every item compared.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "abi_item.h"

enum { SCENARIO_MAX = 512 };

static bool type_is_signed(const char *type)
{
    /* char is signed on x86-64, the only ABI these headers describe. */
    return strcmp(type, "char") == 0 || strcmp(type, "signed char") == 0 ||
           strcmp(type, "short") == 0 || strcmp(type, "int") == 0 || strcmp(type, "long") == 0 ||
           strcmp(type, "long long") == 0;
}

static void print_item(const char *who, const struct abi_item *it)
{
    if (it->str != NULL && strcmp(it->type, "string") == 0) {
        printf("    %-6s \"%s\"\n", who, it->str);
    } else if (it->str != NULL) {
        printf("    %-6s %" PRId64 " \"%s\"\n", who, (int64_t)it->value, it->str);
    } else if (it->type[0] == '\0') {
        printf("    %-6s %" PRIu64 " (align %" PRIu64 ")\n", who, it->value, it->aux);
    } else if (type_is_signed(it->type)) {
        printf("    %-6s %" PRId64 " (%" PRIu64 " bytes, %s)\n", who, (int64_t)it->value, it->aux,
               it->type);
    } else {
        printf("    %-6s %" PRIu64 " = 0x%" PRIx64 " (%" PRIu64 " bytes, %s)\n", who, it->value,
               it->value, it->aux, it->type);
    }
}

static bool items_equal(const struct abi_item *a, const struct abi_item *b)
{
    if (a->value != b->value || a->aux != b->aux || strcmp(a->type, b->type) != 0)
        return false;
    if ((a->str == NULL) != (b->str == NULL))
        return false;
    return a->str == NULL || strcmp(a->str, b->str) == 0;
}

/* Compares two tables built from the same list; returns the mismatches and
 * adds the items compared to *compared. */
static size_t compare(const char *what, const struct abi_item *ours, size_t n_ours,
                      const struct abi_item *xen, size_t n_xen, bool list, size_t *compared)
{
    size_t mismatches = 0;
    size_t n = n_ours < n_xen ? n_ours : n_xen;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(ours[i].name, xen[i].name) != 0) {
            /* Only the ring script can get here: its loops depend on what
             * the macros answered, so one wrong answer can derail it. */
            printf("MISMATCH %s: diverged at result %zu: xensim \"%s\", Xen \"%s\"\n", what, i,
                   ours[i].name, xen[i].name);
            return mismatches + 1;
        }
        (*compared)++;
        bool same = items_equal(&ours[i], &xen[i]);
        if (!same) {
            mismatches++;
            printf("MISMATCH %s\n", ours[i].name);
        } else if (list) {
            printf("ok %s\n", ours[i].name);
        }
        if (!same || list) {
            print_item("xensim", &ours[i]);
            print_item("Xen", &xen[i]);
        }
    }
    if (n_ours != n_xen) {
        printf("MISMATCH %s: xensim gives %zu results, Xen %zu\n", what, n_ours, n_xen);
        mismatches++;
    }
    return mismatches;
}

int main(int argc, char **argv)
{
    static struct abi_item dyn_ours[SCENARIO_MAX], dyn_xen[SCENARIO_MAX];
    bool list = argc > 1 && strcmp(argv[1], "--list") == 0;
    size_t compared = 0, mismatches = 0;

    mismatches += compare("layout and constants", abi_table_ours.items, abi_table_ours.count,
                          abi_table_xen.items, abi_table_xen.count, list, &compared);
    size_t layout = compared;

    size_t n_ours = abi_ring_scenario_ours(dyn_ours, SCENARIO_MAX);
    size_t n_xen = abi_ring_scenario_xen(dyn_xen, SCENARIO_MAX);
    if (n_ours > SCENARIO_MAX || n_xen > SCENARIO_MAX) {
        printf("abi_compat: ring script gave more than %d results; raise SCENARIO_MAX\n",
               SCENARIO_MAX);
        return 2;
    }
    mismatches += compare("ring macros", dyn_ours, n_ours, dyn_xen, n_xen, list, &compared);

#ifdef XENSIM_ABI_HAVE_XS_WIRE
    n_ours = abi_xs_errors_ours(dyn_ours, SCENARIO_MAX);
    n_xen = abi_xs_errors_xen(dyn_xen, SCENARIO_MAX);
    if (n_ours > SCENARIO_MAX || n_xen > SCENARIO_MAX) {
        printf("abi_compat: xsd_errors[] has more than %d entries\n", SCENARIO_MAX);
        return 2;
    }
    mismatches += compare("xsd_errors", dyn_ours, n_ours, dyn_xen, n_xen, list, &compared);
#endif

    printf("ABI: %zu layout/constant items, %zu ring-macro and table results; canonical "
           "headers at interface 0x%08x (latest they know: 0x%08x)\n",
           layout, compared - layout, abi_xen_interface_version, abi_xen_interface_latest);
#ifndef XENSIM_ABI_HAVE_XS_WIRE
    /* items_xs_wire.def and xs_errors.inc join in as soon as the header
     * exists (CMake's glob notices it at the next build). */
    printf("ABI: xs_wire.h not covered: include/xensim/abi/xs_wire.h does not exist\n");
#endif
    printf("ABI: %zu items compared, %zu mismatches\n", compared, mismatches);
    return mismatches == 0 ? 0 : 1;
}
