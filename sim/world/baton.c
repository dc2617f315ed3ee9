/*
 * baton.c - futex (Linux) or condvar (portable) handoff; see baton.h.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "world/baton.h"

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static long futex(uint32_t *addr, int op, uint32_t val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

void xsim_baton_init(struct xsim_baton *b)
{
    b->word = 0;
}

void xsim_baton_destroy(struct xsim_baton *b)
{
    (void)b;
}

void xsim_baton_pass(struct xsim_baton *b)
{
    /* Release: everything the passer wrote is visible to the new owner. */
    __atomic_store_n(&b->word, 1, __ATOMIC_RELEASE);
    futex(&b->word, FUTEX_WAKE_PRIVATE, 1);
}

void xsim_baton_wait(struct xsim_baton *b)
{
    while (__atomic_exchange_n(&b->word, 0, __ATOMIC_ACQUIRE) == 0)
        futex(&b->word, FUTEX_WAIT_PRIVATE, 0);
}

#else

void xsim_baton_init(struct xsim_baton *b)
{
    b->word = 0;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
}

void xsim_baton_destroy(struct xsim_baton *b)
{
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}

void xsim_baton_pass(struct xsim_baton *b)
{
    pthread_mutex_lock(&b->mu);
    b->word = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void xsim_baton_wait(struct xsim_baton *b)
{
    pthread_mutex_lock(&b->mu);
    while (b->word == 0)
        pthread_cond_wait(&b->cv, &b->mu);
    b->word = 0;
    pthread_mutex_unlock(&b->mu);
}
#endif

int xsim_pin_self(int cpu)
{
#ifdef __linux__
    cpu_set_t set;

    if (cpu < 0)
        return -EINVAL;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#else
    (void)cpu;
    return -ENOSYS;
#endif
}

int xsim_host_cpu(void)
{
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}
