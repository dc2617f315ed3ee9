/*
 * valgrind.h - RUNNING_ON_VALGRIND for tests, 0 where Valgrind's header is
 * missing. Tests whose faults are deliberate (a guard page hit, a wild
 * pointer) skip themselves under Valgrind: Memcheck would report those
 * faults as errors and a clean run would mean nothing.
 */
#ifndef XSIM_TEST_VALGRIND_H
#define XSIM_TEST_VALGRIND_H

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#endif
