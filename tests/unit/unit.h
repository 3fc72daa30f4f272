/*
 * unit.h - the tiny assertion helper shared by the C unit tests.
 *
 *   #include "unit.h"
 *   static void test_x(void) { CHECK(1 + 1 == 2); CHECK_EQ(f(), 3); }
 *   int main(void) { UNIT_RUN(test_x); return unit_summary(); }
 *
 * A failed check prints "file:line: ..." on stderr and counts; the test goes
 * on (REQUIRE returns from the current function instead). unit_summary()
 * prints "name: N checks, M failed" and returns the exit status: 0 when all
 * passed, 1 otherwise. Only the first UNIT_MAX_REPORTS failures are printed
 * (loops over thousands of cases stay readable); all are counted.
 * Header-only: each test program is one translation unit.
 */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#ifndef UNIT_MAX_REPORTS
#define UNIT_MAX_REPORTS 50
#endif

static unsigned long unit_checks __attribute__((unused));
static unsigned long unit_failures __attribute__((unused));
/* Optional context printed with every failure (e.g. "split at 17"). */
static char unit_context[256] __attribute__((unused));

/* unit_fail_prefix: count a failure; returns 1 if it should be printed
 * (and has printed the "file:line: " prefix and context), else 0. */
static inline int unit_fail_prefix(const char *file, int line)
{
    unit_failures++;
    if (unit_failures > UNIT_MAX_REPORTS)
        return 0;
    fprintf(stderr, "%s:%d: ", file, line);
    if (unit_context[0])
        fprintf(stderr, "[%s] ", unit_context);
    return 1;
}

/* unit_set_context: printf-style context for the failures that follow;
 * unit_set_context("") clears it. */
#define unit_set_context(...) snprintf(unit_context, sizeof(unit_context), __VA_ARGS__)

#define CHECK(cond)                                                            \
    do {                                                                       \
        unit_checks++;                                                         \
        if (!(cond) && unit_fail_prefix(__FILE__, __LINE__))                   \
            fprintf(stderr, "CHECK failed: %s\n", #cond);                      \
    } while (0)

/* CHECK_MSG(cond, fmt, ...): CHECK with an explanation. */
#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        unit_checks++;                                                         \
        if (!(cond) && unit_fail_prefix(__FILE__, __LINE__)) {                 \
            fprintf(stderr, "CHECK failed: %s: ", #cond);                      \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

/* CHECK_EQ(a, b): integers (any integer type), both values printed. */
#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);          \
        unit_checks++;                                                         \
        if (unit_a_ != unit_b_ && unit_fail_prefix(__FILE__, __LINE__))        \
            fprintf(stderr, "CHECK_EQ failed: %s == %s (%lld != %lld)\n", #a,  \
                    #b, unit_a_, unit_b_);                                     \
    } while (0)

/* CHECK_STREQ(a, b): NUL-terminated strings (NULL allowed). */
#define CHECK_STREQ(a, b)                                                      \
    do {                                                                       \
        const char *unit_sa_ = (a), *unit_sb_ = (b);                           \
        unit_checks++;                                                         \
        if (!(unit_sa_ == unit_sb_ ||                                          \
              (unit_sa_ && unit_sb_ && strcmp(unit_sa_, unit_sb_) == 0)) &&    \
            unit_fail_prefix(__FILE__, __LINE__))                              \
            fprintf(stderr, "CHECK_STREQ failed: %s == %s (\"%s\" != \"%s\")\n", \
                    #a, #b, unit_sa_ ? unit_sa_ : "(null)",                    \
                    unit_sb_ ? unit_sb_ : "(null)");                           \
    } while (0)

/* CHECK_MEMEQ(a, alen, b, blen): byte strings of given lengths. */
#define CHECK_MEMEQ(a, alen, b, blen)                                          \
    do {                                                                       \
        size_t unit_la_ = (size_t)(alen), unit_lb_ = (size_t)(blen);           \
        unit_checks++;                                                         \
        if ((unit_la_ != unit_lb_ || memcmp((a), (b), unit_la_) != 0) &&       \
            unit_fail_prefix(__FILE__, __LINE__))                              \
            fprintf(stderr, "CHECK_MEMEQ failed: %s == %s (\"%.*s\" != \"%.*s\")\n", \
                    #a, #b, (int)unit_la_, (const char *)(a), (int)unit_lb_,   \
                    (const char *)(b));                                        \
    } while (0)

/* REQUIRE(cond): CHECK, and return from the current (void) function on failure. */
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        unit_checks++;                                                         \
        if (!(cond)) {                                                         \
            if (unit_fail_prefix(__FILE__, __LINE__))                          \
                fprintf(stderr, "REQUIRE failed: %s\n", #cond);                \
            return;                                                            \
        }                                                                      \
    } while (0)

/* UNIT_RUN(fn): run one test function, clearing the context around it. */
#define UNIT_RUN(fn)                                                           \
    do {                                                                       \
        unit_context[0] = '\0';                                                \
        fn();                                                                  \
        unit_context[0] = '\0';                                                \
    } while (0)

/* unit_summary: print the totals on stdout; returns the exit status. */
static inline int unit_summary_named(const char *name)
{
    if (unit_failures > UNIT_MAX_REPORTS)
        fprintf(stderr, "(%lu more failures not shown)\n", unit_failures - UNIT_MAX_REPORTS);
    printf("%s: %lu checks, %lu failed\n", name, unit_checks, unit_failures);
    fflush(stdout);
    return unit_failures ? 1 : 0;
}
#define unit_summary() unit_summary_named(__FILE__)

#endif
