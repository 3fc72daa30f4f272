/*
 * route.h - normalise an HTTP request target into a low-cardinality
 * http_route label value.
 *
 * Contract:
 * - Pure functions: no allocation, no globals, no I/O. The output goes into a
 *   caller-supplied buffer, always NUL-terminated when it has room for one.
 * - Bytes are copied verbatim (no percent-decoding, no escaping: the
 *   exposition renderer escapes label values). The input ends at its length
 *   or at its first NUL byte, whichever comes first.
 * - struct shim_routes is plain data (fixed size, no pointers: it may be
 *   memset, copied or placed in shared memory). Zero-filled = no patterns.
 */
#ifndef SHIM_ROUTE_H
#define SHIM_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_ROUTE_CAP 128          /* suggested output buffer size (NUL included) */
#define SHIM_ROUTES_MAX 64          /* configured patterns kept at most */
#define SHIM_ROUTES_STORAGE 4096    /* bytes of pattern text kept at most */

/* Configured route patterns, e.g. parsed from "/users/{id},/orders/{id}/items". */
struct shim_routes {
    uint16_t n;                         /* patterns kept */
    uint16_t used;                      /* bytes of store used */
    uint16_t off[SHIM_ROUTES_MAX];      /* pattern k is store[off[k] .. off[k]+len[k]) */
    uint16_t len[SHIM_ROUTES_MAX];
    char store[SHIM_ROUTES_STORAGE];    /* the patterns' text, not NUL-separated */
};

/*
 * shim_routes_parse: replace *r by the patterns of spec, a NUL-terminated
 * comma-separated list (NULL or "" = none). Whitespace around an entry is
 * trimmed and empty entries are skipped. A valid pattern starts with '/',
 * holds no whitespace, control byte, '?', '#' or "//", and each of its
 * segments is either literal (no '{' or '}') or a whole "{name}" placeholder
 * (name non-empty, no braces). Bad entries, and entries past
 * SHIM_ROUTES_MAX or SHIM_ROUTES_STORAGE, are skipped; the rest are kept in
 * order. Returns the number of patterns kept; *bad (if not NULL) is set to the
 * 0-based index (counting every comma-separated entry, empty ones too) of the
 * first bad or dropped entry, or -1 when all were good. Callers wanting
 * all-or-nothing memset *r on *bad >= 0.
 */
int shim_routes_parse(struct shim_routes *r, const char *spec, int *bad);

/*
 * shim_route: normalise the request target path[0..len) into out (outsz
 * bytes, the caller's buffer; SHIM_ROUTE_CAP is a good size). routes may be
 * NULL (no patterns). Returns the length written, without the NUL.
 *
 * Rules, in order:
 *  1. The query ('?...') and fragment ('#...') are dropped.
 *  2. Absolute form "scheme://authority/path" keeps only "/path" ("/" if
 *     none). "*" (OPTIONS *) gives "*". Any other target not starting with
 *     '/' (CONNECT's authority form, junk) gives "{authority}".
 *  3. Repeated slashes collapse to one; a trailing slash is kept; an empty
 *     path is "/". Dot segments are not resolved.
 *  4. The first configured pattern with the same number of non-empty
 *     segments, each literal segment equal byte for byte and each
 *     "{name}" segment matching any non-empty segment, is the route,
 *     verbatim (a trailing slash on either side is ignored when matching).
 *  5. Otherwise each segment that looks like an identifier becomes "{id}":
 *     all digits; a UUID (8-4-4-4-12 hex, any case); 8+ hex digits with at
 *     least one decimal digit; a "long token": 16+ bytes of [A-Za-z0-9_-]
 *     (an optional '=' padding tail allowed) with at least one letter and
 *     at least one digit. Other segments are kept as they are.
 *  If the result does not fit in outsz - 1 bytes it is cut and ends in
 *  "..." (the whole output, "..." included, is outsz - 1 bytes; outsz < 4
 *  gives a plain cut). outsz 0 writes nothing. The result of a route that
 *  was not cut is a fixed point: normalising it again gives it back.
 */
size_t shim_route(const struct shim_routes *routes, const uint8_t *path, size_t len,
                  char *out, size_t outsz);

#endif
