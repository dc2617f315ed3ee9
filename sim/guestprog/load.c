/*
 * load.c - finding, checking and matching guest programs (guestprog.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xensim/guestprog.h"
#include "xensim/scenario.h"

static const char *const cap_names[] = {"events",  "timer",       "ipi",     "block-io",
                                        "suspend", "lost-update", "xenstore"};

const char *xsim_guest_caps_format(uint32_t caps, char *buf, size_t size)
{
    size_t len = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (unsigned int i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++) {
        if (!(caps & (1u << i)))
            continue;
        int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", cap_names[i]);
        if (n < 0 || (size_t)n >= size - len)
            break;
        len += (size_t)n;
    }
    if (caps & ~XSIM_GUEST__ALL_CAPS)
        snprintf(buf + len, size - len, "%sunknown bits 0x%x", len ? ", " : "",
                 (unsigned int)(caps & ~XSIM_GUEST__ALL_CAPS));
    return buf;
}

uint32_t xsim_scenario_guest_needs(const struct xsim_scenario *s)
{
    uint32_t need = 0;

    for (size_t i = 0; i < s->nworkloads; i++) {
        switch (s->workloads[i].type) {
        case XSIM_WL_EVENTS:
            need |= XSIM_GUEST_EVENTS;
            break;
        case XSIM_WL_LOST_UPDATE:
            need |= XSIM_GUEST_LOST_UPDATE;
            break;
        case XSIM_WL_BLOCK_IO:
            need |= XSIM_GUEST_BLOCK_IO;
            break;
        case XSIM_WL_TIMER:
            need |= XSIM_GUEST_TIMER;
            break;
        case XSIM_WL_IPI:
            need |= XSIM_GUEST_IPI;
            break;
        case XSIM_WL_XENSTORE:
            need |= XSIM_GUEST_XENSTORE;
            break;
        default:
            break;
        }
    }
    if (s->ndisks > 0)
        need |= XSIM_GUEST_BLOCK_IO;
    if (s->nmigrations > 0)
        need |= XSIM_GUEST_SUSPEND;
    return need;
}

int xsim_guest_program_check(const struct xsim_guest_program *prog, char *why, size_t why_size)
{
    uint32_t caps;

    if (prog == NULL) {
        snprintf(why, why_size, "no program");
        return -EINVAL;
    }
    if (prog->abi_version != XSIM_GUEST_ABI_VERSION) {
        snprintf(why, why_size,
                 "built for guest-program ABI version %u; this xensim has version %u "
                 "(rebuild it against this xensim's headers)",
                 (unsigned int)prog->abi_version, (unsigned int)XSIM_GUEST_ABI_VERSION);
        return -EINVAL;
    }
    if (prog->struct_size != sizeof(struct xsim_guest_program)) {
        snprintf(why, why_size, "its struct xsim_guest_program is %u bytes, expected %zu",
                 (unsigned int)prog->struct_size, sizeof(struct xsim_guest_program));
        return -EINVAL;
    }
    if (prog->name == NULL || prog->name[0] == '\0') {
        snprintf(why, why_size, "it has no name");
        return -EINVAL;
    }
    caps = prog->implements;
    if (caps & ~XSIM_GUEST__ALL_CAPS) {
        snprintf(why, why_size, "'%s' claims unknown workload kinds (bits 0x%x)", prog->name,
                 (unsigned int)(caps & ~XSIM_GUEST__ALL_CAPS));
        return -EINVAL;
    }
#define NEED(cond, what)                                                             \
    do {                                                                             \
        if (!(cond)) {                                                               \
            snprintf(why, why_size, "'%s' has no %s", prog->name, what);             \
            return -EINVAL;                                                          \
        }                                                                            \
    } while (0)
    NEED(prog->init != NULL, "init");
    NEED(prog->start != NULL, "start");
    NEED(prog->interrupt != NULL, "interrupt");
    if (caps & (XSIM_GUEST_TIMER | XSIM_GUEST_IPI | XSIM_GUEST_BLOCK_IO | XSIM_GUEST_XENSTORE))
        NEED(prog->clock_ns != NULL, "clock_ns (timer, ipi, block-io and xenstore need it)");
    if (caps & XSIM_GUEST_IPI)
        NEED(prog->send_ipi != NULL, "send_ipi (it implements ipi)");
    if (caps & XSIM_GUEST_BLOCK_IO)
        NEED(prog->blk_submit != NULL, "blk_submit (it implements block-io)");
    if (caps & XSIM_GUEST_XENSTORE)
        NEED(prog->xs_request != NULL, "xs_request (it implements xenstore)");
#undef NEED
    return 0;
}

int xsim_guest_program_accepts(const struct xsim_guest_program *prog,
                               const struct xsim_scenario *s, char *why, size_t why_size)
{
    char have[128], lack[128];
    uint32_t missing;

    if (xsim_guest_program_check(prog, why, why_size) != 0)
        return -EINVAL;
    missing = xsim_scenario_guest_needs(s) & ~prog->implements;
    if (missing != 0) {
        snprintf(why, why_size,
                 "scenario '%s' needs %s, which guest '%s' does not implement (it implements %s)",
                 s->name, xsim_guest_caps_format(missing, lack, sizeof(lack)), prog->name,
                 prog->implements ? xsim_guest_caps_format(prog->implements, have, sizeof(have))
                                  : "nothing");
        return -ENOTSUP;
    }
    return 0;
}

int xsim_guest_program_open(const char *path, const struct xsim_guest_program **prog,
                            void **handle, char *why, size_t why_size)
{
    void *h;
    const struct xsim_guest_program *p;
    char pathbuf[4096];
    const char *open_path = path;

    *prog = NULL;
    *handle = NULL;
    /* dlopen searches the library path for a bare name: a file name the
     * user typed means that file. */
    if (strchr(path, '/') == NULL) {
        snprintf(pathbuf, sizeof(pathbuf), "./%s", path);
        open_path = pathbuf;
    }
    dlerror();
    h = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        const char *e = dlerror();
        snprintf(why, why_size, "cannot load guest %s: %s", path, e != NULL ? e : "dlopen failed");
        return -ENOENT;
    }
    dlerror();
    p = dlsym(h, XSIM_GUEST_ENTRY_SYMBOL);
    if (p == NULL) {
        snprintf(why, why_size,
                 "guest %s exports no '%s' (define a const struct xsim_guest_program of that "
                 "name, see xensim/guestprog.h)",
                 path, XSIM_GUEST_ENTRY_SYMBOL);
        dlclose(h);
        return -ESRCH;
    }
    if (xsim_guest_program_check(p, why, why_size) != 0) {
        char reason[512];
        snprintf(reason, sizeof(reason), "%s", why);
        snprintf(why, why_size, "guest %s: %s", path, reason);
        dlclose(h);
        return -EINVAL;
    }
    *prog = p;
    *handle = h;
    return 0;
}

void xsim_guest_program_close(void *handle)
{
    if (handle != NULL)
        dlclose(handle);
}
