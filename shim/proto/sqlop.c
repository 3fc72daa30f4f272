/*
 * sqlop.c - leading SQL keyword classifier (see sqlop.h for the contract).
 *
 * A byte-at-a-time state machine over the statement's start: whitespace,
 * ';' and '(' are skipped, comments are skipped, the first word is kept
 * upper-cased (up to SHIM_SQL_WORD_CAP + 1 bytes, enough to tell a keyword
 * from a longer word) and looked up once it ends.
 */
#include "shim/proto/sqlop.h"

#include <string.h>

/* Scanner states (s->state). */
enum {
    Q_SKIP = 0,  /* before the keyword: whitespace, ';', '(' */
    Q_DASH,      /* one '-' seen */
    Q_LINE,      /* in a line comment */
    Q_SLASH,     /* one '/' seen */
    Q_CSTART,    /* just after slash-star: '!' or 'M' makes it executable */
    Q_CM,        /* slash-star-M seen */
    Q_EXECVER,   /* executable comment: version digits */
    Q_BLOCK,     /* in a comment */
    Q_BSTAR,     /* in a comment, '*' seen */
    Q_BSLASH,    /* in a comment, '/' seen */
    Q_WORD,      /* in the keyword */
    Q_DONE       /* decided: s->op */
};

#define MAX_DEPTH 64

struct kw {
    char s[11];
    uint8_t len;
    uint8_t op;
};

static const struct kw keywords[] = {
    {"SELECT", 6, SHIM_SQL_SELECT},     {"INSERT", 6, SHIM_SQL_INSERT},
    {"UPDATE", 6, SHIM_SQL_UPDATE},     {"DELETE", 6, SHIM_SQL_DELETE},
    {"BEGIN", 5, SHIM_SQL_BEGIN},       {"START", 5, SHIM_SQL_START},
    {"COMMIT", 6, SHIM_SQL_COMMIT},     {"END", 3, SHIM_SQL_COMMIT},
    {"ROLLBACK", 8, SHIM_SQL_ROLLBACK}, {"ABORT", 5, SHIM_SQL_ROLLBACK},
    {"SAVEPOINT", 9, SHIM_SQL_SAVEPOINT}, {"RELEASE", 7, SHIM_SQL_RELEASE},
    {"COPY", 4, SHIM_SQL_COPY},         {"WITH", 4, SHIM_SQL_WITH},
    {"SET", 3, SHIM_SQL_SET},           {"SHOW", 4, SHIM_SQL_SHOW},
    {"CREATE", 6, SHIM_SQL_CREATE},     {"DROP", 4, SHIM_SQL_DROP},
    {"ALTER", 5, SHIM_SQL_ALTER},       {"TRUNCATE", 8, SHIM_SQL_TRUNCATE},
    {"GRANT", 5, SHIM_SQL_GRANT},       {"REVOKE", 6, SHIM_SQL_REVOKE},
    {"EXPLAIN", 7, SHIM_SQL_EXPLAIN},   {"ANALYZE", 7, SHIM_SQL_ANALYZE},
    {"ANALYSE", 7, SHIM_SQL_ANALYZE},   {"VACUUM", 6, SHIM_SQL_VACUUM},
    {"PREPARE", 7, SHIM_SQL_PREPARE},   {"EXECUTE", 7, SHIM_SQL_EXECUTE},
    {"DEALLOCATE", 10, SHIM_SQL_DEALLOCATE}, {"CALL", 4, SHIM_SQL_CALL},
    {"DO", 2, SHIM_SQL_DO},             {"LOCK", 4, SHIM_SQL_LOCK},
    {"LISTEN", 6, SHIM_SQL_LISTEN},     {"NOTIFY", 6, SHIM_SQL_NOTIFY},
    {"UNLISTEN", 8, SHIM_SQL_UNLISTEN}, {"FETCH", 5, SHIM_SQL_FETCH},
    {"DECLARE", 7, SHIM_SQL_DECLARE},   {"CLOSE", 5, SHIM_SQL_CLOSE},
    {"MERGE", 5, SHIM_SQL_MERGE},       {"REPLACE", 7, SHIM_SQL_REPLACE},
    {"USE", 3, SHIM_SQL_USE},           {"DESCRIBE", 8, SHIM_SQL_DESCRIBE},
    {"DESC", 4, SHIM_SQL_DESCRIBE},
};

static const char op_names[SHIM_SQL_OP_COUNT][11] = {
    "_OTHER",   "SELECT",   "INSERT",  "UPDATE",    "DELETE",  "BEGIN",    "START",
    "COMMIT",   "ROLLBACK", "SAVEPOINT", "RELEASE", "COPY",    "WITH",     "SET",
    "SHOW",     "CREATE",   "DROP",    "ALTER",     "TRUNCATE", "GRANT",   "REVOKE",
    "EXPLAIN",  "ANALYZE",  "VACUUM",  "PREPARE",   "EXECUTE", "DEALLOCATE", "CALL",
    "DO",       "LOCK",     "LISTEN",  "NOTIFY",    "UNLISTEN", "FETCH",   "DECLARE",
    "CLOSE",    "MERGE",    "REPLACE", "USE",       "DESCRIBE"};

/* lookup: the op of an upper-case word of len bytes. */
static int lookup(const char *w, unsigned len)
{
    size_t k;
    for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
        if (keywords[k].len == len && memcmp(keywords[k].s, w, len) == 0)
            return keywords[k].op;
    return SHIM_SQL_OTHER;
}

static inline int is_alpha(uint8_t c)
{
    uint8_t l = (uint8_t)(c | 0x20);
    return l >= 'a' && l <= 'z';
}

static inline int is_word(uint8_t c)
{
    return is_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

static inline int is_space(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

void shim_sql_scan_init(struct shim_sql_scan *s)
{
    memset(s, 0, sizeof(*s));
}

/* decide: the keyword is known (or known to be none). */
static int decide(struct shim_sql_scan *s, int op)
{
    s->state = Q_DONE;
    s->op = (uint8_t)op;
    return 1;
}

/* skip_char: one byte in state Q_SKIP. Returns 1 once decided. */
static int skip_char(struct shim_sql_scan *s, uint8_t c)
{
    if (is_space(c) || c == ';' || c == '(')
        return 0;
    if (c == '-') {
        s->state = Q_DASH;
        return 0;
    }
    if (c == '#') {
        s->state = Q_LINE;
        return 0;
    }
    if (c == '/') {
        s->state = Q_SLASH;
        return 0;
    }
    if (is_alpha(c)) {
        s->state = Q_WORD;
        s->word[0] = (char)(c & ~0x20);
        s->len = 1;
        return 0;
    }
    return decide(s, SHIM_SQL_OTHER);
}

int shim_sql_scan_feed(struct shim_sql_scan *s, const uint8_t *buf, size_t n)
{
    size_t i;
    if (s->state == Q_DONE)
        return 1;
    for (i = 0; i < n; i++) {
        uint8_t c = buf[i];
        switch (s->state) {
        case Q_SKIP:
            if (skip_char(s, c))
                return 1;
            break;
        case Q_DASH:
            if (c != '-')
                return decide(s, SHIM_SQL_OTHER);
            s->state = Q_LINE;
            break;
        case Q_LINE:
            if (c == '\n')
                s->state = Q_SKIP;
            break;
        case Q_SLASH:
            if (c != '*')
                return decide(s, SHIM_SQL_OTHER);
            s->state = Q_CSTART;
            break;
        case Q_CSTART:
            if (c == '!') {
                s->state = Q_EXECVER;
                break;
            }
            if (c == 'M') {
                s->state = Q_CM;
                break;
            }
            s->depth = 1;
            s->state = Q_BLOCK;
            i--; /* the byte is comment text: look at it there */
            break;
        case Q_CM:
            if (c == '!') {
                s->state = Q_EXECVER;
                break;
            }
            s->depth = 1;
            s->state = Q_BLOCK;
            i--;
            break;
        case Q_EXECVER:
            if (c >= '0' && c <= '9')
                break;
            s->state = Q_SKIP;
            if (skip_char(s, c))
                return 1;
            break;
        case Q_BLOCK:
            if (c == '*')
                s->state = Q_BSTAR;
            else if (c == '/')
                s->state = Q_BSLASH;
            break;
        case Q_BSTAR:
            if (c == '/') {
                s->depth--;
                s->state = s->depth ? Q_BLOCK : Q_SKIP;
            } else if (c != '*') {
                s->state = Q_BLOCK;
            }
            break;
        case Q_BSLASH:
            if (c == '*') {
                if (s->depth >= MAX_DEPTH)
                    return decide(s, SHIM_SQL_OTHER);
                s->depth++;
                s->state = Q_BLOCK;
            } else if (c != '/') {
                s->state = Q_BLOCK;
            }
            break;
        case Q_WORD:
            if (is_word(c)) {
                if (s->len > SHIM_SQL_WORD_CAP)
                    return decide(s, SHIM_SQL_OTHER);
                s->word[s->len++] = (char)(is_alpha(c) ? (c & ~0x20) : c);
                break;
            }
            return decide(s, lookup(s->word, s->len));
        default:
            return decide(s, SHIM_SQL_OTHER);
        }
    }
    return 0;
}

int shim_sql_scan_end(const struct shim_sql_scan *s)
{
    if (s->state == Q_DONE)
        return s->op < SHIM_SQL_OP_COUNT ? s->op : SHIM_SQL_OTHER;
    if (s->state == Q_WORD && s->len <= SHIM_SQL_WORD_CAP)
        return lookup(s->word, s->len);
    return SHIM_SQL_OTHER;
}

int shim_sql_op(const uint8_t *text, size_t n)
{
    struct shim_sql_scan s;
    shim_sql_scan_init(&s);
    shim_sql_scan_feed(&s, text, n);
    return shim_sql_scan_end(&s);
}

const char *shim_sql_op_name(int op)
{
    if (op <= 0 || op >= SHIM_SQL_OP_COUNT)
        return op_names[0];
    return op_names[op];
}
