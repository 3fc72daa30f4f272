/*
 * toml.c - TOML 1.0 parser over a caller-supplied arena (see toml.h).
 *
 * One pass, recursive descent. The input is checked for valid UTF-8 first,
 * so everything after that may treat bytes >= 0x80 as parts of whole
 * characters. Nodes grow from the front of the arena, strings from the back;
 * a string is decoded into the free gap and then moved up against the
 * others, so no length has to be known in advance.
 *
 * Redefinition rules follow the spec and toml-test: a table is IMPLICIT
 * (made as a parent by a header; may be defined once later by its own
 * header), HEADER (defined by [x] or an element of [[x]]; never again, and
 * dotted keys from another table may not add to it), DOTTED (made by a
 * dotted key; headers may not define it, only add sub-tables below it) or
 * INLINE (closed: nothing may be added at all). Static arrays are closed
 * too; arrays of tables grow by [[x]] only.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shim/toml.h"

#define NONE SHIM_TOML_NONE

typedef struct shim_toml_node node_t;

struct parser {
    struct shim_toml_doc *doc;
    char *mem;                /* the arena (aligned) */
    const unsigned char *s;   /* the input */
    size_t len, pos;
    size_t bom;               /* 3 when the input starts with a UTF-8 BOM */
    uint32_t cur;             /* the table keys go into (last header) */
    int depth;                /* arrays and inline tables open */
    size_t lc_pos;            /* locate() cache: line and column at lc_pos */
    uint32_t lc_line, lc_col;
};

/* A string being decoded into the free gap of the arena. */
struct sbuf {
    char *base;
    size_t n, cap;
};

/* ------------------------------------------------------------ errors ---- */

/* locate: 1-based line and column (in characters) of byte offset at.
 * Incremental: positions asked for in increasing order cost O(1) each. */
static void locate(struct parser *p, size_t at, uint32_t *line, uint32_t *col)
{
    size_t i;
    if (at > p->len)
        at = p->len;
    if (at < p->lc_pos) {
        p->lc_pos = p->bom;
        p->lc_line = 1;
        p->lc_col = 1;
    }
    for (i = p->lc_pos; i < at; i++) {
        if (p->s[i] == '\n') {
            p->lc_line++;
            p->lc_col = 1;
        } else if ((p->s[i] & 0xC0) != 0x80) {
            p->lc_col++;
        }
    }
    if (at > p->lc_pos)
        p->lc_pos = at;
    *line = p->lc_line;
    *col = p->lc_col;
}

/* fail: record the first error at byte offset at; returns -EINVAL. */
static int fail(struct parser *p, size_t at, const char *msg)
{
    struct shim_toml_error *e = &p->doc->err;
    if (at > p->len)
        at = p->len;
    locate(p, at, &e->line, &e->col);
    e->off = at;
    e->msg = msg;
    return -EINVAL;
}

/* nomem: record that the arena is full at byte offset at; returns -ENOMEM. */
static int nomem(struct parser *p, size_t at)
{
    fail(p, at, "document too large for the memory given to the parser");
    return -ENOMEM;
}

/* ------------------------------------------------------------- arena ---- */

/* node_at: node i of the document. */
static node_t *node_at(struct parser *p, uint32_t i)
{
    return &p->doc->nodes[i];
}

/* new_node: append a node of `type` under parent (NONE: the root), with key
 * key[0..key_len) already in the arena, positioned at byte offset at.
 * Stores its index in *out; 0 or -ENOMEM. */
static int new_node(struct parser *p, uint32_t parent, int type, int flags, uint32_t key, uint32_t key_len,
                    size_t at, uint32_t *out)
{
    struct shim_toml_doc *d = p->doc;
    uint32_t idx = d->n;
    node_t *n;

    if (idx >= NONE - 1 || ((size_t)idx + 1) * sizeof(node_t) > d->top)
        return nomem(p, at);
    n = &d->nodes[idx];
    memset(n, 0, sizeof(*n));
    n->parent = parent;
    n->first = n->last = n->next = NONE;
    n->key = key;
    n->key_len = key_len;
    n->type = (uint8_t)type;
    n->flags = (uint8_t)flags;
    locate(p, at, &n->line, &n->col);
    if (parent != NONE) {
        node_t *pp = node_at(p, parent);
        n->index = pp->count++;
        if (pp->last == NONE)
            pp->first = idx;
        else
            node_at(p, pp->last)->next = idx;
        pp->last = idx;
    }
    d->n = idx + 1;
    *out = idx;
    return 0;
}

/* sb_begin: start a string in the free gap between nodes and strings. */
static void sb_begin(struct parser *p, struct sbuf *sb)
{
    size_t used = (size_t)p->doc->n * sizeof(node_t);
    sb->base = p->mem + used;
    sb->cap = p->doc->top > used ? p->doc->top - used - 1 : 0; /* room for the NUL */
    sb->n = 0;
}

/* sb_put: append k bytes; 0 or -ENOMEM (the caller reports it). */
static int sb_put(struct sbuf *sb, const void *src, size_t k)
{
    if (k > sb->cap - sb->n)
        return -ENOMEM;
    memcpy(sb->base + sb->n, src, k);
    sb->n += k;
    return 0;
}

/* sb_byte: append one byte; 0 or -ENOMEM. */
static int sb_byte(struct sbuf *sb, int c)
{
    if (sb->n >= sb->cap)
        return -ENOMEM;
    sb->base[sb->n++] = (char)c;
    return 0;
}

/* sb_commit: move the finished string up against the stored ones, add its
 * NUL, and give its offset and length. */
static void sb_commit(struct parser *p, struct sbuf *sb, uint32_t *off, uint32_t *len)
{
    size_t top = p->doc->top - sb->n - 1;
    memmove(p->mem + top, sb->base, sb->n);
    p->mem[top + sb->n] = '\0';
    p->doc->top = top;
    *off = (uint32_t)top;
    *len = (uint32_t)sb->n;
}

/* ------------------------------------------------------------- bytes ---- */

/* peek: the byte k ahead of the cursor, or -1 past the end. */
static int peek(const struct parser *p, size_t k)
{
    return p->pos + k < p->len ? p->s[p->pos + k] : -1;
}

/* skip_ws: step over spaces and tabs. */
static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

/* newline_len: 1 for LF, 2 for CRLF at the cursor, else 0. */
static size_t newline_len(const struct parser *p)
{
    int c = peek(p, 0);
    if (c == '\n')
        return 1;
    if (c == '\r' && peek(p, 1) == '\n')
        return 2;
    return 0;
}

/* is_control: a control character TOML forbids in strings and comments
 * (everything below 0x20 but tab, and DEL). */
static int is_control(int c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* is_digit: an ASCII decimal digit. */
static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* is_bare: a character of a bare key (A-Z a-z 0-9 _ -). */
static int is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-';
}

/* hex_val: value of a hex digit, -1 if it is not one. */
static int hex_val(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* utf8_check: offset of the first byte that does not start a valid,
 * shortest-form UTF-8 sequence of a scalar value, or len if all is well. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return i;
        if (len - i <= k)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t j = 2; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return i;
        i += k + 1;
    }
    return len;
}

/* utf8_put: append the UTF-8 encoding of scalar value cp; 0 or -ENOMEM. */
static int utf8_put(struct sbuf *sb, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sb_put(sb, b, n);
}

/* ----------------------------------------------------------- comments ---- */

/* skip_comment: at '#': step to the end of the line (the newline itself is
 * left). 0 or -EINVAL for a control character. */
static int skip_comment(struct parser *p)
{
    p->pos++;
    while (p->pos < p->len) {
        int c = p->s[p->pos];
        if (c == '\n')
            return 0;
        if (c == '\r') {
            if (peek(p, 1) == '\n')
                return 0;
            return fail(p, p->pos, "carriage return not followed by a line feed");
        }
        if (is_control(c))
            return fail(p, p->pos, "control character in a comment");
        p->pos++;
    }
    return 0;
}

/* end_line: after an expression: blanks, an optional comment, then a
 * newline (consumed) or the end of the input. 0 or -EINVAL with `what`. */
static int end_line(struct parser *p, const char *what)
{
    size_t k;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '#') {
        int rc = skip_comment(p);
        if (rc)
            return rc;
    }
    if (p->pos >= p->len)
        return 0;
    k = newline_len(p);
    if (k) {
        p->pos += k;
        return 0;
    }
    if (p->s[p->pos] == '\r')
        return fail(p, p->pos, "carriage return not followed by a line feed");
    return fail(p, p->pos, what);
}

/* ------------------------------------------------------------ strings ---- */

/* escape: at '\\' in a basic string: decode one escape into sb.
 * 0, -EINVAL or -ENOMEM. */
static int escape(struct parser *p, struct sbuf *sb)
{
    size_t at = p->pos;
    int c = peek(p, 1), ch;
    switch (c) {
    case 'b': ch = '\b'; break;
    case 't': ch = '\t'; break;
    case 'n': ch = '\n'; break;
    case 'f': ch = '\f'; break;
    case 'r': ch = '\r'; break;
    case '"': ch = '"'; break;
    case '\\': ch = '\\'; break;
    case 'u':
    case 'U': {
        size_t nd = c == 'u' ? 4 : 8, i;
        uint32_t cp = 0;
        for (i = 0; i < nd; i++) {
            int h = hex_val(peek(p, 2 + i));
            if (h < 0)
                return fail(p, at, c == 'u' ? "\\u needs 4 hex digits" : "\\U needs 8 hex digits");
            cp = cp << 4 | (uint32_t)h;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(p, at, "escape is not a Unicode scalar value");
        if (utf8_put(sb, cp))
            return nomem(p, at);
        p->pos += 2 + nd;
        return 0;
    }
    default:
        return fail(p, at, "invalid escape sequence");
    }
    if (sb_byte(sb, ch))
        return nomem(p, at);
    p->pos += 2;
    return 0;
}

/* parse_basic: a one-line "basic string" at the cursor, decoded into the
 * arena. 0, -EINVAL or -ENOMEM. */
static int parse_basic(struct parser *p, uint32_t *off, uint32_t *len)
{
    size_t start = p->pos;
    struct sbuf sb;
    sb_begin(p, &sb);
    p->pos++;
    for (;;) {
        int c = peek(p, 0), rc;
        if (c < 0)
            return fail(p, start, "unterminated string");
        if (c == '"') {
            p->pos++;
            sb_commit(p, &sb, off, len);
            return 0;
        }
        if (c == '\\') {
            if ((rc = escape(p, &sb)))
                return rc;
            continue;
        }
        if (c == '\n' || c == '\r')
            return fail(p, p->pos, "newline in a one-line string");
        if (is_control(c))
            return fail(p, p->pos, "control character in a string");
        if (sb_byte(&sb, c))
            return nomem(p, p->pos);
        p->pos++;
    }
}

/* parse_literal: a one-line 'literal string' at the cursor. 0, -EINVAL or
 * -ENOMEM. */
static int parse_literal(struct parser *p, uint32_t *off, uint32_t *len)
{
    size_t start = p->pos;
    struct sbuf sb;
    sb_begin(p, &sb);
    p->pos++;
    for (;;) {
        int c = peek(p, 0);
        if (c < 0)
            return fail(p, start, "unterminated string");
        if (c == '\'') {
            p->pos++;
            sb_commit(p, &sb, off, len);
            return 0;
        }
        if (c == '\n' || c == '\r')
            return fail(p, p->pos, "newline in a one-line string");
        if (is_control(c))
            return fail(p, p->pos, "control character in a string");
        if (sb_byte(&sb, c))
            return nomem(p, p->pos);
        p->pos++;
    }
}

/* parse_multi: a multi-line string at the cursor (three quotes q, '"' for
 * basic with escapes, '\'' for literal). A newline right after the opening
 * quotes is dropped, CRLF becomes LF, up to two quotes may end the content
 * right before the closing three. 0, -EINVAL or -ENOMEM. */
static int parse_multi(struct parser *p, int q, uint32_t *off, uint32_t *len)
{
    size_t start = p->pos, k;
    struct sbuf sb;
    sb_begin(p, &sb);
    p->pos += 3;
    p->pos += newline_len(p);
    for (;;) {
        int c = peek(p, 0), rc;
        if (c < 0)
            return fail(p, start, "unterminated multi-line string");
        if (c == q) {
            size_t run = 0;
            while (peek(p, run) == q)
                run++;
            if (run >= 3) {
                size_t extra = run - 3 > 2 ? 2 : run - 3;
                for (k = 0; k < extra; k++)
                    if (sb_byte(&sb, q))
                        return nomem(p, p->pos);
                p->pos += 3 + extra;
                sb_commit(p, &sb, off, len);
                return 0;
            }
            for (k = 0; k < run; k++)
                if (sb_byte(&sb, q))
                    return nomem(p, p->pos);
            p->pos += run;
            continue;
        }
        if (c == '\\' && q == '"') {
            int c1 = peek(p, 1);
            if (c1 == ' ' || c1 == '\t' || c1 == '\n' || c1 == '\r') {
                /* line-ending backslash: blanks, a newline, then every
                 * blank and newline up to the next other character */
                size_t at = p->pos;
                p->pos++;
                skip_ws(p);
                if (!newline_len(p))
                    return fail(p, at, "a backslash followed by blanks must end the line");
                for (;;) {
                    skip_ws(p);
                    k = newline_len(p);
                    if (!k)
                        break;
                    p->pos += k;
                }
                continue;
            }
            if ((rc = escape(p, &sb)))
                return rc;
            continue;
        }
        k = newline_len(p);
        if (k) {
            if (sb_byte(&sb, '\n'))
                return nomem(p, p->pos);
            p->pos += k;
            continue;
        }
        if (c == '\r')
            return fail(p, p->pos, "carriage return not followed by a line feed");
        if (is_control(c))
            return fail(p, p->pos, "control character in a string");
        if (sb_byte(&sb, c))
            return nomem(p, p->pos);
        p->pos++;
    }
}

/* parse_string: any string at the cursor (which is at ' or "). */
static int parse_string(struct parser *p, uint32_t *off, uint32_t *len)
{
    int q = peek(p, 0);
    if (peek(p, 1) == q && peek(p, 2) == q)
        return parse_multi(p, q, off, len);
    return q == '"' ? parse_basic(p, off, len) : parse_literal(p, off, len);
}

/* --------------------------------------------------------------- keys ---- */

/* parse_simple_key: one key segment at the cursor (bare, "basic" or
 * 'literal'), stored in the arena. 0, -EINVAL or -ENOMEM. */
static int parse_simple_key(struct parser *p, uint32_t *off, uint32_t *len)
{
    int c = peek(p, 0);
    size_t start = p->pos;
    struct sbuf sb;

    if (c == '"' || c == '\'') {
        if (peek(p, 1) == c && peek(p, 2) == c)
            return fail(p, start, "a multi-line string cannot be a key");
        return c == '"' ? parse_basic(p, off, len) : parse_literal(p, off, len);
    }
    while (p->pos < p->len && is_bare(p->s[p->pos]))
        p->pos++;
    if (p->pos == start) {
        if (c < 0 || c == '\n' || c == '\r' || c == '#')
            return fail(p, start, "expected a key");
        if (c == '=')
            return fail(p, start, "missing key before '='");
        return fail(p, start, "invalid character in a bare key");
    }
    sb_begin(p, &sb);
    if (sb_put(&sb, p->s + start, p->pos - start))
        return nomem(p, start);
    sb_commit(p, &sb, off, len);
    return 0;
}

/* find_child: the member of table t with key arena[off..off+len), or NONE. */
static uint32_t find_child(struct parser *p, uint32_t t, uint32_t off, uint32_t len)
{
    uint32_t c;
    const char *k = p->mem + off;
    for (c = node_at(p, t)->first; c != NONE; c = node_at(p, c)->next) {
        const node_t *n = node_at(p, c);
        if (n->key_len == len && memcmp(p->mem + n->key, k, len) == 0)
            return c;
    }
    return NONE;
}

/* ------------------------------------------------------------- values ---- */

static int parse_value(struct parser *p, uint32_t parent, uint32_t key, uint32_t key_len, size_t at);
static int parse_keyval(struct parser *p, uint32_t t);

/* Exact decimal to binary64 conversion, after the "decimal" fallback of Go's
 * strconv: the number is held as decimal digits and shifted by powers of
 * two until it lies in [0.5, 1); then 53 bits are extracted and rounded
 * half to even. Correct for every input: digits past DEC_DIGITS only matter
 * as "something nonzero follows" (trunc), which is enough to break ties. */
#define DEC_DIGITS 800
#define DEC_MAX_SHIFT 60

struct decimal {
    uint8_t d[DEC_DIGITS]; /* digit values, most significant first */
    int nd;                /* digits in use */
    int dp;                /* value = 0.d[0..nd) * 10^dp */
    int trunc;             /* nonzero digits were dropped past the end */
};

/* dec_trim: drop trailing zero digits. */
static void dec_trim(struct decimal *a)
{
    while (a->nd > 0 && a->d[a->nd - 1] == 0)
        a->nd--;
    if (a->nd == 0)
        a->dp = 0;
}

/* dec_right_shift: a /= 2^k, 0 < k <= DEC_MAX_SHIFT. */
static void dec_right_shift(struct decimal *a, unsigned k)
{
    int r = 0, w = 0;
    uint64_t n = 0, mask = ((uint64_t)1 << k) - 1;

    for (; (n >> k) == 0; r++) {
        if (r >= a->nd) {
            if (n == 0) {
                a->nd = 0;
                a->dp = 0;
                return;
            }
            while ((n >> k) == 0) {
                n *= 10;
                r++;
            }
            break;
        }
        n = n * 10 + a->d[r];
    }
    a->dp -= r - 1;
    for (; r < a->nd; r++) {
        uint64_t c = a->d[r];
        a->d[w++] = (uint8_t)(n >> k);
        n &= mask;
        n = n * 10 + c;
    }
    while (n > 0) {
        uint64_t dig = n >> k;
        n &= mask;
        if (w < DEC_DIGITS)
            a->d[w++] = (uint8_t)dig;
        else if (dig > 0)
            a->trunc = 1;
        n *= 10;
    }
    a->nd = w;
    dec_trim(a);
}

/* dec_left_shift: a *= 2^k, 0 < k <= DEC_MAX_SHIFT. */
static void dec_left_shift(struct decimal *a, unsigned k)
{
    uint8_t tmp[DEC_DIGITS + 24];
    int w = (int)sizeof(tmp), total, keep, i;
    uint64_t n = 0;

    for (i = a->nd - 1; i >= 0; i--) {
        uint64_t q;
        n += (uint64_t)a->d[i] << k;
        q = n / 10;
        tmp[--w] = (uint8_t)(n - 10 * q);
        n = q;
    }
    while (n > 0) {
        uint64_t q = n / 10;
        tmp[--w] = (uint8_t)(n - 10 * q);
        n = q;
    }
    total = (int)sizeof(tmp) - w;
    keep = total > DEC_DIGITS ? DEC_DIGITS : total;
    for (i = keep; i < total; i++)
        if (tmp[w + i])
            a->trunc = 1;
    memcpy(a->d, tmp + w, (size_t)keep);
    a->dp += total - a->nd;
    a->nd = keep;
    dec_trim(a);
}

/* dec_shift: a *= 2^k (k may be negative). */
static void dec_shift(struct decimal *a, int k)
{
    if (a->nd == 0)
        return;
    while (k > DEC_MAX_SHIFT) {
        dec_left_shift(a, DEC_MAX_SHIFT);
        k -= DEC_MAX_SHIFT;
    }
    if (k > 0)
        dec_left_shift(a, (unsigned)k);
    while (k < -DEC_MAX_SHIFT) {
        dec_right_shift(a, DEC_MAX_SHIFT);
        k += DEC_MAX_SHIFT;
    }
    if (k < 0)
        dec_right_shift(a, (unsigned)-k);
}

/* dec_round_up: whether rounding a to nd digits goes up (half to even,
 * a truncated tail counting as above half). */
static int dec_round_up(const struct decimal *a, int nd)
{
    if (nd < 0 || nd >= a->nd)
        return 0;
    if (a->d[nd] == 5 && nd + 1 == a->nd) {
        if (a->trunc)
            return 1;
        return nd > 0 && a->d[nd - 1] % 2 == 1;
    }
    return a->d[nd] >= 5;
}

/* dec_rounded_integer: a rounded to an integer (a < 2^64 assumed). */
static uint64_t dec_rounded_integer(const struct decimal *a)
{
    uint64_t n = 0;
    int i;
    if (a->dp > 20)
        return UINT64_MAX;
    for (i = 0; i < a->dp && i < a->nd; i++)
        n = n * 10 + a->d[i];
    for (; i < a->dp; i++)
        n *= 10;
    if (dec_round_up(a, a->dp))
        n++;
    return n;
}

/* dec_to_double: the binary64 nearest to a (consumed); *overflow set when
 * it is too large. */
static double dec_to_double(struct decimal *a, int neg, int *overflow)
{
    static const int powtab[] = {1, 3, 6, 9, 13, 16, 19, 23, 26};
    const int bias = -1023, mantbits = 52, expbits = 11;
    uint64_t mant = 0, bits;
    int exp = 0;
    double f;

    *overflow = 0;
    if (a->nd == 0 || a->dp < -330) {
        exp = bias;
        goto out;
    }
    if (a->dp > 310)
        goto over;
    while (a->dp > 0) {
        int n = a->dp >= 9 ? 27 : powtab[a->dp];
        dec_shift(a, -n);
        exp += n;
    }
    while (a->dp < 0 || (a->dp == 0 && a->d[0] < 5)) {
        int n = -a->dp >= 9 ? 27 : powtab[-a->dp];
        dec_shift(a, n);
        exp -= n;
    }
    exp--; /* [0.5, 1) -> [1, 2) */
    if (exp < bias + 1) {
        dec_shift(a, -(bias + 1 - exp));
        exp = bias + 1;
    }
    if (exp - bias >= (1 << expbits) - 1)
        goto over;
    dec_shift(a, 1 + mantbits);
    mant = dec_rounded_integer(a);
    if (mant == (uint64_t)2 << mantbits) {
        mant >>= 1;
        exp++;
        if (exp - bias >= (1 << expbits) - 1)
            goto over;
    }
    if ((mant & ((uint64_t)1 << mantbits)) == 0)
        exp = bias; /* subnormal */
    goto out;
over:
    *overflow = 1;
    mant = 0;
    exp = (1 << expbits) - 1 + bias;
out:
    bits = mant & (((uint64_t)1 << mantbits) - 1);
    bits |= (uint64_t)((exp - bias) & ((1 << expbits) - 1)) << mantbits;
    if (neg)
        bits |= (uint64_t)1 << 63;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

/* dec_digit: append decimal digit v of the integer part (int_part set) or
 * of the fraction. */
static void dec_digit(struct decimal *a, int v, int int_part)
{
    if (a->nd == 0 && v == 0) {
        if (!int_part)
            a->dp--; /* 0.00x: leading zeros of the fraction */
        return;
    }
    if (a->nd < DEC_DIGITS)
        a->d[a->nd++] = (uint8_t)v;
    else if (v)
        a->trunc = 1;
    if (int_part)
        a->dp++;
}

/* scan_digits: DIGIT *( DIGIT / "_" DIGIT ) from t[*j..n); advances *j past
 * them. 0, or -1 when there is no digit at *j. */
static int scan_digits(const unsigned char *t, size_t n, size_t *j)
{
    size_t k = *j;
    if (k >= n || !is_digit(t[k]))
        return -1;
    while (k < n) {
        if (is_digit(t[k]))
            k++;
        else if (t[k] == '_' && k + 1 < n && is_digit(t[k + 1]))
            k++;
        else
            break;
    }
    *j = k;
    return 0;
}

/* parse_number: the integer or float token t[0..n) starting at byte offset
 * at into node v (type set). 0 or -EINVAL. */
static int parse_number(struct parser *p, const unsigned char *t, size_t n, size_t at, node_t *v)
{
    size_t i = 0, j, ie, fs = 0, fe = 0, es = 0, ee = 0;
    int neg = 0, sign = 0;

    if (t[0] == '+' || t[0] == '-') {
        sign = 1;
        neg = t[0] == '-';
        i = 1;
    }
    if (n - i == 3 && (memcmp(t + i, "inf", 3) == 0 || memcmp(t + i, "nan", 3) == 0)) {
        v->type = SHIM_TOML_FLOAT;
        v->v.f = t[i] == 'i' ? __builtin_inf() : __builtin_nan("");
        if (neg)
            v->v.f = -v->v.f;
        return 0;
    }
    if (n - i >= 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'o' || t[i + 1] == 'b')) {
        unsigned base = t[i + 1] == 'x' ? 16 : t[i + 1] == 'o' ? 8 : 2;
        uint64_t acc = 0;
        int prev_digit = 0;
        if (sign)
            return fail(p, at, "hexadecimal, octal and binary integers take no sign");
        if (n == 2)
            return fail(p, at, "missing digits after the base prefix");
        for (j = 2; j < n; j++) {
            int d = hex_val(t[j]);
            if (t[j] == '_') {
                if (!prev_digit || j + 1 >= n || hex_val(t[j + 1]) < 0 || (unsigned)hex_val(t[j + 1]) >= base)
                    return fail(p, at, "underscores must sit between digits");
                prev_digit = 0;
                continue;
            }
            if (d < 0 || (unsigned)d >= base)
                return fail(p, at, base == 16 ? "invalid hexadecimal integer"
                                   : base == 8 ? "invalid octal integer" : "invalid binary integer");
            if (acc > ((uint64_t)INT64_MAX - (unsigned)d) / base)
                return fail(p, at, "integer out of range");
            acc = acc * base + (unsigned)d;
            prev_digit = 1;
        }
        v->type = SHIM_TOML_INTEGER;
        v->v.i = (int64_t)acc;
        return 0;
    }
    /* decimal: int part, then .frac and/or exponent for a float */
    j = i;
    if (scan_digits(t, n, &j) < 0)
        return fail(p, at, "invalid value");
    ie = j;
    if (t[i] == '0' && ie - i > 1)
        return fail(p, at, "leading zeros are not allowed");
    if (j < n && t[j] == '.') {
        fs = ++j;
        if (scan_digits(t, n, &j) < 0)
            return fail(p, at, "a decimal point needs digits on both sides");
        fe = j;
    }
    if (j < n && (t[j] == 'e' || t[j] == 'E')) {
        j++;
        if (j < n && (t[j] == '+' || t[j] == '-'))
            j++;
        es = j;
        if (scan_digits(t, n, &j) < 0)
            return fail(p, at, "an exponent needs digits");
        ee = j;
    }
    if (j != n)
        return fail(p, at, "invalid number");
    if (!fs && !es) {
        uint64_t acc = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (j = i; j < ie; j++) {
            unsigned d;
            if (t[j] == '_')
                continue;
            d = (unsigned)(t[j] - '0');
            if (acc > (lim - d) / 10)
                return fail(p, at, "integer out of range");
            acc = acc * 10 + d;
        }
        v->type = SHIM_TOML_INTEGER;
        v->v.i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
        return 0;
    } else {
        struct decimal dec;
        long e = 0;
        int overflow;
        dec.nd = dec.dp = dec.trunc = 0;
        for (j = i; j < ie; j++)
            if (t[j] != '_')
                dec_digit(&dec, t[j] - '0', 1);
        for (j = fs; fs && j < fe; j++)
            if (t[j] != '_')
                dec_digit(&dec, t[j] - '0', 0);
        for (j = es; es && j < ee; j++)
            if (t[j] != '_' && e < 100000)
                e = e * 10 + (t[j] - '0');
        if (es && t[es - 1] == '-')
            e = -e;
        dec_trim(&dec);
        if (dec.nd) {
            long dp = (long)dec.dp + e;
            dec.dp = dp > 100000 ? 100000 : dp < -100000 ? -100000 : (int)dp;
        }
        v->type = SHIM_TOML_FLOAT;
        v->v.f = dec_to_double(&dec, neg, &overflow);
        if (overflow)
            return fail(p, at, "float out of range");
        return 0;
    }
}

/* two_digits: the value of two decimal digits at t, or -1. */
static int two_digits(const unsigned char *t)
{
    if (!is_digit(t[0]) || !is_digit(t[1]))
        return -1;
    return (t[0] - '0') * 10 + (t[1] - '0');
}

/* parse_time: "HH:MM:SS[.frac]" at the start of t[0..n); returns the bytes
 * used, or 0 when it is not a valid time. */
static size_t parse_time(const unsigned char *t, size_t n)
{
    size_t k = 8;
    if (n < 8 || t[2] != ':' || t[5] != ':')
        return 0;
    if (two_digits(t) < 0 || two_digits(t) > 23 || two_digits(t + 3) < 0 || two_digits(t + 3) > 59 ||
        two_digits(t + 6) < 0 || two_digits(t + 6) > 60)
        return 0;
    if (k < n && t[k] == '.') {
        k++;
        if (k >= n || !is_digit(t[k]))
            return 0;
        while (k < n && is_digit(t[k]))
            k++;
    }
    return k;
}

/* is_leap: Gregorian leap year. */
static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* parse_datetime: the date/time token t[0..n) (a space may separate date and
 * time) at byte offset at into node v: type set, normalised text stored.
 * 0, -EINVAL or -ENOMEM. */
static int parse_datetime(struct parser *p, const unsigned char *t, size_t n, size_t at, node_t *v)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct sbuf sb;
    size_t k;
    int type;

    sb_begin(p, &sb);
    if (n >= 3 && t[2] == ':') {
        k = parse_time(t, n);
        if (!k || k != n)
            return fail(p, at, "invalid local time");
        type = SHIM_TOML_TIME_LOCAL;
        if (sb_put(&sb, t, n))
            return nomem(p, at);
    } else {
        int y, m, d;
        if (n < 10 || t[4] != '-' || t[7] != '-' || two_digits(t) < 0 || two_digits(t + 2) < 0)
            return fail(p, at, "invalid date");
        y = two_digits(t) * 100 + two_digits(t + 2);
        m = two_digits(t + 5);
        d = two_digits(t + 8);
        if (m < 1 || m > 12)
            return fail(p, at, "invalid month");
        if (d < 1 || d > mdays[m - 1] + (m == 2 && is_leap(y)))
            return fail(p, at, "invalid day of the month");
        if (sb_put(&sb, t, 10))
            return nomem(p, at);
        if (n == 10) {
            type = SHIM_TOML_DATE_LOCAL;
        } else {
            if (t[10] != 'T' && t[10] != 't' && t[10] != ' ')
                return fail(p, at, "invalid date-time");
            k = parse_time(t + 11, n - 11);
            if (!k)
                return fail(p, at, "invalid time in a date-time");
            if (sb_byte(&sb, 'T') || sb_put(&sb, t + 11, k))
                return nomem(p, at);
            k += 11;
            if (k == n) {
                type = SHIM_TOML_DATETIME_LOCAL;
            } else if (k + 1 == n && (t[k] == 'Z' || t[k] == 'z')) {
                type = SHIM_TOML_DATETIME;
                if (sb_byte(&sb, 'Z'))
                    return nomem(p, at);
            } else if (k + 6 == n && (t[k] == '+' || t[k] == '-') && t[k + 3] == ':' &&
                       two_digits(t + k + 1) >= 0 && two_digits(t + k + 1) <= 23 && two_digits(t + k + 4) >= 0 &&
                       two_digits(t + k + 4) <= 59) {
                type = SHIM_TOML_DATETIME;
                if (sb_put(&sb, t + k, 6))
                    return nomem(p, at);
            } else {
                return fail(p, at, "invalid time offset in a date-time");
            }
        }
    }
    v->type = (uint8_t)type;
    sb_commit(p, &sb, &v->v.s.off, &v->v.s.len);
    return 0;
}

/* is_token: characters of unquoted scalars (numbers, booleans, dates). */
static int is_token(int c)
{
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* parse_scalar: a boolean, number or date/time at the cursor, stored as a
 * member `key` of parent (or an element when parent is an array). */
static int parse_scalar(struct parser *p, uint32_t parent, uint32_t key, uint32_t key_len, size_t at)
{
    size_t start = p->pos, n;
    const unsigned char *t = p->s + start;
    node_t v;
    uint32_t idx;
    int rc;

    while (p->pos < p->len && is_token(p->s[p->pos]))
        p->pos++;
    n = p->pos - start;
    if (n == 0)
        return fail(p, start, "expected a value");
    memset(&v, 0, sizeof(v));
    /* a date followed by a space and a time is one date-time */
    if (n == 10 && t[4] == '-' && peek(p, 0) == ' ' && is_digit(peek(p, 1)) && is_digit(peek(p, 2)) &&
        peek(p, 3) == ':') {
        p->pos++;
        while (p->pos < p->len && is_token(p->s[p->pos]))
            p->pos++;
        n = p->pos - start;
    }
    if (n == 4 && memcmp(t, "true", 4) == 0) {
        v.type = SHIM_TOML_BOOL;
        v.v.b = 1;
    } else if (n == 5 && memcmp(t, "false", 5) == 0) {
        v.type = SHIM_TOML_BOOL;
        v.v.b = 0;
    } else if ((n >= 5 && is_digit(t[0]) && is_digit(t[1]) && is_digit(t[2]) && is_digit(t[3]) && t[4] == '-') ||
               (n >= 3 && is_digit(t[0]) && is_digit(t[1]) && t[2] == ':')) {
        rc = parse_datetime(p, t, n, start, &v);
        if (rc)
            return rc;
    } else if (is_digit(t[0]) || t[0] == '+' || t[0] == '-' || t[0] == 'i' || t[0] == 'n') {
        rc = parse_number(p, t, n, start, &v);
        if (rc)
            return rc;
    } else {
        return fail(p, start, "invalid value");
    }
    rc = new_node(p, parent, v.type, 0, key, key_len, at, &idx);
    if (rc)
        return rc;
    node_at(p, idx)->v = v.v;
    return 0;
}

/* skip_array_space: blanks, newlines and comments inside an array. */
static int skip_array_space(struct parser *p)
{
    for (;;) {
        size_t k;
        int rc;
        skip_ws(p);
        if (p->pos >= p->len)
            return 0;
        if (p->s[p->pos] == '#') {
            if ((rc = skip_comment(p)))
                return rc;
            continue;
        }
        k = newline_len(p);
        if (!k) {
            if (p->s[p->pos] == '\r')
                return fail(p, p->pos, "carriage return not followed by a line feed");
            return 0;
        }
        p->pos += k;
    }
}

/* parse_array: the array at the cursor ('[') into node a. */
static int parse_array(struct parser *p, uint32_t a)
{
    size_t start = p->pos;
    int rc;
    p->pos++;
    for (;;) {
        if ((rc = skip_array_space(p)))
            return rc;
        if (p->pos >= p->len)
            return fail(p, start, "unterminated array");
        if (p->s[p->pos] == ']') {
            p->pos++;
            break;
        }
        if ((rc = parse_value(p, a, 0, 0, p->pos)))
            return rc;
        if ((rc = skip_array_space(p)))
            return rc;
        if (p->pos >= p->len)
            return fail(p, start, "unterminated array");
        if (p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->s[p->pos] == ']') {
            p->pos++;
            break;
        }
        return fail(p, p->pos, "expected ',' or ']' after an array element");
    }
    node_at(p, a)->flags |= SHIM_TOML_F_INLINE;
    return 0;
}

/* parse_inline_table: the inline table at the cursor ('{') into node t. */
static int parse_inline_table(struct parser *p, uint32_t t)
{
    size_t start = p->pos;
    int rc;
    p->pos++;
    skip_ws(p);
    if (peek(p, 0) == '}') {
        p->pos++;
        goto done;
    }
    for (;;) {
        if (newline_len(p) || peek(p, 0) == '\r')
            return fail(p, p->pos, "newline in an inline table");
        if ((rc = parse_keyval(p, t)))
            return rc;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, start, "unterminated inline table");
        if (p->s[p->pos] == ',') {
            size_t comma = p->pos++;
            skip_ws(p);
            if (peek(p, 0) == '}')
                return fail(p, comma, "trailing comma in an inline table");
            continue;
        }
        if (p->s[p->pos] == '}') {
            p->pos++;
            break;
        }
        if (newline_len(p) || p->s[p->pos] == '\r')
            return fail(p, p->pos, "newline in an inline table");
        return fail(p, p->pos, "expected ',' or '}' in an inline table");
    }
done:
    node_at(p, t)->flags |= SHIM_TOML_F_INLINE;
    return 0;
}

/* parse_value: the value at the cursor, stored as member `key` of parent
 * (key_len 0 and parent an array: as its next element); at is the byte
 * offset its line and column come from. 0, -EINVAL or -ENOMEM. */
static int parse_value(struct parser *p, uint32_t parent, uint32_t key, uint32_t key_len, size_t at)
{
    int c = peek(p, 0), rc;
    uint32_t idx, off, len;

    switch (c) {
    case '"':
    case '\'':
        if ((rc = parse_string(p, &off, &len)))
            return rc;
        if ((rc = new_node(p, parent, SHIM_TOML_STRING, 0, key, key_len, at, &idx)))
            return rc;
        node_at(p, idx)->v.s.off = off;
        node_at(p, idx)->v.s.len = len;
        return 0;
    case '[':
    case '{':
        if (p->depth >= SHIM_TOML_MAX_DEPTH)
            return fail(p, p->pos, "arrays and inline tables nested too deep");
        rc = new_node(p, parent, c == '[' ? SHIM_TOML_ARRAY : SHIM_TOML_TABLE, 0, key, key_len, at, &idx);
        if (rc)
            return rc;
        p->depth++;
        rc = c == '[' ? parse_array(p, idx) : parse_inline_table(p, idx);
        p->depth--;
        return rc;
    case -1:
    case '\n':
    case '\r':
    case '#':
    case ',':
    case ']':
    case '}':
        return fail(p, p->pos, "expected a value");
    default:
        return parse_scalar(p, parent, key, key_len, at);
    }
}

/* parse_keyval: key = value at the cursor, into table t (following and
 * making the tables of a dotted key). 0, -EINVAL or -ENOMEM. */
static int parse_keyval(struct parser *p, uint32_t t)
{
    for (;;) {
        size_t seg_at = p->pos, saved_top = p->doc->top;
        uint32_t off, len, child;
        int rc;

        if ((rc = parse_simple_key(p, &off, &len)))
            return rc;
        skip_ws(p);
        child = find_child(p, t, off, len);
        if (peek(p, 0) == '.') {
            p->pos++;
            skip_ws(p);
            if (child == NONE) {
                rc = new_node(p, t, SHIM_TOML_TABLE, SHIM_TOML_F_DOTTED, off, len, seg_at, &child);
                if (rc)
                    return rc;
            } else {
                node_t *c = node_at(p, child);
                p->doc->top = saved_top; /* the key is stored already */
                if (c->type != SHIM_TOML_TABLE)
                    return fail(p, seg_at, c->type == SHIM_TOML_ARRAY ? "dotted keys cannot add to an array"
                                                                      : "key already has a value");
                if (c->flags & SHIM_TOML_F_INLINE)
                    return fail(p, seg_at, "an inline table cannot be extended");
                if (c->flags & SHIM_TOML_F_HEADER)
                    return fail(p, seg_at, "dotted keys cannot add to a table defined by a [header]");
                /* a parent made by a header ([x.y.z], then y.k = 1 in
                 * [x]) is defined by the dotted key from now on */
                c->flags = (uint8_t)((c->flags & ~SHIM_TOML_F_IMPLICIT) | SHIM_TOML_F_DOTTED);
            }
            t = child;
            continue;
        }
        if (child != NONE)
            return fail(p, seg_at, "key defined twice");
        if (peek(p, 0) != '=') {
            if (p->pos >= p->len || newline_len(p) || peek(p, 0) == '#')
                return fail(p, p->pos, "expected '=' after the key");
            return fail(p, p->pos, "expected '.' or '=' after the key");
        }
        p->pos++;
        skip_ws(p);
        return parse_value(p, t, off, len, seg_at);
    }
}

/* parse_header: a [table] or [[array of tables]] header at the cursor;
 * makes its table the current one. 0, -EINVAL or -ENOMEM. */
static int parse_header(struct parser *p)
{
    int aot = peek(p, 1) == '[';
    uint32_t t = 0;

    p->pos += aot ? 2 : 1;
    skip_ws(p);
    for (;;) {
        size_t seg_at = p->pos, saved_top = p->doc->top;
        uint32_t off, len, child, idx;
        int rc;
        node_t *c;

        if ((rc = parse_simple_key(p, &off, &len)))
            return rc;
        skip_ws(p);
        child = find_child(p, t, off, len);
        if (peek(p, 0) == '.') {
            p->pos++;
            skip_ws(p);
            if (child == NONE) {
                rc = new_node(p, t, SHIM_TOML_TABLE, SHIM_TOML_F_IMPLICIT, off, len, seg_at, &child);
                if (rc)
                    return rc;
                t = child;
                continue;
            }
            p->doc->top = saved_top;
            c = node_at(p, child);
            if (c->type == SHIM_TOML_TABLE) {
                if (c->flags & SHIM_TOML_F_INLINE)
                    return fail(p, seg_at, "an inline table cannot be extended");
                t = child;
            } else if (c->type == SHIM_TOML_ARRAY) {
                if (!(c->flags & SHIM_TOML_F_AOT))
                    return fail(p, seg_at, "an array value cannot be extended");
                t = c->last; /* the latest table of the array (never empty) */
            } else {
                return fail(p, seg_at, "key already has a value");
            }
            continue;
        }
        if (peek(p, 0) != ']')
            return fail(p, p->pos, aot ? "expected ']]' after the table name" : "expected ']' after the table name");
        p->pos++;
        if (aot) {
            if (peek(p, 0) != ']')
                return fail(p, p->pos, "expected ']]' after the table name");
            p->pos++;
            if (child == NONE) {
                rc = new_node(p, t, SHIM_TOML_ARRAY, SHIM_TOML_F_AOT, off, len, seg_at, &child);
                if (rc)
                    return rc;
            } else {
                p->doc->top = saved_top;
                c = node_at(p, child);
                if (c->type != SHIM_TOML_ARRAY || !(c->flags & SHIM_TOML_F_AOT))
                    return fail(p, seg_at, c->type == SHIM_TOML_ARRAY ? "an array value cannot be extended"
                                                                      : "key already defined as something else");
            }
            rc = new_node(p, child, SHIM_TOML_TABLE, SHIM_TOML_F_HEADER, 0, 0, seg_at, &idx);
            if (rc)
                return rc;
            p->cur = idx;
        } else {
            if (child == NONE) {
                rc = new_node(p, t, SHIM_TOML_TABLE, SHIM_TOML_F_HEADER, off, len, seg_at, &child);
                if (rc)
                    return rc;
            } else {
                p->doc->top = saved_top;
                c = node_at(p, child);
                if (c->type != SHIM_TOML_TABLE)
                    return fail(p, seg_at, c->type == SHIM_TOML_ARRAY && (c->flags & SHIM_TOML_F_AOT)
                                               ? "table already defined as an array of tables"
                                               : "key already has a value");
                if (c->flags & SHIM_TOML_F_INLINE)
                    return fail(p, seg_at, "an inline table cannot be extended");
                if (c->flags & SHIM_TOML_F_HEADER)
                    return fail(p, seg_at, "table defined twice");
                if (c->flags & SHIM_TOML_F_DOTTED)
                    return fail(p, seg_at, "table already defined by dotted keys");
                c->flags = (uint8_t)((c->flags & ~SHIM_TOML_F_IMPLICIT) | SHIM_TOML_F_HEADER);
                locate(p, seg_at, &c->line, &c->col);
            }
            p->cur = child;
        }
        return 0;
    }
}

/* parse_document: the whole input. 0, -EINVAL or -ENOMEM. */
static int parse_document(struct parser *p)
{
    for (;;) {
        int rc, c;
        size_t k;
        skip_ws(p);
        if (p->pos >= p->len)
            return 0;
        c = p->s[p->pos];
        if (c == '#') {
            if ((rc = skip_comment(p)))
                return rc;
            continue;
        }
        k = newline_len(p);
        if (k) {
            p->pos += k;
            continue;
        }
        if (c == '\r')
            return fail(p, p->pos, "carriage return not followed by a line feed");
        if (c == '[') {
            if ((rc = parse_header(p)) || (rc = end_line(p, "expected a newline after the table header")))
                return rc;
        } else {
            if ((rc = parse_keyval(p, p->cur)) || (rc = end_line(p, "expected a newline after the value")))
                return rc;
        }
    }
}

int shim_toml_parse(struct shim_toml_doc *doc, void *mem, size_t memsize, const void *src, size_t len)
{
    struct parser p;
    uintptr_t base = (uintptr_t)mem, aligned = (base + 7) & ~(uintptr_t)7;
    size_t bad;
    uint32_t root;
    int rc;

    memset(doc, 0, sizeof(*doc));
    memset(&p, 0, sizeof(p));
    p.doc = doc;
    p.s = src;
    p.len = len;
    p.lc_line = p.lc_col = 1;
    if (memsize < aligned - base)
        memsize = aligned - base;
    memsize -= aligned - base;
    if (memsize > 0x7fffffff)
        memsize = 0x7fffffff;
    p.mem = (char *)aligned;
    doc->nodes = (node_t *)aligned;
    doc->arena = p.mem;
    doc->size = doc->top = memsize;
    if (len > 0x7fffffff) {
        doc->err.line = doc->err.col = 1;
        doc->err.msg = "document too large";
        return -ENOMEM;
    }
    if (len >= 3 && p.s[0] == 0xEF && p.s[1] == 0xBB && p.s[2] == 0xBF)
        p.pos = p.bom = p.lc_pos = 3;
    bad = utf8_check(p.s, len);
    if (bad < len)
        return fail(&p, bad, "invalid UTF-8");
    rc = new_node(&p, NONE, SHIM_TOML_TABLE, SHIM_TOML_F_HEADER, 0, 0, p.pos, &root);
    if (rc)
        return rc;
    p.cur = root;
    return parse_document(&p);
}

/* ------------------------------------------------------------ queries ---- */

/* node_ptr: index to pointer, NULL for NONE or out of range. */
static const node_t *node_ptr(const struct shim_toml_doc *doc, uint32_t i)
{
    return i < doc->n ? &doc->nodes[i] : NULL;
}

const struct shim_toml_node *shim_toml_root(const struct shim_toml_doc *doc)
{
    return node_ptr(doc, 0);
}

const struct shim_toml_node *shim_toml_first(const struct shim_toml_doc *doc, const struct shim_toml_node *n)
{
    return n ? node_ptr(doc, n->first) : NULL;
}

const struct shim_toml_node *shim_toml_next(const struct shim_toml_doc *doc, const struct shim_toml_node *n)
{
    return n ? node_ptr(doc, n->next) : NULL;
}

const struct shim_toml_node *shim_toml_parent(const struct shim_toml_doc *doc, const struct shim_toml_node *n)
{
    return n ? node_ptr(doc, n->parent) : NULL;
}

const struct shim_toml_node *shim_toml_child(const struct shim_toml_doc *doc, const struct shim_toml_node *t,
                                             const char *key, size_t len)
{
    const node_t *c;
    if (!t || t->type != SHIM_TOML_TABLE)
        return NULL;
    for (c = node_ptr(doc, t->first); c; c = node_ptr(doc, c->next))
        if (c->key_len == len && memcmp(doc->arena + c->key, key, len) == 0)
            return c;
    return NULL;
}

const struct shim_toml_node *shim_toml_get(const struct shim_toml_doc *doc, const struct shim_toml_node *from,
                                           const char *path)
{
    const node_t *n = from ? from : shim_toml_root(doc);
    const char *s = path;
    if (!*s)
        return n;
    while (n) {
        const char *dot = strchr(s, '.');
        size_t k = dot ? (size_t)(dot - s) : strlen(s);
        n = shim_toml_child(doc, n, s, k);
        if (!dot)
            return n;
        s = dot + 1;
    }
    return NULL;
}

const struct shim_toml_node *shim_toml_at(const struct shim_toml_doc *doc, const struct shim_toml_node *a,
                                          uint32_t i)
{
    const node_t *c;
    if (!a || a->type != SHIM_TOML_ARRAY || i >= a->count)
        return NULL;
    for (c = node_ptr(doc, a->first); c && c->index != i; c = node_ptr(doc, c->next))
        ;
    return c;
}

/* walk_next: the node after n in a pre-order walk of under's subtree,
 * entering tables only; NULL at the end. */
static const node_t *walk_next(const struct shim_toml_doc *doc, const node_t *under, const node_t *n)
{
    if (n->type == SHIM_TOML_TABLE && n->first != NONE)
        return node_ptr(doc, n->first);
    while (n && n != under) {
        if (n->next != NONE)
            return node_ptr(doc, n->next);
        n = node_ptr(doc, n->parent);
    }
    return NULL;
}

const struct shim_toml_node *shim_toml_next_leaf(const struct shim_toml_doc *doc, const struct shim_toml_node *under,
                                                 const struct shim_toml_node *prev)
{
    const node_t *n;
    if (!under || under->type != SHIM_TOML_TABLE)
        return NULL;
    n = prev ? walk_next(doc, under, prev) : node_ptr(doc, under->first);
    while (n && n->type == SHIM_TOML_TABLE && n->first != NONE)
        n = walk_next(doc, under, n);
    return n;
}

const char *shim_toml_key(const struct shim_toml_doc *doc, const struct shim_toml_node *n, size_t *len)
{
    const node_t *par = n ? node_ptr(doc, n->parent) : NULL;
    if (!par || par->type != SHIM_TOML_TABLE) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = n->key_len;
    return doc->arena + n->key;
}

const char *shim_toml_str(const struct shim_toml_doc *doc, const struct shim_toml_node *n, size_t *len)
{
    if (!n || (n->type != SHIM_TOML_STRING && (n->type < SHIM_TOML_DATETIME || n->type > SHIM_TOML_TIME_LOCAL)))
        return NULL;
    if (len)
        *len = n->v.s.len;
    return doc->arena + n->v.s.off;
}

/* seg_bare: whether key k[0..len) may be written bare. */
static int seg_bare(const char *k, size_t len)
{
    size_t i;
    if (len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if (!is_bare((unsigned char)k[i]))
            return 0;
    return 1;
}

/* seg_write: write n's path segment (without a leading '.') to out when out
 * is not NULL; returns its length either way. */
static size_t seg_write(const struct shim_toml_doc *doc, const node_t *n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const node_t *par = node_ptr(doc, n->parent);
    const char *key = doc->arena + n->key;
    char tmp[16];
    size_t len = 0, i;

    if (par && par->type == SHIM_TOML_ARRAY) {
        uint32_t v = n->index;
        int k = 0;
        tmp[k++] = ']';
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        tmp[k++] = '[';
        while (k > 0) {
            if (out)
                out[len] = tmp[k - 1];
            len++;
            k--;
        }
        return len;
    }
    if (seg_bare(key, n->key_len)) {
        if (out)
            memcpy(out, key, n->key_len);
        return n->key_len;
    }
#define PUT(c)                                                                 \
    do {                                                                       \
        if (out)                                                               \
            out[len] = (char)(c);                                              \
        len++;                                                                 \
    } while (0)
    PUT('"');
    for (i = 0; i < n->key_len; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c == '"' || c == '\\') {
            PUT('\\');
            PUT(c);
        } else if (is_control(c)) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[c >> 4]);
            PUT(hex[c & 15]);
        } else {
            PUT(c);
        }
    }
    PUT('"');
#undef PUT
    return len;
}

/* needs_dot: whether a '.' goes between m's segment and its parent's when
 * the path is relative to from. */
static int needs_dot(const struct shim_toml_doc *doc, const node_t *m, const node_t *from)
{
    const node_t *par = node_ptr(doc, m->parent);
    return par && par != from && par->parent != NONE && par->type != SHIM_TOML_ARRAY;
}

int shim_toml_path(const struct shim_toml_doc *doc, const struct shim_toml_node *n, const struct shim_toml_node *from,
                   char *buf, size_t size)
{
    const node_t *m;
    size_t total = 0, end;

    if (size)
        buf[0] = '\0';
    if (!n)
        return size ? 0 : -ENOSPC;
    /* pass 1: the length; pass 2: write from the end backwards */
    for (m = n; m && m != from && m->parent != NONE; m = node_ptr(doc, m->parent))
        total += seg_write(doc, m, NULL) + (size_t)needs_dot(doc, m, from);
    if (total >= size || total > 0x7fffffff)
        return -ENOSPC;
    end = total;
    buf[end] = '\0';
    for (m = n; m && m != from && m->parent != NONE; m = node_ptr(doc, m->parent)) {
        end -= seg_write(doc, m, NULL);
        seg_write(doc, m, buf + end);
        if (needs_dot(doc, m, from))
            buf[--end] = '.';
    }
    return (int)total;
}

const char *shim_toml_type_name(int type)
{
    static const char *const names[] = {"?", "table", "array", "string", "integer", "float", "bool",
                                        "datetime", "datetime-local", "date-local", "time-local"};
    if (type < 0 || (size_t)type >= sizeof(names) / sizeof(names[0]))
        return "?";
    return names[type];
}
