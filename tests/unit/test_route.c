/*
 * test_route.c - unit tests of http_route normalisation (shim/route.c).
 *
 * Inputs are copied to end right at a PROT_NONE page, so reading past the
 * given length crashes; every result is also checked to be a fixed point
 * (normalising it again gives it back) unless it was cut.
 */
#include "shim/route.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

#define AREA (16 * 1024)
#include "guard.h"

static struct shim_routes none_routes; /* zero: no patterns */

/* route: normalise in[0..len) with routes r into a SHIM_ROUTE_CAP buffer;
 * checks the length, NUL and fixed point; returns the static result. */
static const char *route_n(const struct shim_routes *r, const void *in, size_t len)
{
    static char out[SHIM_ROUTE_CAP], again[SHIM_ROUTE_CAP];
    size_t n, n2;
    memset(out, 'X', sizeof(out));
    n = shim_route(r, at_guard(in, len), len, out, sizeof(out));
    CHECK(n < sizeof(out));
    CHECK_EQ(strlen(out), n);
    if (n < sizeof(out) - 1 || n < 3 || memcmp(out + n - 3, "...", 3) != 0) {
        n2 = shim_route(r, at_guard(out, n), n, again, sizeof(again));
        CHECK_MSG(n2 == n && strcmp(out, again) == 0, "not a fixed point: \"%s\" -> \"%s\"", out, again);
    }
    return out;
}

/* route: route_n over a NUL-terminated input. */
static const char *route(const struct shim_routes *r, const char *in)
{
    return route_n(r, in, strlen(in));
}

/* Identifier-like segments become {id}; words stay. */
static void test_ids(void)
{
    char in[64], want[64];
    int i;
    for (i = 1; i <= 500; i++) {
        snprintf(in, sizeof(in), "/users/%d", i);
        CHECK_STREQ(route(NULL, in), "/users/{id}");
        snprintf(in, sizeof(in), "/users/%d/orders/%d", i, i * 7919);
        CHECK_STREQ(route(NULL, in), "/users/{id}/orders/{id}");
    }
    CHECK_STREQ(route(NULL, "/users/0"), "/users/{id}");
    CHECK_STREQ(route(NULL, "/users/5/"), "/users/{id}/");
    CHECK_STREQ(route(NULL, "/123"), "/{id}");
    /* uuids, any case */
    CHECK_STREQ(route(NULL, "/orders/123e4567-e89b-12d3-a456-426614174000"), "/orders/{id}");
    CHECK_STREQ(route(NULL, "/orders/123E4567-E89B-12D3-A456-426614174000/items"), "/orders/{id}/items");
    CHECK_STREQ(route(NULL, "/orders/DEADBEEF-CAFE-BABE-F00D-DEADBEEFCAFE"), "/orders/{id}");
    /* hex ids: 8+ hex digits with a decimal digit */
    CHECK_STREQ(route(NULL, "/commit/a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"), "/commit/{id}");
    CHECK_STREQ(route(NULL, "/blob/deadbeef00"), "/blob/{id}");
    CHECK_STREQ(route(NULL, "/blob/0a1b2c3d"), "/blob/{id}");
    CHECK_STREQ(route(NULL, "/blob/deadbeef"), "/blob/deadbeef");   /* no digit: a word */
    CHECK_STREQ(route(NULL, "/blob/abc123"), "/blob/abc123");       /* too short */
    CHECK_STREQ(route(NULL, "/feed/facade"), "/feed/facade");
    /* long tokens */
    CHECK_STREQ(route(NULL, "/t/eyJhbGciOiJIUzI1NiJ9"), "/t/{id}");
    CHECK_STREQ(route(NULL, "/s/AbCdEfGh12345678_-xY"), "/s/{id}");
    CHECK_STREQ(route(NULL, "/s/AbCdEfGh12345678=="), "/s/{id}");
    CHECK_STREQ(route(NULL, "/docs/getting-started-guide"), "/docs/getting-started-guide"); /* no digit */
    CHECK_STREQ(route(NULL, "/files/report2023"), "/files/report2023");                  /* short */
    CHECK_STREQ(route(NULL, "/api/v2/health"), "/api/v2/health");
    CHECK_STREQ(route(NULL, "/x/abcdefghijklmnop1.txt"), "/x/abcdefghijklmnop1.txt");    /* '.' */
    /* percent-encoded bytes are left as they are */
    CHECK_STREQ(route(NULL, "/files/my%20file"), "/files/my%20file");
    CHECK_STREQ(route(NULL, "/a/%31%32%33"), "/a/%31%32%33");
    /* many ids in a row */
    for (i = 0; i < 20; i++) {
        snprintf(in, sizeof(in), "/v1/%x%08d/x", 0xabc + i, i);
        snprintf(want, sizeof(want), "/v1/{id}/x");
        CHECK_STREQ(route(NULL, in), want);
    }
}

/* Query, fragment, absolute/asterisk/authority forms, slashes, raw bytes, NUL. */
static void test_shapes(void)
{
    /* query and fragment */
    CHECK_STREQ(route(NULL, "/search?q=1&r=2"), "/search");
    CHECK_STREQ(route(NULL, "/a#frag"), "/a");
    CHECK_STREQ(route(NULL, "/?x=1"), "/");
    CHECK_STREQ(route(NULL, "/users/42?expand=true#top"), "/users/{id}");
    CHECK_STREQ(route(NULL, "?x"), "/");
    /* absolute form */
    CHECK_STREQ(route(NULL, "http://example.com/users/5?x=1"), "/users/{id}");
    CHECK_STREQ(route(NULL, "https://example.com:8443/a/b"), "/a/b");
    CHECK_STREQ(route(NULL, "HTTP://h/a"), "/a");
    CHECK_STREQ(route(NULL, "http://example.com"), "/");
    CHECK_STREQ(route(NULL, "http://example.com?x=/y"), "/");
    CHECK_STREQ(route(NULL, "http://user@h//a//b"), "/a/b");
    /* asterisk and authority forms */
    CHECK_STREQ(route(NULL, "*"), "*");
    CHECK_STREQ(route(NULL, "example.com:443"), "{authority}");
    CHECK_STREQ(route(NULL, "http:/x"), "{authority}");
    CHECK_STREQ(route(NULL, "**"), "{authority}");
    /* slashes */
    CHECK_STREQ(route(NULL, ""), "/");
    CHECK_STREQ(route(NULL, "/"), "/");
    CHECK_STREQ(route(NULL, "///"), "/");
    CHECK_STREQ(route(NULL, "//a///b//"), "/a/b/");
    CHECK_STREQ(route(NULL, "/a/b"), "/a/b");
    CHECK_STREQ(route(NULL, "/a/./../b"), "/a/./../b");
    /* bytes pass through unchanged: the renderer escapes */
    CHECK_STREQ(route(NULL, "/say/\"hi\"\\there"), "/say/\"hi\"\\there");
    CHECK_STREQ(route(NULL, "/caf\xc3\xa9/\xff\xfe/x\ny"), "/caf\xc3\xa9/\xff\xfe/x\ny");
    /* the input ends at NUL */
    CHECK_STREQ(route_n(NULL, "/a/1\0/b", 7), "/a/{id}");
    CHECK_STREQ(route_n(NULL, "\0/b", 3), "/");
    /* zero struct = no patterns */
    CHECK_STREQ(route(&none_routes, "/users/7"), "/users/{id}");
}

/* Configured patterns: first match wins verbatim; bad entries and limits. */
static void test_patterns(void)
{
    static struct shim_routes r;
    int bad = 99;

    CHECK_EQ(shim_routes_parse(&r, "/users/{id},/orders/{id}/items", &bad), 2);
    CHECK_EQ(bad, -1);
    CHECK_STREQ(route(&r, "/orders/77/items"), "/orders/{id}/items");
    CHECK_STREQ(route(&r, "/orders/abc/items?x=1"), "/orders/{id}/items");
    CHECK_STREQ(route(&r, "/users/alice"), "/users/{id}");       /* the pattern wins */
    CHECK_STREQ(route(&r, "http://h/users/bob/"), "/users/{id}");
    CHECK_STREQ(route(&r, "//users//carol"), "/users/{id}");
    CHECK_STREQ(route(&r, "/users"), "/users");                  /* no segment for {id} */
    CHECK_STREQ(route(&r, "/users/alice/photos"), "/users/alice/photos");
    CHECK_STREQ(route(&r, "/orders/5/items/9"), "/orders/{id}/items/{id}");
    CHECK_STREQ(route(&r, "/Users/alice"), "/Users/alice");      /* case matters */

    /* the first matching pattern wins, verbatim */
    CHECK_EQ(shim_routes_parse(&r, " /a/{x} , /a/b,/a/{y}/ ,/", &bad), 4);
    CHECK_EQ(bad, -1);
    CHECK_STREQ(route(&r, "/a/b"), "/a/{x}");
    CHECK_STREQ(route(&r, "/a/zz/"), "/a/{x}");
    CHECK_STREQ(route(&r, "/"), "/");
    CHECK_STREQ(route(&r, ""), "/");
    CHECK_EQ(shim_routes_parse(&r, "/a/b,/a/{x}", &bad), 2);
    CHECK_STREQ(route(&r, "/a/b"), "/a/b");
    CHECK_STREQ(route(&r, "/a/c"), "/a/{x}");
    CHECK_EQ(shim_routes_parse(&r, "/a/{y}/", &bad), 1);
    CHECK_STREQ(route(&r, "/a/1"), "/a/{y}/");

    /* bad entries are skipped, the first one reported */
    CHECK_EQ(shim_routes_parse(&r, "/ok,users/{id},/b", &bad), 2);
    CHECK_EQ(bad, 1);
    CHECK_STREQ(route(&r, "/b"), "/b");
    CHECK_EQ(shim_routes_parse(&r, ",,/a/{id", &bad), 0);
    CHECK_EQ(bad, 2);
    CHECK_EQ(shim_routes_parse(&r, "/a/x{id}", &bad), 0);
    CHECK_EQ(bad, 0);
    CHECK_EQ(shim_routes_parse(&r, "/a/{}", &bad), 0);
    CHECK_EQ(bad, 0);
    CHECK_EQ(shim_routes_parse(&r, "/a/{{id}}", &bad), 0);
    CHECK_EQ(shim_routes_parse(&r, "/a//b", &bad), 0);
    CHECK_EQ(shim_routes_parse(&r, "/a?b", &bad), 0);
    CHECK_EQ(shim_routes_parse(&r, "/a#b", &bad), 0);
    CHECK_EQ(shim_routes_parse(&r, "/a b", &bad), 0);
    CHECK_EQ(shim_routes_parse(&r, "/a\x01", &bad), 0);
    CHECK_EQ(shim_routes_parse(&r, "", &bad), 0);
    CHECK_EQ(bad, -1);
    CHECK_EQ(shim_routes_parse(&r, NULL, NULL), 0);
    CHECK_EQ(shim_routes_parse(&r, " , ", &bad), 0);
    CHECK_EQ(bad, -1);

    /* more than SHIM_ROUTES_MAX */
    {
        static char spec[8192];
        size_t n = 0;
        int i;
        for (i = 0; i < SHIM_ROUTES_MAX + 6; i++)
            n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s/p%d/{id}", i ? "," : "", i);
        CHECK_EQ(shim_routes_parse(&r, spec, &bad), SHIM_ROUTES_MAX);
        CHECK_EQ(bad, SHIM_ROUTES_MAX);
        CHECK_STREQ(route(&r, "/p63/x"), "/p63/{id}");
        CHECK_STREQ(route(&r, "/p64/x"), "/p64/x");
        /* more text than the storage */
        n = 0;
        for (i = 0; i < 40; i++) {
            n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s/", i ? "," : "");
            memset(spec + n, 'a' + i % 26, 150);
            n += 150;
            spec[n] = 0;
        }
        CHECK_EQ(shim_routes_parse(&r, spec, &bad), SHIM_ROUTES_STORAGE / 151);
        CHECK_EQ(bad, SHIM_ROUTES_STORAGE / 151);
        CHECK(r.used <= SHIM_ROUTES_STORAGE);
    }
}

/* Output caps: "..." marker, tiny buffers, no split UTF-8 sequence. */
static void test_truncation(void)
{
    static char in[1024];
    char out[SHIM_ROUTE_CAP], small[8];
    size_t n, i;

    /* an over-long path is cut inside the buffer and marked */
    in[0] = '/';
    for (i = 1; i < 400; i++)
        in[i] = (i % 10 == 0) ? '/' : (char)('a' + i % 7);
    n = shim_route(NULL, at_guard(in, 400), 400, out, sizeof(out));
    CHECK_EQ(n, SHIM_ROUTE_CAP - 1);
    CHECK_EQ(strlen(out), n);
    CHECK(memcmp(out + n - 3, "...", 3) == 0);
    CHECK(memcmp(out, in, n - 3) == 0);
    CHECK_STREQ(route_n(NULL, in, 400), out);

    /* exactly fitting is not cut */
    memset(in, 'a', sizeof(in));
    in[0] = '/';
    n = shim_route(NULL, at_guard(in, SHIM_ROUTE_CAP - 1), SHIM_ROUTE_CAP - 1, out, sizeof(out));
    CHECK_EQ(n, SHIM_ROUTE_CAP - 1);
    CHECK(out[n - 1] == 'a');
    n = shim_route(NULL, at_guard(in, SHIM_ROUTE_CAP), SHIM_ROUTE_CAP, out, sizeof(out));
    CHECK_EQ(n, SHIM_ROUTE_CAP - 1);
    CHECK(memcmp(out + n - 3, "...", 3) == 0);

    /* tiny buffers */
    memset(small, 'X', sizeof(small));
    CHECK_EQ(shim_route(NULL, (const uint8_t *)"/abcdef", 7, small, 0), 0);
    CHECK(small[0] == 'X');
    CHECK_EQ(shim_route(NULL, (const uint8_t *)"/abcdef", 7, small, 1), 0);
    CHECK_STREQ(small, "");
    CHECK_EQ(shim_route(NULL, (const uint8_t *)"/abcdef", 7, small, 3), 2);
    CHECK_STREQ(small, "/a");
    CHECK_EQ(shim_route(NULL, (const uint8_t *)"/abcdef", 7, small, 4), 3);
    CHECK_STREQ(small, "...");
    CHECK_EQ(shim_route(NULL, (const uint8_t *)"/abcdef", 7, small, 6), 5);
    CHECK_STREQ(small, "/a...");
    CHECK_EQ(shim_route(NULL, (const uint8_t *)"/abcdef", 7, small, 8), 7);
    CHECK_STREQ(small, "/abcdef");
    CHECK_EQ(shim_route(NULL, (const uint8_t *)"/1/2/3", 6, small, 8), 7);
    CHECK_STREQ(small, "/{id...");

    /* a cut never splits a UTF-8 sequence */
    for (i = 0; i < 4; i++) {
        size_t k, len = 1 + i;
        in[0] = '/';
        memset(in + 1, 'a', i);
        for (k = 0; k < 100; k++) {
            memcpy(in + len, "\xe2\x82\xac", 3); /* euro sign */
            len += 3;
        }
        n = shim_route(NULL, at_guard(in, len), len, small, sizeof(small));
        CHECK_EQ(strlen(small), n);
        CHECK(n >= 3 && memcmp(small + n - 3, "...", 3) == 0);
        /* what precedes "..." is '/', 'a's and whole euro signs */
        {
            size_t j = 1;
            while (j < n - 3 && small[j] == 'a')
                j++;
            CHECK_MSG((n - 3 - j) % 3 == 0, "i=%zu n=%zu j=%zu", i, n, j);
        }
    }
}

/* main: run every test; exit status 1 on any failure. */
int main(void)
{
    guard_init();
    UNIT_RUN(test_ids);
    UNIT_RUN(test_shapes);
    UNIT_RUN(test_patterns);
    UNIT_RUN(test_truncation);
    return unit_summary();
}
