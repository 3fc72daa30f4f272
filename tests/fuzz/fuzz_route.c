/*
 * fuzz_route.c - libFuzzer harness for http_route normalisation.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_route.c shim/route.c -o build/fuzz_route
 *   build/fuzz_route -max_total_time=60 /tmp/route-corpus tests/fuzz/corpus/route
 *
 * Input: byte 0 is the output buffer size for the small run (0..255);
 * byte 1 bit 0 says whether patterns are given. With patterns, the bytes up
 * to the first '\n' are the pattern spec, the rest the path; otherwise all
 * of the rest is the path. Checks, abort() on failure: the spec parse keeps
 * its limits; the output fits and is NUL-terminated; a run with a small
 * buffer agrees with a run with a big one (same text, or a prefix marked
 * "..."); a result that was not cut is a fixed point. Buffers are exact-size
 * heap blocks so ASan sees any access past them.
 */
#include "shim/route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fail: report a broken invariant and abort. */
static void fail(const char *what)
{
    fprintf(stderr, "fuzz_route: %s\n", what);
    abort();
}

/* route_into: normalise into a fresh exact-size heap buffer of outsz bytes
 * (returned, caller frees); checks length and termination. */
static char *route_into(const struct shim_routes *r, const uint8_t *p, size_t len, size_t outsz, size_t *n)
{
    char *out = malloc(outsz ? outsz : 1);
    if (!out)
        abort();
    memset(out, 'Z', outsz ? outsz : 1);
    *n = shim_route(r, p, len, out, outsz);
    if (outsz == 0) {
        if (*n != 0 || out[0] != 'Z')
            fail("wrote into a zero-size buffer");
        return out;
    }
    if (*n >= outsz)
        fail("length not below the buffer size");
    if (out[*n] != '\0' || strlen(out) != *n)
        fail("not NUL-terminated at the returned length");
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput: see the header comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct shim_routes routes;
    const struct shim_routes *r = NULL;
    size_t outsz, len, nbig, nsmall, nagain, i;
    const uint8_t *path;
    uint8_t *pcopy;
    char *big, *small, *again;
    int bad = -2, kept;

    if (size < 2)
        return 0;
    outsz = data[0];
    path = data + 2;
    len = size - 2;
    if (data[1] & 1) {
        const uint8_t *nl = memchr(path, '\n', len);
        size_t sl = nl ? (size_t)(nl - path) : len;
        char *spec = malloc(sl + 1);
        if (!spec)
            abort();
        memcpy(spec, path, sl);
        spec[sl] = '\0';
        kept = shim_routes_parse(&routes, spec, &bad);
        free(spec);
        if (kept < 0 || kept > SHIM_ROUTES_MAX || kept != routes.n || routes.used > SHIM_ROUTES_STORAGE)
            fail("pattern limits");
        if (bad < -1)
            fail("bad index not set");
        for (i = 0; i < routes.n; i++)
            if ((size_t)routes.off[i] + routes.len[i] > routes.used || routes.len[i] == 0 ||
                routes.store[routes.off[i]] != '/')
                fail("pattern storage");
        r = &routes;
        if (nl) {
            len -= sl + 1;
            path = nl + 1;
        } else {
            len = 0;
        }
    }
    pcopy = malloc(len ? len : 1);
    if (!pcopy)
        abort();
    memcpy(pcopy, path, len);

    big = route_into(r, pcopy, len, 4096, &nbig);
    small = route_into(r, pcopy, len, outsz, &nsmall);
    if (outsz > 0) {
        if (nbig < outsz) {
            if (nsmall != nbig || strcmp(big, small) != 0)
                fail("small and big buffers disagree");
        } else if (outsz >= 4) {
            /* cut: "..." at the end, at most 3 bytes given back to keep a
             * UTF-8 sequence whole, the rest a prefix of the whole result */
            if (nsmall < 3 || memcmp(small + nsmall - 3, "...", 3) != 0)
                fail("result too long but not marked as cut");
            if (nsmall + 4 < outsz)
                fail("cut shorter than needed");
            if (memcmp(big, small, nsmall - 3) != 0)
                fail("cut result is not a prefix of the whole");
        } else if (nsmall != outsz - 1 || memcmp(big, small, nsmall) != 0) {
            fail("plain cut is not a prefix");
        }
    }
    /* fixed point (the big result is never cut for inputs this size) */
    if (nbig < 4095) {
        again = route_into(r, (const uint8_t *)big, nbig, 4096, &nagain);
        if (nagain != nbig || strcmp(again, big) != 0) {
            fprintf(stderr, "fuzz_route: \"%s\" -> \"%s\"\n", big, again);
            fail("not a fixed point");
        }
        free(again);
    }
    free(big);
    free(small);
    free(pcopy);
    return 0;
}
