/*
 * fuzz_toml.c - libFuzzer harness for the TOML parser (shim/toml.c).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_toml.c shim/toml.c -o build/fuzz_toml
 *   build/fuzz_toml -max_total_time=120 /tmp/toml-corpus tests/fuzz/corpus/toml
 *
 * The input is the document. It is copied into an exact-size heap block
 * (so ASan sees any read past the end; it is not NUL-terminated) and parsed
 * twice: with an arena of the documented worst-case size, which must never
 * run out, and with a small arena chosen from the input's first byte, which
 * must give the same result or -ENOMEM. Checks, abort() on failure:
 *  - the result is 0, -EINVAL or -ENOMEM; an error has a message and a
 *    position inside the input whose line and column agree with its offset;
 *  - every node's links, key and string lie inside the arena, NUL-terminated,
 *    with parents before children and child counts and indexes consistent;
 *  - keys and strings are valid UTF-8 (the input is); date-times have their
 *    normalised shape;
 *  - the document written back as TOML (dotted keys, inline arrays and
 *    tables, %.17g floats) parses to the same tree.
 */
#include "shim/toml.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fail: report a broken invariant and abort. */
static void fail(const char *what)
{
    fprintf(stderr, "fuzz_toml: %s\n", what);
    abort();
}

/* arena_for: the documented worst-case arena for len bytes. */
static size_t arena_for(size_t len)
{
    return SHIM_TOML_ARENA_MAX(len);
}

/* utf8_ok: s[0..n) is valid UTF-8 (no surrogates, no overlongs). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], k, cp, j;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3, cp = c & 0x07;
        else
            return 0;
        if (n - i <= k)
            return 0;
        for (j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* check_position: line/col agree with the offset in the input. */
static void check_position(const unsigned char *s, size_t len, size_t off, uint32_t line, uint32_t col)
{
    size_t i, start = (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) ? 3 : 0;
    uint32_t l = 1, c = 1;
    if (off > len)
        fail("error offset past the input");
    for (i = start; i < off; i++) {
        if (s[i] == '\n')
            l++, c = 1;
        else if ((s[i] & 0xC0) != 0x80)
            c++;
    }
    if (off < start)
        l = 1, c = 1;
    if (l != line || c != col)
        fail("line/column do not match the offset");
}

/* check_string: [off, off+len] (the NUL included) lies in the string area,
 * NUL-terminated, and (utf8 set) is valid UTF-8. */
static void check_string(const struct shim_toml_doc *d, uint32_t off, uint32_t len, int utf8)
{
    if (off < d->top || (size_t)off + len >= d->size)
        fail("string outside the arena");
    if (d->arena[off + len] != '\0')
        fail("string not NUL-terminated");
    if (utf8 && !utf8_ok((const unsigned char *)d->arena + off, len))
        fail("string is not valid UTF-8");
}

/* check_datetime: the normalised shape of a date/time text. */
static void check_datetime(int type, const char *s, size_t n)
{
    size_t i = 0, k;
    const char *p = s;
    if (type != SHIM_TOML_TIME_LOCAL) {
        if (n < 10 || p[4] != '-' || p[7] != '-')
            fail("date shape");
        if (type == SHIM_TOML_DATE_LOCAL) {
            if (n != 10)
                fail("local date length");
            return;
        }
        if (n < 19 || p[10] != 'T')
            fail("date-time separator not normalised");
        i = 11;
    }
    if (n - i < 8 || p[i + 2] != ':' || p[i + 5] != ':')
        fail("time shape");
    k = i + 8;
    if (k < n && p[k] == '.') {
        k++;
        while (k < n && p[k] >= '0' && p[k] <= '9')
            k++;
    }
    if (type == SHIM_TOML_DATETIME) {
        if (!((k + 1 == n && p[k] == 'Z') || (k + 6 == n && (p[k] == '+' || p[k] == '-') && p[k + 3] == ':')))
            fail("offset not normalised");
    } else if (k != n) {
        fail("trailing text in a local date/time");
    }
}

/* check_doc: every structural invariant of a parsed document. */
static void check_doc(const struct shim_toml_doc *d, size_t lines)
{
    uint32_t i;
    if (d->n < 1 || (size_t)d->n * sizeof(struct shim_toml_node) > d->top || d->top > d->size)
        fail("arena bookkeeping");
    if (d->nodes[0].parent != SHIM_TOML_NONE || d->nodes[0].type != SHIM_TOML_TABLE)
        fail("root");
    for (i = 0; i < d->n; i++) {
        const struct shim_toml_node *n = &d->nodes[i], *par;
        uint32_t c, count = 0, last = SHIM_TOML_NONE;
        if (n->type < SHIM_TOML_TABLE || n->type > SHIM_TOML_TIME_LOCAL)
            fail("node type");
        if (n->line < 1 || n->line > lines || n->col < 1)
            fail("node position");
        if (i > 0) {
            if (n->parent >= i)
                fail("parent after child");
            par = &d->nodes[n->parent];
            if (par->type != SHIM_TOML_TABLE && par->type != SHIM_TOML_ARRAY)
                fail("parent is not a container");
            if (par->type == SHIM_TOML_TABLE)
                check_string(d, n->key, n->key_len, 1);
            else if (n->key_len != 0)
                fail("array element with a key");
        }
        for (c = n->first; c != SHIM_TOML_NONE; c = d->nodes[c].next) {
            if (c >= d->n || c <= i || d->nodes[c].parent != i || d->nodes[c].index != count)
                fail("child links");
            if (++count > d->n)
                fail("child loop");
            last = c;
        }
        if (count != n->count || last != n->last)
            fail("child count or last child");
        if (n->count && n->type != SHIM_TOML_TABLE && n->type != SHIM_TOML_ARRAY)
            fail("a value with children");
        if ((n->flags & SHIM_TOML_F_AOT) && (n->type != SHIM_TOML_ARRAY || n->count == 0))
            fail("array of tables without tables");
        switch (n->type) {
        case SHIM_TOML_STRING:
            check_string(d, n->v.s.off, n->v.s.len, 1);
            break;
        case SHIM_TOML_DATETIME:
        case SHIM_TOML_DATETIME_LOCAL:
        case SHIM_TOML_DATE_LOCAL:
        case SHIM_TOML_TIME_LOCAL:
            check_string(d, n->v.s.off, n->v.s.len, 1);
            check_datetime(n->type, d->arena + n->v.s.off, n->v.s.len);
            break;
        case SHIM_TOML_BOOL:
            if (n->v.b != 0 && n->v.b != 1)
                fail("bool value");
            break;
        }
    }
}

/* ---------------------------------------------------- write back, compare */

struct out {
    char *buf;
    size_t n, cap;
};

/* put: append s[0..k). */
static void put(struct out *o, const char *s, size_t k)
{
    if (o->n + k + 1 > o->cap) {
        o->cap = (o->n + k + 1) * 2;
        o->buf = realloc(o->buf, o->cap);
        if (!o->buf)
            abort();
    }
    memcpy(o->buf + o->n, s, k);
    o->n += k;
}

/* puts_: append a C string. */
static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* put_quoted: s[0..n) as a TOML basic string. */
static void put_quoted(struct out *o, const char *s, size_t n)
{
    char esc[8];
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            puts_(o, esc);
        } else {
            put(o, s + i, 1);
        }
    }
    put(o, "\"", 1);
}

static void put_value(struct out *o, const struct shim_toml_doc *d, const struct shim_toml_node *n);

/* put_members: the members of table t as "prefix.key = value" pairs,
 * separated by sep; *first tracks whether a separator is due. Non-empty
 * tables become dotted keys, so inline nesting does not grow. */
static void put_members(struct out *o, const struct shim_toml_doc *d, const struct shim_toml_node *t,
                        const char *prefix, size_t plen, const char *sep, int *first)
{
    const struct shim_toml_node *c;
    for (c = shim_toml_first(d, t); c; c = shim_toml_next(d, c)) {
        struct out key = {0};
        size_t klen;
        const char *k = shim_toml_key(d, c, &klen);
        put(&key, prefix, plen);
        if (plen)
            put(&key, ".", 1);
        put_quoted(&key, k, klen);
        if (c->type == SHIM_TOML_TABLE && c->count > 0) {
            put_members(o, d, c, key.buf, key.n, sep, first);
        } else {
            if (!*first)
                puts_(o, sep);
            *first = 0;
            put(o, key.buf, key.n);
            puts_(o, " = ");
            put_value(o, d, c);
        }
        free(key.buf);
    }
}

/* put_value: one value as TOML. */
static void put_value(struct out *o, const struct shim_toml_doc *d, const struct shim_toml_node *n)
{
    char num[64];
    const struct shim_toml_node *c;
    size_t len;
    const char *s;
    int first = 1;

    switch (n->type) {
    case SHIM_TOML_TABLE:
        puts_(o, "{");
        put_members(o, d, n, "", 0, ", ", &first);
        puts_(o, "}");
        return;
    case SHIM_TOML_ARRAY:
        puts_(o, "[");
        for (c = shim_toml_first(d, n); c; c = shim_toml_next(d, c)) {
            put_value(o, d, c);
            puts_(o, ",\n");
        }
        puts_(o, "]");
        return;
    case SHIM_TOML_STRING:
        s = shim_toml_str(d, n, &len);
        put_quoted(o, s, len);
        return;
    case SHIM_TOML_INTEGER:
        snprintf(num, sizeof(num), "%lld", (long long)n->v.i);
        break;
    case SHIM_TOML_FLOAT:
        if (isnan(n->v.f))
            snprintf(num, sizeof(num), "nan");
        else if (isinf(n->v.f))
            snprintf(num, sizeof(num), "%sinf", n->v.f < 0 ? "-" : "");
        else {
            snprintf(num, sizeof(num), "%.17g", n->v.f);
            if (!strpbrk(num, ".e"))
                strcat(num, ".0");
        }
        break;
    case SHIM_TOML_BOOL:
        snprintf(num, sizeof(num), "%s", n->v.b ? "true" : "false");
        break;
    default:
        s = shim_toml_str(d, n, &len);
        put(o, s, len);
        return;
    }
    puts_(o, num);
}

/* same_tree: the subtrees at a (in da) and b (in db) are equal (keys,
 * types, values; floats bit for bit, nan by nan-ness). */
static int same_tree(const struct shim_toml_doc *da, const struct shim_toml_node *a, const struct shim_toml_doc *db,
                     const struct shim_toml_node *b)
{
    size_t la, lb;
    const char *sa, *sb;
    if (a->type != b->type || a->count != b->count)
        return 0;
    sa = shim_toml_key(da, a, &la);
    sb = shim_toml_key(db, b, &lb);
    if (la != lb || memcmp(sa, sb, la) != 0)
        return 0;
    switch (a->type) {
    case SHIM_TOML_TABLE:
    case SHIM_TOML_ARRAY:
        for (a = shim_toml_first(da, a), b = shim_toml_first(db, b); a && b;
             a = shim_toml_next(da, a), b = shim_toml_next(db, b))
            if (!same_tree(da, a, db, b))
                return 0;
        return !a && !b;
    case SHIM_TOML_INTEGER:
        return a->v.i == b->v.i;
    case SHIM_TOML_FLOAT:
        if (isnan(a->v.f))
            return isnan(b->v.f);
        return memcmp(&a->v.f, &b->v.f, sizeof(double)) == 0;
    case SHIM_TOML_BOOL:
        return a->v.b == b->v.b;
    default:
        sa = shim_toml_str(da, a, &la);
        sb = shim_toml_str(db, b, &lb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput: see the header comment. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shim_toml_doc big, small, again;
    size_t bigsz = arena_for(size), smallsz = size ? (size_t)data[0] * 8 : 0, lines = 1, i;
    char *text = malloc(size ? size : 1), *mbig = malloc(bigsz), *msmall = malloc(smallsz ? smallsz : 1);
    int rb, rs;

    if (!text || !mbig || !msmall)
        abort();
    memcpy(text, data, size);
    for (i = 0; i < size; i++)
        lines += data[i] == '\n';

    rb = shim_toml_parse(&big, mbig, bigsz, text, size);
    if (rb != 0 && rb != -EINVAL)
        fail("worst-case arena ran out, or an unexpected return code");
    if (rb) {
        if (!big.err.msg)
            fail("error without a message");
        check_position(data, size, big.err.off, big.err.line, big.err.col);
    } else {
        struct out o = {0};
        char *m2;
        int ra;
        check_doc(&big, lines);
        /* leaf iteration terminates and stays under the root */
        {
            const struct shim_toml_node *l = NULL;
            size_t steps = 0;
            char path[256];
            while ((l = shim_toml_next_leaf(&big, shim_toml_root(&big), l))) {
                if (++steps > big.n)
                    fail("leaf iteration does not end");
                if (l->type == SHIM_TOML_TABLE && l->count)
                    fail("non-empty table as a leaf");
                int pl = shim_toml_path(&big, l, NULL, path, sizeof(path));
                if (pl >= 0 && (size_t)pl != strlen(path))
                    fail("path length");
                if (pl < 0 && (pl != -ENOSPC || path[0]))
                    fail("path failure");
            }
        }
        /* write back and parse again */
        put_members(&o, &big, shim_toml_root(&big), "", 0, "\n", &(int){1});
        put(&o, "\n", 1);
        m2 = malloc(arena_for(o.n));
        if (!m2)
            abort();
        ra = shim_toml_parse(&again, m2, arena_for(o.n), o.buf, o.n);
        if (ra != 0 && !(ra == -EINVAL && strstr(again.err.msg, "nested too deep"))) {
            fprintf(stderr, "rewritten document refused: line %u col %u: %s\n%.*s\n", again.err.line,
                    again.err.col, again.err.msg, (int)o.n, o.buf);
            fail("rewritten document refused");
        }
        if (ra == 0 && !same_tree(&big, shim_toml_root(&big), &again, shim_toml_root(&again))) {
            fprintf(stderr, "%.*s\n", (int)o.n, o.buf);
            fail("rewritten document differs");
        }
        free(m2);
        free(o.buf);
    }

    /* a small arena: the same outcome, or out of memory */
    rs = shim_toml_parse(&small, msmall, smallsz, text, size);
    if (rs == -ENOMEM) {
        if (!small.err.msg)
            fail("-ENOMEM without a message");
        check_position(data, size, small.err.off, small.err.line, small.err.col);
    } else if (rs != rb) {
        fail("small arena changed the result");
    } else if (rs == 0) {
        check_doc(&small, lines);
        if (!same_tree(&big, shim_toml_root(&big), &small, shim_toml_root(&small)))
            fail("small arena changed the tree");
    } else if (small.err.off != big.err.off || small.err.msg != big.err.msg) {
        fail("small arena changed the error");
    }
    free(text);
    free(mbig);
    free(msmall);
    return 0;
}
