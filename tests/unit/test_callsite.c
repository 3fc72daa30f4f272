/*
 * test_callsite.c - connection origins (shim/callsite.c): a return address
 * is named after its module and function, and two call sites whose return
 * addresses share a slot of the name cache, looked up from two threads at
 * once, always get their own names (the cache once let a reader copy names
 * that a writer for the other call site was overwriting; TSan saw it in
 * scripts/sanitize.sh tsan).
 *
 * The call sites are return addresses inside libm functions: a library
 * that is not libc, so it is named, and whose functions dladdr names
 * without the test being linked with -rdynamic.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "shim/callsite.h"
#include "unit.h"

#define CACHE 256 /* shim/callsite.c */

struct site {
    void *ret;
    const char *function;
};

static struct site pair[2];
static const char *module_of;

static unsigned slot(const void *ret)
{
    return (unsigned)(((uintptr_t)ret >> 2) % CACHE);
}

/* named: ret-1 lies in a function that dladdr names `fn` */
static int named(void *ret, const char *fn)
{
    Dl_info di;
    return dladdr((char *)ret - 1, &di) && di.dli_sname && strcmp(di.dli_sname, fn) == 0;
}

/* find_pair: two return addresses in two different libm functions that
 * land in the same cache slot. */
static int find_pair(void)
{
    static const char *fns[] = {"sin",   "cos",   "tan",  "exp",   "log",  "sqrt",  "floor", "ceil",
                                "atan",  "asin",  "acos", "sinh",  "cosh", "tanh",  "pow",   "fmod",
                                "log10", "expm1", "cbrt", "hypot", "erf",  "lgamma"};
    void *h = dlopen("libm.so.6", RTLD_NOW);
    if (!h)
        return 0;
    void *cand[sizeof(fns) / sizeof(fns[0])][16];
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        char *f = dlsym(h, fns[i]);
        for (int k = 0; k < 16; k++)
            cand[i][k] = f && named(f + 4 + 4 * k, fns[i]) ? f + 4 + 4 * k : NULL;
    }
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        for (size_t j = i + 1; j < sizeof(fns) / sizeof(fns[0]); j++)
            for (int a = 0; a < 16; a++)
                for (int b = 0; b < 16; b++)
                    if (cand[i][a] && cand[j][b] && slot(cand[i][a]) == slot(cand[j][b])) {
                        pair[0] = (struct site){cand[i][a], fns[i]};
                        pair[1] = (struct site){cand[j][b], fns[j]};
                        return 1;
                    }
    return 0;
}

static void test_names(void)
{
    char m[64], f[64];
    Dl_info di;
    REQUIRE(dladdr((char *)pair[0].ret - 1, &di));
    module_of = strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname;
    for (int round = 0; round < 3; round++) /* a miss, then hits, then evictions */
        for (int i = 0; i < 2; i++) {
            shim_callsite(pair[i].ret, m, sizeof(m), f, sizeof(f));
            CHECK_STREQ(m, module_of);
            CHECK_STREQ(f, pair[i].function);
        }
    shim_callsite(NULL, m, sizeof(m), f, sizeof(f)); /* no return address: still filled */
    CHECK(m[0] != '\0' && f[0] != '\0');
}

static unsigned long mixed[2];

static void *hammer(void *arg)
{
    int me = (int)(intptr_t)arg;
    char m[64], f[64];
    for (int i = 0; i < 200000; i++) {
        shim_callsite(pair[me].ret, m, sizeof(m), f, sizeof(f));
        if (strcmp(f, pair[me].function) != 0 || strcmp(m, module_of) != 0)
            mixed[me]++;
    }
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&t[i], NULL, hammer, (void *)(intptr_t)i) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(mixed[0], 0);
    CHECK_EQ(mixed[1], 0);
}

int main(void)
{
    if (!find_pair()) {
        printf("tests/unit/test_callsite.c: no libm call sites sharing a cache slot here: skipped\n");
        return 0;
    }
    UNIT_RUN(test_names);
    UNIT_RUN(test_threads);
    return unit_summary();
}
