/*
 * baton.h - the handoff primitive of the deterministic world: one waiting
 * thread per baton, woken directly by the thread that passes it. A futex on
 * Linux; a mutex+condvar pair elsewhere (the BSDs).
 */
#ifndef XSIM_BATON_H
#define XSIM_BATON_H

#include <stdint.h>

#ifdef __linux__
struct xsim_baton {
    uint32_t word; /* 1 = the owner may run */
};
#else
#include <pthread.h>
struct xsim_baton {
    uint32_t word;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};
#endif

void xsim_baton_init(struct xsim_baton *b);
void xsim_baton_destroy(struct xsim_baton *b);
/* Let the owner of `b` run. */
void xsim_baton_pass(struct xsim_baton *b);
/* Block until someone passes `b`, then take it. */
void xsim_baton_wait(struct xsim_baton *b);

/* Pin the calling thread to host CPU `cpu` (best effort; -ENOSYS where the
 * host has no affinity call). */
int xsim_pin_self(int cpu);
/* The host CPU the caller runs on, or -1. */
int xsim_host_cpu(void);

#endif
