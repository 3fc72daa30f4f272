/*
 * test_toml.c - the TOML parser (shim/toml.c): the public toml-test
 * conformance suite and our own unit tests.
 *
 *   test_toml --unit      our unit tests (the default without arguments)
 *   test_toml --suite     every case of tests/files-toml-1.0.0 under
 *                         $TOML_TEST_DIR (the toml-test checkout)
 *   test_toml --decode    read TOML on stdin, print its tagged JSON form on
 *                         stdout (the toml-test decoder interface); exit 1
 *                         with the error on stderr when it is refused
 *   test_toml --compare X.toml X.json   one valid case, differences shown
 *
 * The suite runner parses each valid X.toml, prints the document in
 * toml-test's tagged JSON, reads that back and compares it structurally with
 * X.json (floats by value, integers exactly, date-times by their normalised
 * text: fraction trailing zeros dropped); each invalid X.toml must be
 * refused. A case the parser reports as unsupported (-EOPNOTSUPP; nothing
 * does today) is counted and listed, never passed.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/toml.h"
#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------- small helpers ---- */

/* read_file: the whole file (malloc'd, NUL added, *len set) or NULL. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            char *nb;
            cap = cap ? cap * 2 : 8192;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* parse_alloc: parse text[0..len) into doc with a fresh heap arena (*mem,
 * caller frees) sized for any document of that length. */
static int parse_alloc(struct shim_toml_doc *doc, void **mem, const char *text, size_t len)
{
    size_t size = len * 32 + 4096;
    *mem = malloc(size);
    if (!*mem)
        return -ENOMEM;
    return shim_toml_parse(doc, *mem, size, text, len);
}

/* ------------------------------------------------------ tagged JSON out ---- */

/* json_str: a JSON string literal of s[0..n) on f. */
static void json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* print_node: node n in tagged JSON on f. */
static void print_node(FILE *f, const struct shim_toml_doc *doc, const struct shim_toml_node *n)
{
    const struct shim_toml_node *c;
    size_t len;
    const char *s;
    char num[64];

    switch (n->type) {
    case SHIM_TOML_TABLE:
        fputc('{', f);
        for (c = shim_toml_first(doc, n); c; c = shim_toml_next(doc, c)) {
            s = shim_toml_key(doc, c, &len);
            json_str(f, s, len);
            fputc(':', f);
            print_node(f, doc, c);
            if (c->next != SHIM_TOML_NONE)
                fputc(',', f);
        }
        fputc('}', f);
        return;
    case SHIM_TOML_ARRAY:
        fputc('[', f);
        for (c = shim_toml_first(doc, n); c; c = shim_toml_next(doc, c)) {
            print_node(f, doc, c);
            if (c->next != SHIM_TOML_NONE)
                fputc(',', f);
        }
        fputc(']', f);
        return;
    case SHIM_TOML_INTEGER:
        snprintf(num, sizeof(num), "%lld", (long long)n->v.i);
        break;
    case SHIM_TOML_FLOAT:
        if (isnan(n->v.f))
            snprintf(num, sizeof(num), "nan");
        else if (isinf(n->v.f))
            snprintf(num, sizeof(num), "%sinf", n->v.f < 0 ? "-" : "");
        else
            snprintf(num, sizeof(num), "%.17g", n->v.f);
        break;
    case SHIM_TOML_BOOL:
        snprintf(num, sizeof(num), "%s", n->v.b ? "true" : "false");
        break;
    default:
        break;
    }
    fprintf(f, "{\"type\":\"%s\",\"value\":", shim_toml_type_name(n->type));
    s = shim_toml_str(doc, n, &len);
    if (s)
        json_str(f, s, len);
    else
        json_str(f, num, strlen(num));
    fputc('}', f);
}

/* to_json: the document as a malloc'd tagged JSON text. */
static char *to_json(const struct shim_toml_doc *doc)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    if (!f)
        return NULL;
    print_node(f, doc, shim_toml_root(doc));
    fclose(f);
    return out;
}

/* ------------------------------------------------------- JSON reader ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
    enum jtype t;
    char *s;            /* J_STR text, J_NUM spelling */
    size_t slen;
    size_t n;           /* J_ARR / J_OBJ: item count */
    char **keys;        /* J_OBJ */
    size_t *klens;
    struct jval **items;
};

struct jreader {
    const char *s;
    size_t len, pos;
    const char *err;
};

/* jfree: release v and everything below it. */
static void jfree(struct jval *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        jfree(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->klens);
    free(v->s);
    free(v);
}

/* jws: skip JSON whitespace. */
static void jws(struct jreader *r)
{
    while (r->pos < r->len && strchr(" \t\r\n", r->s[r->pos]) && r->s[r->pos])
        r->pos++;
}

/* jput_utf8: append code point cp to buf (growable). */
static void jput_utf8(char **buf, size_t *n, size_t *cap, uint32_t cp)
{
    if (*n + 5 > *cap) {
        *cap = *cap * 2 + 16;
        *buf = realloc(*buf, *cap);
    }
    char *b = *buf + *n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        *n += 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        *n += 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        *n += 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        *n += 4;
    }
}

/* jhex4: four hex digits at r->pos, or -1. */
static long jhex4(struct jreader *r)
{
    long v = 0;
    if (r->len - r->pos < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = r->s[r->pos + i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    r->pos += 4;
    return v;
}

/* jstring: a JSON string at r->pos into *out (malloc'd), *olen. 0 or -1. */
static int jstring(struct jreader *r, char **out, size_t *olen)
{
    size_t n = 0, cap = 16;
    char *buf = malloc(cap);
    r->pos++;
    for (;;) {
        char c;
        if (r->pos >= r->len)
            goto bad;
        c = r->s[r->pos++];
        if (c == '"')
            break;
        if (c == '\\') {
            uint32_t cp;
            if (r->pos >= r->len)
                goto bad;
            c = r->s[r->pos++];
            switch (c) {
            case 'n': cp = '\n'; break;
            case 't': cp = '\t'; break;
            case 'r': cp = '\r'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case '/': cp = '/'; break;
            case '\\': cp = '\\'; break;
            case '"': cp = '"'; break;
            case 'u': {
                long h = jhex4(r);
                if (h < 0)
                    goto bad;
                cp = (uint32_t)h;
                if (cp >= 0xD800 && cp <= 0xDBFF && r->pos + 1 < r->len && r->s[r->pos] == '\\' &&
                    r->s[r->pos + 1] == 'u') {
                    long lo;
                    r->pos += 2;
                    lo = jhex4(r);
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        goto bad;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
                }
                break;
            }
            default:
                goto bad;
            }
            jput_utf8(&buf, &n, &cap, cp);
            continue;
        }
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        buf[n++] = c;
    }
    buf = realloc(buf, n + 1);
    buf[n] = '\0';
    *out = buf;
    *olen = n;
    return 0;
bad:
    free(buf);
    r->err = "bad string";
    return -1;
}

/* jvalue: one JSON value at r->pos (depth-limited), or NULL with r->err. */
static struct jval *jvalue(struct jreader *r, int depth)
{
    struct jval *v;
    char c;
    jws(r);
    if (r->pos >= r->len || depth > 200) {
        r->err = "unexpected end or too deep";
        return NULL;
    }
    v = calloc(1, sizeof(*v));
    c = r->s[r->pos];
    if (c == '"') {
        v->t = J_STR;
        if (jstring(r, &v->s, &v->slen))
            goto bad;
        return v;
    }
    if (c == '[' || c == '{') {
        char close = c == '[' ? ']' : '}';
        size_t cap = 0;
        v->t = c == '[' ? J_ARR : J_OBJ;
        r->pos++;
        jws(r);
        if (r->pos < r->len && r->s[r->pos] == close) {
            r->pos++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            size_t klen = 0;
            struct jval *item;
            jws(r);
            if (v->t == J_OBJ) {
                if (r->pos >= r->len || r->s[r->pos] != '"' || jstring(r, &key, &klen)) {
                    r->err = "expected a key";
                    goto bad;
                }
                jws(r);
                if (r->pos >= r->len || r->s[r->pos] != ':') {
                    free(key);
                    r->err = "expected ':'";
                    goto bad;
                }
                r->pos++;
            }
            item = jvalue(r, depth + 1);
            if (!item) {
                free(key);
                goto bad;
            }
            if (v->n == cap) {
                cap = cap ? cap * 2 : 8;
                v->items = realloc(v->items, cap * sizeof(*v->items));
                if (v->t == J_OBJ) {
                    v->keys = realloc(v->keys, cap * sizeof(*v->keys));
                    v->klens = realloc(v->klens, cap * sizeof(*v->klens));
                }
            }
            if (v->t == J_OBJ) {
                v->keys[v->n] = key;
                v->klens[v->n] = klen;
            }
            v->items[v->n++] = item;
            jws(r);
            if (r->pos < r->len && r->s[r->pos] == ',') {
                r->pos++;
                continue;
            }
            if (r->pos < r->len && r->s[r->pos] == close) {
                r->pos++;
                return v;
            }
            r->err = "expected ',' or a closing bracket";
            goto bad;
        }
    }
    if (strncmp(r->s + r->pos, "true", 4) == 0 || strncmp(r->s + r->pos, "false", 5) == 0) {
        v->t = J_BOOL;
        v->s = strdup(c == 't' ? "true" : "false");
        r->pos += c == 't' ? 4 : 5;
        return v;
    }
    if (strncmp(r->s + r->pos, "null", 4) == 0) {
        r->pos += 4;
        return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        size_t st = r->pos;
        while (r->pos < r->len && strchr("+-.eE0123456789", r->s[r->pos]) && r->s[r->pos])
            r->pos++;
        v->t = J_NUM;
        v->s = strndup(r->s + st, r->pos - st);
        return v;
    }
    r->err = "unexpected character";
bad:
    jfree(v);
    return NULL;
}

/* jparse: a whole JSON text, or NULL (message printed). */
static struct jval *jparse(const char *s, size_t len, const char *what)
{
    struct jreader r = {s, len, 0, NULL};
    struct jval *v = jvalue(&r, 0);
    if (v) {
        jws(&r);
        if (r.pos != r.len) {
            r.err = "trailing text";
            jfree(v);
            v = NULL;
        }
    }
    if (!v)
        fprintf(stderr, "%s: bad JSON at byte %zu: %s\n", what, r.pos, r.err);
    return v;
}

/* --------------------------------------------------------- comparison ---- */

/* jget: the member `key` of object o, or NULL. */
static const struct jval *jget(const struct jval *o, const char *key, size_t klen)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->klens[i] == klen && memcmp(o->keys[i], key, klen) == 0)
            return o->items[i];
    return NULL;
}

/* jtagged: whether v is a tagged leaf {"type": "...", "value": "..."}. */
static int jtagged(const struct jval *v)
{
    const struct jval *t, *val;
    if (v->t != J_OBJ || v->n != 2)
        return 0;
    t = jget(v, "type", 4);
    val = jget(v, "value", 5);
    return t && val && t->t == J_STR && val->t == J_STR;
}

/* float_of: toml-test's float spelling as a double. */
static double float_of(const char *s)
{
    if (strcmp(s, "nan") == 0 || strcmp(s, "+nan") == 0 || strcmp(s, "-nan") == 0)
        return NAN;
    if (strcmp(s, "inf") == 0 || strcmp(s, "+inf") == 0)
        return INFINITY;
    if (strcmp(s, "-inf") == 0)
        return -INFINITY;
    return strtod(s, NULL);
}

/* norm_datetime: s with 'T', 'Z' upper-cased and the fraction's trailing
 * zeros (and a bare '.') dropped, into out. */
static void norm_datetime(const char *s, char *out, size_t size)
{
    size_t n = 0, i;
    for (i = 0; s[i] && n + 1 < size; i++) {
        char c = s[i];
        if (c == 't' || c == 'z')
            c = (char)(c - 'a' + 'A');
        if (c == '.') {
            size_t j = i + 1, end = i + 1; /* end: past the last nonzero digit */
            while (s[j] >= '0' && s[j] <= '9') {
                if (s[j] != '0')
                    end = j + 1;
                j++;
            }
            if (end > i + 1)
                for (size_t k = i; k < end && n + 1 < size; k++)
                    out[n++] = s[k];
            i = j - 1;
            continue;
        }
        out[n++] = c;
    }
    out[n] = '\0';
}

/* leaf_equal: two tagged leaves of the same type compare equal. */
static int leaf_equal(const char *type, const char *a, const char *b)
{
    if (strcmp(type, "float") == 0) {
        double x = float_of(a), y = float_of(b);
        return (isnan(x) && isnan(y)) || x == y;
    }
    if (strcmp(type, "integer") == 0) {
        char *ea, *eb;
        long long x, y;
        errno = 0;
        x = strtoll(a, &ea, 10);
        y = strtoll(b, &eb, 10);
        return !errno && !*ea && !*eb && x == y;
    }
    if (strncmp(type, "date", 4) == 0 || strcmp(type, "time-local") == 0) {
        char na[128], nb[128];
        norm_datetime(a, na, sizeof(na));
        norm_datetime(b, nb, sizeof(nb));
        return strcmp(na, nb) == 0;
    }
    return strcmp(a, b) == 0;
}

/* jequal: structural equality of got and want; on a difference prints where
 * (path) and returns 0. */
static int jequal(const struct jval *got, const struct jval *want, const char *path)
{
    char sub[1024];
    if (jtagged(got) && jtagged(want)) {
        const struct jval *gt = jget(got, "type", 4), *wt = jget(want, "type", 4);
        const struct jval *gv = jget(got, "value", 5), *wv = jget(want, "value", 5);
        if (strcmp(gt->s, wt->s) != 0) {
            fprintf(stderr, "    %s: type %s, want %s\n", path, gt->s, wt->s);
            return 0;
        }
        if (gv->slen != strlen(gv->s) || wv->slen != strlen(wv->s)
                ? (gv->slen != wv->slen || memcmp(gv->s, wv->s, gv->slen) != 0)
                : !leaf_equal(gt->s, gv->s, wv->s)) {
            fprintf(stderr, "    %s: value \"%s\", want \"%s\"\n", path, gv->s, wv->s);
            return 0;
        }
        return 1;
    }
    if (got->t != want->t || jtagged(got) != jtagged(want)) {
        fprintf(stderr, "    %s: a %s, want a %s\n", path, jtagged(got) ? "value" : got->t == J_ARR ? "array" : "table",
                jtagged(want) ? "value" : want->t == J_ARR ? "array" : "table");
        return 0;
    }
    if (got->t == J_ARR) {
        if (got->n != want->n) {
            fprintf(stderr, "    %s: %zu elements, want %zu\n", path, got->n, want->n);
            return 0;
        }
        for (size_t i = 0; i < got->n; i++) {
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            if (!jequal(got->items[i], want->items[i], sub))
                return 0;
        }
        return 1;
    }
    if (got->t == J_OBJ) {
        for (size_t i = 0; i < want->n; i++) {
            const struct jval *g = jget(got, want->keys[i], want->klens[i]);
            snprintf(sub, sizeof(sub), "%s.%s", path, want->keys[i]);
            if (!g) {
                fprintf(stderr, "    %s: missing\n", sub);
                return 0;
            }
            if (!jequal(g, want->items[i], sub))
                return 0;
        }
        for (size_t i = 0; i < got->n; i++)
            if (!jget(want, got->keys[i], got->klens[i])) {
                fprintf(stderr, "    %s.%s: not expected\n", path, got->keys[i]);
                return 0;
            }
        return 1;
    }
    if (got->t == J_STR || got->t == J_NUM || got->t == J_BOOL)
        return got->slen == want->slen && strcmp(got->s, want->s) == 0;
    return 1;
}

/* ------------------------------------------------------ suite runner ---- */

enum outcome { PASS, FAIL, UNSUPPORTED };

/* run_valid: parse toml_path, compare with json_path. */
static enum outcome run_valid(const char *toml_path, const char *json_path, int verbose)
{
    struct shim_toml_doc doc;
    size_t tlen, jlen;
    char *text = read_file(toml_path, &tlen), *want_text = read_file(json_path, &jlen), *got_text = NULL;
    struct jval *got = NULL, *want = NULL;
    void *mem = NULL;
    enum outcome out = FAIL;
    int rc;

    if (!text || !want_text) {
        fprintf(stderr, "    cannot read %s\n", !text ? toml_path : json_path);
        goto done;
    }
    rc = parse_alloc(&doc, &mem, text, tlen);
    if (rc == -EOPNOTSUPP) {
        out = UNSUPPORTED;
        goto done;
    }
    if (rc) {
        fprintf(stderr, "    refused: line %u, column %u: %s\n", doc.err.line, doc.err.col, doc.err.msg);
        goto done;
    }
    got_text = to_json(&doc);
    got = jparse(got_text, strlen(got_text), "our output");
    want = jparse(want_text, jlen, json_path);
    if (got && want && jequal(got, want, "$"))
        out = PASS;
    else if (verbose)
        fprintf(stderr, "    got: %s\n", got_text);
done:
    jfree(got);
    jfree(want);
    free(got_text);
    free(text);
    free(want_text);
    free(mem);
    return out;
}

/* run_invalid: toml_path must be refused. */
static enum outcome run_invalid(const char *toml_path)
{
    struct shim_toml_doc doc;
    size_t tlen;
    char *text = read_file(toml_path, &tlen);
    void *mem = NULL;
    enum outcome out = FAIL;
    int rc;

    if (!text) {
        fprintf(stderr, "    cannot read %s\n", toml_path);
        return FAIL;
    }
    rc = parse_alloc(&doc, &mem, text, tlen);
    if (rc == -EOPNOTSUPP)
        out = UNSUPPORTED;
    else if (rc == -EINVAL)
        out = PASS;
    else if (rc == 0) {
        char *j = to_json(&doc);
        fprintf(stderr, "    accepted as %s\n", j);
        free(j);
    } else {
        fprintf(stderr, "    failed with %d\n", rc);
    }
    free(text);
    free(mem);
    return out;
}

/* run_suite: every case listed in tests/files-toml-1.0.0. Returns the exit
 * status. */
static int run_suite(void)
{
    const char *dir = getenv("TOML_TEST_DIR");
    char path[4096], line[1024];
    unsigned vpass = 0, vtotal = 0, ipass = 0, itotal = 0, unsup = 0;
    char **unsup_list = NULL;
    FILE *list;

    if (!dir || !*dir) {
        fprintf(stderr, "test_toml --suite: set TOML_TEST_DIR to the toml-test folder\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/tests/files-toml-1.0.0", dir);
    list = fopen(path, "r");
    if (!list) {
        fprintf(stderr, "test_toml --suite: cannot open %s\n", path);
        return 2;
    }
    while (fgets(line, sizeof(line), list)) {
        size_t n = strcspn(line, "\r\n");
        int valid;
        enum outcome o;
        line[n] = '\0';
        if (n < 5 || strcmp(line + n - 5, ".toml") != 0)
            continue;
        valid = strncmp(line, "valid/", 6) == 0;
        if (!valid && strncmp(line, "invalid/", 8) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/tests/%s", dir, line);
        if (valid) {
            char jpath[4096];
            snprintf(jpath, sizeof(jpath), "%s/tests/%.*s.json", dir, (int)(n - 5), line);
            vtotal++;
            o = run_valid(path, jpath, 1);
            vpass += o == PASS;
        } else {
            itotal++;
            o = run_invalid(path);
            ipass += o == PASS;
        }
        if (o == FAIL)
            fprintf(stderr, "FAIL %s\n", line);
        if (o == UNSUPPORTED) {
            unsup_list = realloc(unsup_list, (unsup + 1) * sizeof(*unsup_list));
            unsup_list[unsup++] = strdup(line);
        }
    }
    fclose(list);
    printf("valid: %u/%u passed, invalid: %u/%u refused, unsupported: %u", vpass, vtotal, ipass, itotal, unsup);
    if (unsup) {
        printf(" (");
        for (unsigned i = 0; i < unsup; i++) {
            printf("%s%s", i ? ", " : "", unsup_list[i]);
            free(unsup_list[i]);
        }
        printf(")");
    } else {
        printf(" (none)");
    }
    printf("\n");
    free(unsup_list);
    if (vtotal == 0 || itotal == 0)
        return 1;
    return vpass == vtotal && ipass == itotal ? 0 : 1;
}

/* run_decode: TOML on stdin to tagged JSON on stdout. */
static int run_decode(void)
{
    struct shim_toml_doc doc;
    char *buf = NULL, *j;
    size_t n = 0, cap = 0, got;
    void *mem = NULL;
    int rc;

    do {
        if (cap - n < 4096) {
            cap = cap * 2 + 65536;
            buf = realloc(buf, cap);
        }
        got = fread(buf + n, 1, cap - n, stdin);
        n += got;
    } while (got > 0);
    rc = parse_alloc(&doc, &mem, buf, n);
    if (rc) {
        fprintf(stderr, "line %u, column %u: %s\n", doc.err.line, doc.err.col, doc.err.msg);
        free(buf);
        free(mem);
        return 1;
    }
    j = to_json(&doc);
    printf("%s\n", j);
    free(j);
    free(buf);
    free(mem);
    return 0;
}

/* ------------------------------------------------------- unit tests ---- */

/* A parsed document for the unit tests (static arena, like the shim's). */
static char arena[1 << 20];
static struct shim_toml_doc doc;

/* parse: s as a document into the global doc; the return code. */
static int parse(const char *s)
{
    return shim_toml_parse(&doc, arena, sizeof(arena), s, strlen(s));
}

/* the Athomic-style settings file */
static const char athomic[] = "# Athomic settings\n"
                              "[default.observability]\n"
                              "enabled = true\n"
                              "exporter_enabled = true\n"
                              "exporter_port = 9100\n"
                              "[default.observability.metrics]\n"
                              "enabled = true\n"
                              "collection_interval_seconds = 15\n"
                              "metrics_protection_enabled = false\n"
                              "allow_metrics_ips = [\"127.0.0.1\", \"10.0.0.0/8\"]\n"
                              "[production.observability]\n"
                              "exporter_port = 9200\n";

/* test_athomic: the settings file parses and answers queries. */
static void test_athomic(void)
{
    const struct shim_toml_node *n, *obs, *ips, *leaf;
    char path[128];
    const char *s;
    size_t len;
    int count = 0;

    REQUIRE(parse(athomic) == 0);
    n = shim_toml_get(&doc, NULL, "default.observability.exporter_port");
    REQUIRE(n != NULL);
    CHECK_EQ(n->type, SHIM_TOML_INTEGER);
    CHECK_EQ(n->v.i, 9100);
    CHECK_EQ(n->line, 5);
    CHECK_EQ(n->col, 1);
    n = shim_toml_get(&doc, NULL, "production.observability.exporter_port");
    REQUIRE(n != NULL);
    CHECK_EQ(n->v.i, 9200);
    CHECK_EQ(n->line, 12);
    obs = shim_toml_get(&doc, NULL, "default.observability");
    REQUIRE(obs != NULL);
    CHECK_EQ(obs->type, SHIM_TOML_TABLE);
    n = shim_toml_get(&doc, obs, "enabled");
    REQUIRE(n != NULL);
    CHECK_EQ(n->type, SHIM_TOML_BOOL);
    CHECK_EQ(n->v.b, 1);
    n = shim_toml_get(&doc, obs, "metrics.metrics_protection_enabled");
    REQUIRE(n != NULL);
    CHECK_EQ(n->v.b, 0);
    CHECK_EQ(n->line, 9);
    n = shim_toml_get(&doc, obs, "metrics.collection_interval_seconds");
    REQUIRE(n != NULL);
    CHECK_EQ(n->v.i, 15);
    ips = shim_toml_get(&doc, obs, "metrics.allow_metrics_ips");
    REQUIRE(ips != NULL);
    CHECK_EQ(ips->type, SHIM_TOML_ARRAY);
    CHECK_EQ(ips->count, 2);
    s = shim_toml_str(&doc, shim_toml_at(&doc, ips, 0), &len);
    CHECK_STREQ(s, "127.0.0.1");
    CHECK_EQ(len, 9);
    CHECK_STREQ(shim_toml_str(&doc, shim_toml_at(&doc, ips, 1), NULL), "10.0.0.0/8");
    CHECK(shim_toml_at(&doc, ips, 2) == NULL);
    CHECK(shim_toml_get(&doc, NULL, "default.observability.nope") == NULL);
    CHECK(shim_toml_get(&doc, NULL, "default.observability.exporter_port.x") == NULL);
    CHECK(shim_toml_get(&doc, NULL, "staging.observability") == NULL);
    CHECK(shim_toml_get(&doc, obs, "") == obs);

    /* the leaves under [default.observability], in order, with their paths */
    static const char *const want[] = {"enabled",
                                       "exporter_enabled",
                                       "exporter_port",
                                       "metrics.enabled",
                                       "metrics.collection_interval_seconds",
                                       "metrics.metrics_protection_enabled",
                                       "metrics.allow_metrics_ips"};
    static const unsigned want_line[] = {3, 4, 5, 7, 8, 9, 10};
    for (leaf = shim_toml_next_leaf(&doc, obs, NULL); leaf; leaf = shim_toml_next_leaf(&doc, obs, leaf)) {
        REQUIRE(count < 7);
        CHECK_EQ(shim_toml_path(&doc, leaf, obs, path, sizeof(path)), (long long)strlen(want[count]));
        CHECK_STREQ(path, want[count]);
        CHECK_EQ(leaf->line, want_line[count]);
        count++;
    }
    CHECK_EQ(count, 7);
    /* full paths from the root */
    n = shim_toml_get(&doc, obs, "metrics.enabled");
    CHECK(shim_toml_path(&doc, n, NULL, path, sizeof(path)) > 0);
    CHECK_STREQ(path, "default.observability.metrics.enabled");
    CHECK_EQ(shim_toml_path(&doc, n, NULL, path, 10), -ENOSPC);
    CHECK_STREQ(path, "");
    /* the environment tables */
    count = 0;
    for (n = shim_toml_first(&doc, shim_toml_root(&doc)); n; n = shim_toml_next(&doc, n))
        count++;
    CHECK_EQ(count, 2);
}

/* test_values: every value type, decoded. */
static void test_values(void)
{
    const struct shim_toml_node *n;
    size_t len;
    const char *s;

    REQUIRE(parse("s = \"tab\\there \\u00e9 \\U0001F600 \\\"q\\\" \\\\\"\n"
                  "lit = 'C:\\path\\'\n"
                  "ml = \"\"\"\nline1\r\nline2 \\\n    joined\"\"\"\n"
                  "mll = '''\nraw\\n ''quoted'' '''\n"
                  "i1 = -9_223_372_036_854_775_808\n"
                  "i2 = 0x7fff_FFFF_ffff_ffff\n"
                  "i3 = 0o755\n"
                  "i4 = 0b1010\n"
                  "i5 = +0\n"
                  "f1 = 6.02e23\n"
                  "f2 = -0.0\n"
                  "f3 = -inf\n"
                  "f4 = nan\n"
                  "f5 = 1e-400\n"
                  "f6 = 4.9406564584124654e-324\n"
                  "b = false\n"
                  "odt = 1979-05-27 07:32:00.500-07:00\n"
                  "ldt = 2024-02-29t23:59:60\n"
                  "ld = 2000-02-29\n"
                  "lt = 00:00:00.000001\n"
                  "nul = \"a\\u0000b\"\n") == 0);
    CHECK_STREQ(shim_toml_str(&doc, shim_toml_get(&doc, NULL, "s"), NULL),
                "tab\there \xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\");
    CHECK_STREQ(shim_toml_str(&doc, shim_toml_get(&doc, NULL, "lit"), NULL), "C:\\path\\");
    CHECK_STREQ(shim_toml_str(&doc, shim_toml_get(&doc, NULL, "ml"), NULL), "line1\nline2 joined");
    CHECK_STREQ(shim_toml_str(&doc, shim_toml_get(&doc, NULL, "mll"), NULL), "raw\\n ''quoted'' ");
    CHECK_EQ(shim_toml_get(&doc, NULL, "i1")->v.i, INT64_MIN);
    CHECK_EQ(shim_toml_get(&doc, NULL, "i2")->v.i, INT64_MAX);
    CHECK_EQ(shim_toml_get(&doc, NULL, "i3")->v.i, 0755);
    CHECK_EQ(shim_toml_get(&doc, NULL, "i4")->v.i, 10);
    CHECK_EQ(shim_toml_get(&doc, NULL, "i5")->v.i, 0);
    n = shim_toml_get(&doc, NULL, "f1");
    CHECK(n->type == SHIM_TOML_FLOAT && n->v.f == 6.02e23);
    n = shim_toml_get(&doc, NULL, "f2");
    CHECK(n->v.f == 0 && signbit(n->v.f));
    n = shim_toml_get(&doc, NULL, "f3");
    CHECK(isinf(n->v.f) && n->v.f < 0);
    CHECK(isnan(shim_toml_get(&doc, NULL, "f4")->v.f));
    CHECK(shim_toml_get(&doc, NULL, "f5")->v.f == 0);
    CHECK(shim_toml_get(&doc, NULL, "f6")->v.f == 4.9406564584124654e-324);
    n = shim_toml_get(&doc, NULL, "b");
    CHECK(n->type == SHIM_TOML_BOOL && n->v.b == 0);
    n = shim_toml_get(&doc, NULL, "odt");
    CHECK_EQ(n->type, SHIM_TOML_DATETIME);
    CHECK_STREQ(shim_toml_str(&doc, n, NULL), "1979-05-27T07:32:00.500-07:00");
    n = shim_toml_get(&doc, NULL, "ldt");
    CHECK_EQ(n->type, SHIM_TOML_DATETIME_LOCAL);
    CHECK_STREQ(shim_toml_str(&doc, n, NULL), "2024-02-29T23:59:60");
    n = shim_toml_get(&doc, NULL, "ld");
    CHECK_EQ(n->type, SHIM_TOML_DATE_LOCAL);
    CHECK_STREQ(shim_toml_str(&doc, n, NULL), "2000-02-29");
    n = shim_toml_get(&doc, NULL, "lt");
    CHECK_EQ(n->type, SHIM_TOML_TIME_LOCAL);
    CHECK_STREQ(shim_toml_str(&doc, n, NULL), "00:00:00.000001");
    s = shim_toml_str(&doc, shim_toml_get(&doc, NULL, "nul"), &len);
    CHECK_MEMEQ(s, len, "a\0b", 3);
    CHECK(shim_toml_str(&doc, shim_toml_get(&doc, NULL, "i1"), NULL) == NULL);
}

/* test_structure: tables, dotted and quoted keys, arrays of tables, inline
 * tables, the tree links, paths. */
static void test_structure(void)
{
    const struct shim_toml_node *n, *a, *root;
    char path[256];

    REQUIRE(parse("\xef\xbb\xbf" "top.\"a.b\" = 1\n"
                  "[[srv]]\nname = 'x'\n[srv.sub]\nk = 1\n"
                  "[[srv]]\nname = 'y'\n"
                  "[empty]\n"
                  "[t]\ninl = { x = 1, y.z = [ [], {} ] }\n"
                  "\"quoted key\" = \"\"\n\"\" = 0\n") == 0);
    root = shim_toml_root(&doc);
    CHECK_EQ(root->count, 4);
    n = shim_toml_get(&doc, NULL, "top");
    REQUIRE(n != NULL);
    CHECK_EQ(n->type, SHIM_TOML_TABLE);
    CHECK(n->flags & SHIM_TOML_F_DOTTED);
    CHECK(shim_toml_get(&doc, NULL, "top.a.b") == NULL); /* one segment "a.b" */
    n = shim_toml_child(&doc, n, "a.b", 3);
    REQUIRE(n != NULL);
    CHECK_EQ(n->v.i, 1);
    CHECK_EQ(n->col, 5);
    CHECK_EQ(shim_toml_path(&doc, n, NULL, path, sizeof(path)), 9);
    CHECK_STREQ(path, "top.\"a.b\"");
    a = shim_toml_get(&doc, NULL, "srv");
    REQUIRE(a != NULL);
    CHECK_EQ(a->type, SHIM_TOML_ARRAY);
    CHECK(a->flags & SHIM_TOML_F_AOT);
    CHECK_EQ(a->count, 2);
    n = shim_toml_get(&doc, shim_toml_at(&doc, a, 0), "sub.k");
    REQUIRE(n != NULL);
    CHECK(shim_toml_path(&doc, n, NULL, path, sizeof(path)) > 0);
    CHECK_STREQ(path, "srv[0].sub.k");
    CHECK_STREQ(shim_toml_str(&doc, shim_toml_get(&doc, shim_toml_at(&doc, a, 1), "name"), NULL), "y");
    n = shim_toml_get(&doc, NULL, "empty");
    REQUIRE(n != NULL);
    CHECK_EQ(n->count, 0);
    CHECK(shim_toml_next_leaf(&doc, root, NULL) == shim_toml_get(&doc, NULL, "top")->first + doc.nodes);
    n = shim_toml_get(&doc, NULL, "t.inl.y.z");
    REQUIRE(n != NULL);
    CHECK_EQ(n->type, SHIM_TOML_ARRAY);
    CHECK_EQ(n->count, 2);
    CHECK_EQ(shim_toml_at(&doc, n, 0)->type, SHIM_TOML_ARRAY);
    CHECK_EQ(shim_toml_at(&doc, n, 1)->type, SHIM_TOML_TABLE);
    CHECK(shim_toml_at(&doc, n, 1)->flags & SHIM_TOML_F_INLINE);
    n = shim_toml_child(&doc, shim_toml_get(&doc, NULL, "t"), "quoted key", 10);
    REQUIRE(n != NULL);
    CHECK(shim_toml_path(&doc, n, NULL, path, sizeof(path)) > 0);
    CHECK_STREQ(path, "t.\"quoted key\"");
    n = shim_toml_child(&doc, shim_toml_get(&doc, NULL, "t"), "", 0);
    REQUIRE(n != NULL);
    CHECK(shim_toml_path(&doc, n, NULL, path, sizeof(path)) > 0);
    CHECK_STREQ(path, "t.\"\"");

    /* dotted keys may add to a table only made as a header's parent */
    CHECK_EQ(parse("[x.y.z]\n[x]\ny.a = 1\n[x.y.z.w]\n"), 0);
    CHECK_EQ(shim_toml_get(&doc, NULL, "x.y.a")->v.i, 1);
    REQUIRE(parse("\xef\xbb\xbf" "top.\"a.b\" = 1\n"
                  "[[srv]]\nname = 'x'\n[srv.sub]\nk = 1\n"
                  "[[srv]]\nname = 'y'\n"
                  "[empty]\n"
                  "[t]\ninl = { x = 1, y.z = [ [], {} ] }\n"
                  "\"quoted key\" = \"\"\n\"\" = 0\n") == 0);
    root = shim_toml_root(&doc);

    /* leaves: an empty table counts, arrays are not entered */
    {
        static const char *const want[] = {"top.\"a.b\"", "srv", "empty", "t.inl.x", "t.inl.y.z", "t.\"quoted key\"",
                                           "t.\"\""};
        int count = 0;
        for (n = shim_toml_next_leaf(&doc, root, NULL); n; n = shim_toml_next_leaf(&doc, root, n)) {
            REQUIRE(count < 7);
            shim_toml_path(&doc, n, root, path, sizeof(path));
            CHECK_STREQ(path, want[count]);
            count++;
        }
        CHECK_EQ(count, 7);
    }
}

/* An error case: the document, where the error must be reported, and a
 * word its message must contain. */
struct err_case {
    const char *doc;
    unsigned line, col;
    const char *msg;
};

/* test_errors: each bad document names its line and column. */
static void test_errors(void)
{
    static const struct err_case cases[] = {
        {"a = 1\nb 2\n", 2, 3, "expected '.' or '='"},
        {"a = 1\na = 2\n", 2, 1, "defined twice"},
        {"[t]\nx = 1\n[t]\n", 3, 2, "table defined twice"},
        {"x = \"abc\n", 1, 9, "newline"},
        {"x = \"a\\qb\"\n", 1, 7, "invalid escape"},
        {"x = \"\\uD800\"\n", 1, 6, "scalar value"},
        {"# ok\n  n = 0x_1\n", 2, 7, "underscores"},
        {"n = 9223372036854775808\n", 1, 5, "out of range"},
        {"n = 012\n", 1, 5, "leading zeros"},
        {"f = 1.\n", 1, 5, "decimal point"},
        {"f = 1e400\n", 1, 5, "out of range"},
        {"d = 2023-02-29\n", 1, 5, "day of the month"},
        {"t = 24:00:00\n", 1, 5, "local time"},
        {"t = { a = 1, }\n", 1, 12, "trailing comma"},
        {"t = { a = 1,\n b = 2 }\n", 1, 13, "newline in an inline table"},
        {"t = { a = 1 }\nt.b = 2\n", 2, 1, "inline table cannot be extended"},
        {"[a]\nb.c = 1\n[a.b]\n", 3, 4, "dotted keys"},
        {"[a.b]\n[a]\nb.c = 1\n", 3, 1, "[header]"},
        {"a = [1, 2\n", 1, 5, "unterminated array"},
        {"a = [1 2]\n", 1, 8, "expected ',' or ']'"},
        {"a = 1 # \x01 control\n", 1, 9, "control character in a comment"},
        {"a = 'x'\r\nb = \"\xc3\x28\"\n", 2, 6, "invalid UTF-8"},
        {"a = 'x'\rb = 1\n", 1, 8, "carriage return"},
        {"a = [1]\n[[a]]\n", 2, 3, "array value cannot be extended"},
        {"[[a]]\n[a]\n", 2, 2, "array of tables"},
        {"a = 1 b = 2\n", 1, 7, "expected a newline"},
        {"[a] x = 1\n", 1, 5, "after the table header"},
        {"é = 1\n", 1, 1, "bare key"},
        {"k = \"é\" x\n", 1, 9, "expected a newline"},
        {"a = \"\"\"\nunterminated\n", 1, 5, "unterminated multi-line"},
        {"a = \"\"\"x \\  y\"\"\"\n", 1, 10, "must end the line"},
        {"a = 1979-05-27T07:32:00+24:00\n", 1, 5, "offset"},
        {"a = +0x10\n", 1, 5, "no sign"},
        {"[[a] ]\n", 1, 5, "']]'"},
        {"a.b = 1\na.b.c = 2\n", 2, 3, "already has a value"},
        {"x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", 1, 37, "nested too deep"},
        {"= 1\n", 1, 1, "missing key"},
        {"[x.y.z]\n[x]\ny.a = 1\n[x.y]\n", 4, 4, "dotted keys"},
        {"a = \n", 1, 5, "expected a value"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int rc;
        unit_set_context("error case %zu: %s", i, cases[i].doc);
        rc = parse(cases[i].doc);
        CHECK_EQ(rc, -EINVAL);
        if (rc != -EINVAL)
            continue;
        CHECK_EQ(doc.err.line, cases[i].line);
        CHECK_EQ(doc.err.col, cases[i].col);
        CHECK_MSG(doc.err.msg && strstr(doc.err.msg, cases[i].msg), "message \"%s\" lacks \"%s\"",
                  doc.err.msg ? doc.err.msg : "(null)", cases[i].msg);
        CHECK(doc.err.off <= strlen(cases[i].doc));
    }
    unit_context[0] = '\0';
}

/* test_floats: decimal to double conversion agrees with glibc's correctly
 * rounded strtod on hard cases and on random inputs. */
static void test_floats(void)
{
    static const char *const hard[] = {
        "0.1", "0.3", "2.2250738585072011e-308", "2.2250738585072012e-308", "4.9406564584124654e-324",
        "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623157e308",
        "1.7976931348623158e308", "9007199254740993.0", "9007199254740992.5", "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124", "123456789012345678901234567890.0",
        "7.038531e-26", "8.98846567431158e307", "3.14159265358979323846264338327950288", "1e-310", "5e-324",
        "1e23", "8.5e-323", "0.000000000000000000000000000000000000000000000000001e0",
    };
    char buf[128];
    unsigned seed = 12345;

    for (size_t i = 0; i < ARRAY_LEN(hard); i++) {
        double want = strtod(hard[i], NULL);
        snprintf(buf, sizeof(buf), "f = %s\n", hard[i]);
        unit_set_context("float %s", hard[i]);
        REQUIRE(parse(buf) == 0);
        CHECK(memcmp(&shim_toml_get(&doc, NULL, "f")->v.f, &want, sizeof(want)) == 0);
    }
    /* a tie broken only by a digit beyond the 800 kept: 1 + 2^-53 + tiny */
    {
        static char big[2048];
        double want;
        int n = snprintf(big, sizeof(big), "f = 1.00000000000000011102230246251565404236316680908203125");
        for (; n < 1500; n++)
            big[n] = '0';
        big[n++] = '1';
        big[n++] = '\n';
        big[n] = '\0';
        want = strtod(big + 4, NULL);
        unit_set_context("long tie");
        REQUIRE(parse(big) == 0);
        CHECK(memcmp(&shim_toml_get(&doc, NULL, "f")->v.f, &want, sizeof(want)) == 0);
        CHECK(want == 1.0 + 0x1p-52); /* rounded up, not to even */
    }
    for (int i = 0; i < 200000; i++) {
        char digits[64];
        int nd = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 25, k;
        int point, e;
        double want, got;
        for (k = 0; k < nd; k++) {
            seed = seed * 1103515245 + 12345;
            digits[k] = (char)('0' + (seed >> 16) % 10);
        }
        digits[0] = digits[0] == '0' ? '1' : digits[0];
        seed = seed * 1103515245 + 12345;
        point = 1 + (int)((seed >> 16) % (unsigned)nd);
        seed = seed * 1103515245 + 12345;
        e = (int)((seed >> 16) % 660) - 340;
        snprintf(buf, sizeof(buf), "f = %.*s%s%.*se%d\n", point, digits, point < nd ? "." : "", nd - point,
                 digits + point, e);
        want = strtod(buf + 4, NULL);
        if (isinf(want))
            continue;
        unit_set_context("float %s", buf + 4);
        if (parse(buf) != 0) {
            CHECK_MSG(0, "refused: %s", doc.err.msg);
            continue;
        }
        got = shim_toml_get(&doc, NULL, "f")->v.f;
        CHECK_MSG(memcmp(&got, &want, sizeof(got)) == 0, "%.17g != %.17g", got, want);
    }
    unit_context[0] = '\0';
}

/* test_arena: every arena size below what a document needs is refused with
 * -ENOMEM (never a crash), and the bound in the header holds. */
static void test_arena(void)
{
    static char small[8192];
    struct shim_toml_doc d;
    size_t len = strlen(athomic), need = 0, sz;
    int rc;

    for (sz = 0; sz <= sizeof(small); sz++) {
        rc = shim_toml_parse(&d, small, sz, athomic, len);
        if (rc == 0) {
            need = sz;
            break;
        }
        CHECK_EQ(rc, -ENOMEM);
        CHECK(d.err.msg != NULL);
    }
    CHECK(need > 0);
    CHECK(need <= len * 4 + 4096);
    printf("athomic settings (%zu bytes) need an arena of %zu bytes\n", len, need);
    /* every construct, every arena size: -ENOMEM at a position in the
     * input until it fits */
    {
        static const char all[] = "s = \"esc \\u00e9 \\t\"\nl = 'lit'\nm = \"\"\"\nx\\\n  y\"\"\"\n"
                                  "ml = '''\nz'''\n[t.u]\na.b = [1, 2.5, [true], {k = 1979-05-27 07:32:00Z}]\n"
                                  "d = 1979-05-27\ntm = 07:32:00\n[[arr]]\n[[arr]]\nq = \"\"\n";
        size_t alen = strlen(all);
        for (sz = 0; sz <= sizeof(small); sz++) {
            rc = shim_toml_parse(&d, small, sz, all, alen);
            if (rc == 0)
                break;
            unit_set_context("arena size %zu", sz);
            CHECK_EQ(rc, -ENOMEM);
            CHECK(d.err.off <= alen && d.err.line >= 1 && d.err.line <= 16);
        }
        unit_context[0] = '\0';
        CHECK_EQ(rc, 0);
        CHECK(sz <= SHIM_TOML_ARENA_MAX(alen));
        CHECK_STREQ(shim_toml_str(&d, shim_toml_get(&d, NULL, "m"), NULL), "xy");
        CHECK_STREQ(shim_toml_str(&d, shim_toml_get(&d, NULL, "t.u.a.b"), NULL), NULL);
        CHECK_EQ(shim_toml_get(&d, NULL, "t.u.a.b")->count, 4);
        CHECK_EQ(shim_toml_get(&d, NULL, "arr")->count, 2);
    }
    /* a misaligned arena works too */
    CHECK_EQ(shim_toml_parse(&d, small + 1, sizeof(small) - 1, athomic, len), 0);
    /* not NUL-terminated: the parser must stop at len */
    {
        char text[] = "a = 12345";
        CHECK_EQ(shim_toml_parse(&d, small, sizeof(small), text, 6), 0);
        CHECK_EQ(shim_toml_get(&d, NULL, "a")->v.i, 12);
    }
}

/* run_unit: our own tests; returns the exit status. */
static int run_unit(void)
{
    UNIT_RUN(test_athomic);
    UNIT_RUN(test_values);
    UNIT_RUN(test_structure);
    UNIT_RUN(test_errors);
    UNIT_RUN(test_floats);
    UNIT_RUN(test_arena);
    return unit_summary();
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--unit") == 0) {
        int rc = run_unit();
        if (argc < 2 && getenv("TOML_TEST_DIR") && run_suite() != 0)
            rc = 1;
        return rc;
    }
    if (strcmp(argv[1], "--suite") == 0)
        return run_suite();
    if (strcmp(argv[1], "--decode") == 0)
        return run_decode();
    if (strcmp(argv[1], "--compare") == 0 && argc == 4) {
        enum outcome o = run_valid(argv[2], argv[3], 1);
        printf("%s\n", o == PASS ? "equal" : "different");
        return o == PASS ? 0 : 1;
    }
    fprintf(stderr, "usage: %s [--unit | --suite | --decode | --compare X.toml X.json]\n", argv[0]);
    return 2;
}
