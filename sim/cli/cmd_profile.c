/*
 * cmd_profile.c - `xensim profile list` and `xensim profile show NAME|PATH`:
 * the shipped cost profiles, and every figure of one with its source.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "xensim/cost.h"
#include "xensim/world.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: xensim profile list\n"
                 "       xensim profile show NAME|PATH\n\n"
                 "List the shipped cost profiles, or show one profile's assists and every\n"
                 "cost with its ns and its source. NAME is a shipped profile (see 'list');\n"
                 "a value with '/' or ending in .json is a file. Profiles are looked up in\n"
                 "$XENSIM_PROFILE_DIR, else in the source tree's sim/profiles.\n\n"
                 "Options:\n"
                 "  --help   show this help\n");
}

static int list(void)
{
    char names[64][64];
    int n = xsim_cost_profile_names(names, 64);

    if (n < 0) {
        fprintf(stderr, "xensim profile: cannot read %s: %s\n", xsim_cost_profile_dir(),
                strerror(-n));
        return 2;
    }
    for (int i = 0; i < n && i < 64; i++) {
        struct xsim_cost_profile *p = malloc(sizeof(*p));
        struct xsim_error err;
        char msg[1024];

        if (p == NULL)
            return 2;
        if (xsim_cost_profile_resolve(p, names[i], NULL, &err) != 0)
            printf("%-18s (does not load: %s)\n", names[i],
                   xsim_error_format(&err, msg, sizeof(msg)));
        else
            printf("%-18s %s\n", names[i], p->description);
        free(p);
    }
    return 0;
}

static void show_cost(const char *name, uint64_t ns, const char *source)
{
    printf("  %-17s %7" PRIu64 " ns  %s\n", name, ns,
           source != NULL && source[0] != '\0' ? source : "(no source given)");
}

static int show(const char *what)
{
    struct xsim_cost_profile *p = malloc(sizeof(*p));
    struct xsim_error err;
    char msg[1024];

    if (p == NULL)
        return 2;
    if (xsim_cost_profile_resolve(p, what, NULL, &err) != 0) {
        fprintf(stderr, "xensim profile: %s\n", xsim_error_format(&err, msg, sizeof(msg)));
        free(p);
        return 2;
    }
    printf("name:              %s\n", p->name);
    printf("description:       %s\n", p->description);
    printf("source:            %s\n", p->source);
    printf("apicv:             %s\n", p->apicv ? "true" : "false");
    printf("posted_interrupts: %s\n", p->posted_interrupts ? "true" : "false");
    printf("costs:\n");
    for (unsigned int r = 0; r < XSIM_COST__COUNT; r++)
        show_cost(xsim_cost_reason_name((enum xsim_cost_reason)r), p->ns[r], p->ns_source[r]);
    for (unsigned int i = 0; i < p->nnamed; i++)
        show_cost(p->named[i].name, p->named[i].ns, p->named[i].source);
    free(p);
    return 0;
}

int xsim_cmd_profile(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "list") == 0)
        return list();
    if (argc == 3 && strcmp(argv[1], "show") == 0)
        return show(argv[2]);
    usage(stderr);
    return 2;
}
