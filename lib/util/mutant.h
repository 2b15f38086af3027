/*
 * Mutants: named, compile-time switches that remove or weaken one
 * synchronization step (a fence, a grace period, a kick, a re-check), so
 * that the tests can be shown to catch its absence.
 *
 *   if (!MUTANT(srcu_skip_straggler_wait))
 *           srcu_wait_index(sp, cur ^ 1, ...);
 *
 * A normal build has MUTANT(x) == 0 everywhere and the compiler removes the
 * dead branch.  `ninja mutants` (tests/mutants.sh) builds the suite once per
 * line of tests/mutants.list with -DDLBENCH_MUTANT=<name>, which makes
 * MUTANT(<name>) true in that build only (a string comparison of constants,
 * folded at compile time), and runs the line's test, which must fail.  A
 * name misspelt here or there changes nothing in the build, so the test
 * passes and the mutant is reported as survived: the list cannot drift from
 * the code unnoticed.
 */
#ifndef DLBENCH_UTIL_MUTANT_H
#define DLBENCH_UTIL_MUTANT_H

#ifdef DLBENCH_MUTANT
#define MUTANT_STRING_(x) #x
#define MUTANT_STRING(x) MUTANT_STRING_(x)
#define MUTANT(name) (__builtin_strcmp(#name, MUTANT_STRING(DLBENCH_MUTANT)) == 0)
#else
#define MUTANT(name) 0
#endif

#endif
