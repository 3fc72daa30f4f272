/*
 * route.c - http_route normalisation (see route.h for the rules).
 *
 * Everything works on the caller's bytes in place: segments are found by
 * scanning, classified, and copied (or replaced by "{id}") straight into the
 * caller's output buffer through a bounded writer.
 */
#include "shim/route.h"

#include <string.h>

#define ID_TEXT "{id}"
#define AUTHORITY_TEXT "{authority}"

/* A bounded writer over the caller's output buffer. */
struct writer {
    char *out;
    size_t cap;   /* bytes usable for text: outsz - 1 */
    size_t pos;
    int cut;      /* something did not fit */
};

/* put: append n bytes, as many as fit; remember a cut. */
static void put(struct writer *w, const void *s, size_t n)
{
    size_t room = w->cap - w->pos;
    if (n > room) {
        n = room;
        w->cut = 1;
    }
    memcpy(w->out + w->pos, s, n);
    w->pos += n;
}

/* utf8_cut: given text[0..end), return the largest end' <= end that does not
 * split a well-formed UTF-8 sequence at its tail (bytes that are not UTF-8
 * are left alone). */
static size_t utf8_cut(const unsigned char *t, size_t end)
{
    size_t j = end, need;
    while (j > 0 && end - j < 3 && (t[j - 1] & 0xC0) == 0x80)
        j--;
    if (j == 0 || t[j - 1] < 0xC0)
        return end;
    need = t[j - 1] >= 0xF0 ? 4 : t[j - 1] >= 0xE0 ? 3 : 2;
    return end - (j - 1) < need ? j - 1 : end;
}

/* finish: mark a cut with "...", NUL-terminate; returns the length. */
static size_t finish(struct writer *w)
{
    size_t end;
    if (w->cut && w->cap >= 3) {
        end = utf8_cut((const unsigned char *)w->out, w->cap - 3);
        memcpy(w->out + end, "...", 3);
        w->pos = end + 3;
    }
    w->out[w->pos] = '\0';
    return w->pos;
}

/* next_seg: from *pos, skip slashes and find the next non-empty segment of
 * p[0..len). Returns 1 with its start and length, 0 at the end. */
static int next_seg(const uint8_t *p, size_t len, size_t *pos, size_t *start, size_t *slen)
{
    size_t i = *pos, s;
    while (i < len && p[i] == '/')
        i++;
    if (i == len) {
        *pos = i;
        return 0;
    }
    s = i;
    while (i < len && p[i] != '/')
        i++;
    *start = s;
    *slen = i - s;
    *pos = i;
    return 1;
}

/* is_hex: 1 if c is a hex digit. */
static inline int is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* is_digit: 1 if c is a decimal digit. */
static inline int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* is_alpha: 1 if c is an ASCII letter. */
static inline int is_alpha(uint8_t c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* looks_like_id: 1 if the segment s[0..n) is an identifier by the rules in
 * route.h (digits, UUID, hex id, long token), else 0. */
static int looks_like_id(const uint8_t *s, size_t n)
{
    size_t i, core;
    int digit = 0, alpha = 0, hex = 1;

    for (i = 0; i < n; i++) {
        digit |= is_digit(s[i]);
        alpha |= is_alpha(s[i]);
        hex &= is_hex(s[i]);
    }
    if (digit && !alpha && hex)
        return 1; /* all digits (hex && no letter means digits only) */
    if (hex && digit && n >= 8)
        return 1;
    if (n == 36) {
        for (i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (s[i] != '-')
                    break;
            } else if (!is_hex(s[i])) {
                break;
            }
        }
        if (i == 36)
            return 1;
    }
    core = n;
    while (core > 0 && s[core - 1] == '=' && n - core < 2)
        core--;
    if (core < 16 || !digit || !alpha)
        return 0;
    for (i = 0; i < core; i++)
        if (!is_digit(s[i]) && !is_alpha(s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

/* pattern_matches: 1 if pattern pat[0..plen) matches path p[0..len). */
static int pattern_matches(const uint8_t *pat, size_t plen, const uint8_t *p, size_t len)
{
    size_t pp = 0, qp = 0, as = 0, al = 0, bs = 0, bl = 0;
    int a, b;
    for (;;) {
        a = next_seg(pat, plen, &pp, &as, &al);
        b = next_seg(p, len, &qp, &bs, &bl);
        if (a != b)
            return 0;
        if (!a)
            return 1;
        if (pat[as] == '{')
            continue; /* placeholder: any non-empty segment */
        if (al != bl || memcmp(pat + as, p + bs, al) != 0)
            return 0;
    }
}

/* pattern_valid: 1 if s[0..n) is a valid pattern (rules in route.h). */
static int pattern_valid(const uint8_t *s, size_t n)
{
    size_t i, pos = 0, st = 0, sl = 0;
    if (n == 0 || s[0] != '/')
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] <= 0x20 || s[i] == 0x7f || s[i] == '?' || s[i] == '#' || s[i] == ',')
            return 0;
        if (i > 0 && s[i] == '/' && s[i - 1] == '/')
            return 0;
    }
    while (next_seg(s, n, &pos, &st, &sl)) {
        int braces = 0;
        for (i = st; i < st + sl; i++)
            braces += s[i] == '{' || s[i] == '}';
        if (braces == 0)
            continue;
        if (braces != 2 || sl < 3 || s[st] != '{' || s[st + sl - 1] != '}')
            return 0;
    }
    return 1;
}

/* shim_routes_parse: see route.h. */
int shim_routes_parse(struct shim_routes *r, const char *spec, int *bad)
{
    const uint8_t *p = (const uint8_t *)spec;
    size_t i = 0, s, e;
    int idx = 0, first_bad = -1;

    r->n = 0;
    r->used = 0;
    if (p) {
        for (;;) {
            s = i;
            while (p[i] && p[i] != ',')
                i++;
            e = i;
            while (s < e && (p[s] == ' ' || p[s] == '\t' || p[s] == '\n' || p[s] == '\r'))
                s++;
            while (e > s && (p[e - 1] == ' ' || p[e - 1] == '\t' || p[e - 1] == '\n' || p[e - 1] == '\r'))
                e--;
            if (e > s) {
                if (!pattern_valid(p + s, e - s) || r->n >= SHIM_ROUTES_MAX ||
                    e - s > (size_t)(SHIM_ROUTES_STORAGE - r->used)) {
                    if (first_bad < 0)
                        first_bad = idx;
                } else {
                    memcpy(r->store + r->used, p + s, e - s);
                    r->off[r->n] = r->used;
                    r->len[r->n] = (uint16_t)(e - s);
                    r->used = (uint16_t)(r->used + (e - s));
                    r->n++;
                }
            }
            idx++;
            if (!p[i])
                break;
            i++; /* the comma */
        }
    }
    if (bad)
        *bad = first_bad;
    return r->n;
}

/* shim_route: see route.h. */
size_t shim_route(const struct shim_routes *routes, const uint8_t *path, size_t len,
                  char *out, size_t outsz)
{
    struct writer w;
    size_t i, k, pos = 0, st = 0, sl = 0;
    int first = 1;

    if (outsz == 0)
        return 0;
    w.out = out;
    w.cap = outsz - 1;
    w.pos = 0;
    w.cut = 0;

    /* the path ends at NUL, '?' or '#' */
    for (i = 0; i < len; i++)
        if (path[i] == '\0' || path[i] == '?' || path[i] == '#')
            break;
    len = i;

    if (len > 0 && path[0] != '/') {
        if (len == 1 && path[0] == '*') {
            put(&w, "*", 1);
            return finish(&w);
        }
        /* absolute form: scheme "://" authority [path] */
        i = 0;
        if (is_alpha(path[0])) {
            for (i = 1; i < len; i++)
                if (!is_alpha(path[i]) && !is_digit(path[i]) && path[i] != '+' &&
                    path[i] != '-' && path[i] != '.')
                    break;
        }
        if (i == 0 || len - i < 3 || memcmp(path + i, "://", 3) != 0) {
            put(&w, AUTHORITY_TEXT, sizeof(AUTHORITY_TEXT) - 1);
            return finish(&w);
        }
        for (i += 3; i < len && path[i] != '/'; i++)
            ;
        path += i;
        len -= i;
    }

    if (routes) {
        for (k = 0; k < routes->n && k < SHIM_ROUTES_MAX; k++) {
            const uint8_t *pat = (const uint8_t *)routes->store + routes->off[k];
            if ((size_t)routes->off[k] + routes->len[k] > SHIM_ROUTES_STORAGE)
                continue; /* corrupt entry: ignore */
            if (pattern_matches(pat, routes->len[k], path, len)) {
                put(&w, pat, routes->len[k]);
                return finish(&w);
            }
        }
    }

    put(&w, "/", 1);
    while (next_seg(path, len, &pos, &st, &sl)) {
        if (!first)
            put(&w, "/", 1);
        first = 0;
        if (looks_like_id(path + st, sl))
            put(&w, ID_TEXT, sizeof(ID_TEXT) - 1);
        else
            put(&w, path + st, sl);
    }
    if (!first && path[len - 1] == '/')
        put(&w, "/", 1);
    return finish(&w);
}
