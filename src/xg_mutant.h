/*
 * xg_mutant.h - deliberate bugs, for measuring how well exploration finds
 * them (tests/mutants/). A build with -DXG_MUTANT=N re-introduces bug N at
 * its one site in the real code; every other build has XG_MUTANT
 * undefined, XG_MUTATED(n) is the constant 0 and the compiler drops the
 * buggy branch. The catalogue (tests/mutants/catalogue.txt) names each
 * bug's origin and the scenario and oracle that should catch it.
 */
#ifndef XG_MUTANT_H
#define XG_MUTANT_H

#ifdef XG_MUTANT
#define XG_MUTATED(n) (XG_MUTANT == (n))
#else
#define XG_MUTATED(n) 0
#endif

#endif
