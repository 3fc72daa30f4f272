/*
 * toml.h - a TOML 1.0 parser for the settings file, safe to run in a
 * library constructor: no malloc, no stdio, no locale, no written globals,
 * bounded recursion. The caller hands over one memory block (the arena);
 * the document becomes a tree of nodes at the front of the arena, in
 * definition order, with every string (keys, decoded values, normalised
 * date-time text) stored at the back. Nothing points outside the arena, so
 * the source text may be freed after parsing.
 *
 *   static char mem[64 << 10];
 *   struct shim_toml_doc doc;
 *   if (shim_toml_parse(&doc, mem, sizeof(mem), text, len) < 0)
 *       report("line %u, column %u: %s", doc.err.line, doc.err.col, doc.err.msg);
 *   const struct shim_toml_node *n = shim_toml_get(&doc, NULL, "observability.exporter_port");
 *   if (n && n->type == SHIM_TOML_INTEGER) port = n->v.i;
 *
 * The tree: nodes[0] is the root table. A table's children are its members
 * (each with a key, which may contain any byte, '.' included: one node is
 * one key segment); an array's children are its elements (no key, `index`
 * is the position). Arrays of tables ([[x]]) are arrays whose elements are
 * tables. Empty tables and arrays are nodes without children, so the exact
 * structure of the document can be printed back.
 *
 * Memory: sizeof(struct shim_toml_node) (56 bytes on LP64) per key segment
 * defined, array element and table, plus every decoded string, key and
 * date-time text with a NUL after it. A settings file with one key per line
 * needs about 3 times its size (the Athomic example, 314 bytes: 1106);
 * SHIM_TOML_ARENA_MAX(len) (about 30 bytes per input byte) is enough for
 * any input of len bytes, valid or not. A document that does not fit is
 * refused with -ENOMEM.
 *
 * Limits: arrays and inline tables nest at most SHIM_TOML_MAX_DEPTH deep
 * (the parser then needs under 16 KiB of stack); dotted keys and
 * headers may nest tables to any depth (no recursion follows them);
 * the document and the arena are at most 2 GiB; floats are rounded
 * correctly (an exact decimal conversion, no strtod); a float literal whose
 * magnitude is too large for a double (e.g. 1e400) is refused, one too
 * small rounds to a subnormal or zero. Finding a key scans its table's
 * members, so a table of k keys costs O(k^2) to build.
 */
#ifndef SHIM_TOML_H
#define SHIM_TOML_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_TOML_MAX_DEPTH 32
#define SHIM_TOML_NONE UINT32_MAX

enum shim_toml_type {
    SHIM_TOML_TABLE = 1,      /* standard, implicit, dotted-key or inline table */
    SHIM_TOML_ARRAY,          /* array value or array of tables */
    SHIM_TOML_STRING,         /* v.s: decoded UTF-8 (may hold NUL bytes) */
    SHIM_TOML_INTEGER,        /* v.i */
    SHIM_TOML_FLOAT,          /* v.f (inf and nan included) */
    SHIM_TOML_BOOL,           /* v.b: 0 or 1 */
    SHIM_TOML_DATETIME,       /* v.s: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" */
    SHIM_TOML_DATETIME_LOCAL, /* v.s: "YYYY-MM-DDTHH:MM:SS[.frac]" */
    SHIM_TOML_DATE_LOCAL,     /* v.s: "YYYY-MM-DD" */
    SHIM_TOML_TIME_LOCAL,     /* v.s: "HH:MM:SS[.frac]" */
};

/* How a table or array came to be (node flags). */
#define SHIM_TOML_F_IMPLICIT 0x01 /* table made as the parent of a [a.b] header, not defined itself */
#define SHIM_TOML_F_HEADER 0x02   /* table defined by a [header], or an element of [[array]] */
#define SHIM_TOML_F_DOTTED 0x04   /* table defined by a dotted key (a.b = 1) */
#define SHIM_TOML_F_INLINE 0x08   /* inline table { } or array value [ ]: closed for additions */
#define SHIM_TOML_F_AOT 0x10      /* array of tables ([[name]]) */

struct shim_toml_node {
    uint32_t parent;      /* index of the containing table or array; NONE for the root */
    uint32_t first, last; /* first and last child, NONE when there are none */
    uint32_t next;        /* next sibling, NONE for the last */
    uint32_t count;       /* number of children */
    uint32_t index;       /* position among the parent's children */
    uint32_t key;         /* member of a table: arena offset of its key (NUL-terminated) */
    uint32_t key_len;     /* its length; 0 for array elements, the root, and the key "" */
    uint32_t line, col;   /* 1-based: where the key (or, in an array, the value) starts */
    uint8_t type;         /* enum shim_toml_type */
    uint8_t flags;        /* SHIM_TOML_F_* */
    union {
        int64_t i;
        double f;
        int b;
        struct {
            uint32_t off, len; /* arena offset and length; a NUL follows */
        } s;
    } v;
};

/* The first error: 1-based line and column (in characters) and the byte
 * offset, all within the input; msg is a static string. */
/* An arena that no input of len bytes can exhaust: at most one node per
 * two input bytes (plus the containers left open by a bad document), and
 * strings never longer than their source. */
#define SHIM_TOML_ARENA_MAX(len)                                               \
    ((size_t)(len) * (sizeof(struct shim_toml_node) / 2 + 2) +                 \
     (SHIM_TOML_MAX_DEPTH + 2) * sizeof(struct shim_toml_node) + 16)

struct shim_toml_error {
    uint32_t line, col;
    size_t off;
    const char *msg;
};

struct shim_toml_doc {
    struct shim_toml_node *nodes; /* nodes[0] is the root table */
    uint32_t n;                   /* nodes in use */
    const char *arena;            /* strings: arena + offset */
    size_t size;                  /* usable arena bytes */
    size_t top;                   /* strings occupy arena[top, size) */
    struct shim_toml_error err;
};

/*
 * shim_toml_parse: parse src[0..len) (UTF-8, need not be NUL-terminated,
 * may hold anything) as a TOML 1.0 document into doc, using mem[0..memsize)
 * for everything it stores. Returns 0; -EINVAL when the document is not
 * valid TOML, -ENOMEM when it does not fit in the arena (doc->err says
 * where and why in both cases); the tree is then incomplete and must not
 * be used.
 */
int shim_toml_parse(struct shim_toml_doc *doc, void *mem, size_t memsize, const void *src, size_t len);

/* shim_toml_root: the root table of a parsed document. */
const struct shim_toml_node *shim_toml_root(const struct shim_toml_doc *doc);

/* shim_toml_child: the member of table t called key[0..len), or NULL (also
 * when t is NULL or not a table). */
const struct shim_toml_node *shim_toml_child(const struct shim_toml_doc *doc, const struct shim_toml_node *t,
                                             const char *key, size_t len);

/* shim_toml_get: follow the dotted path ("observability.exporter_port":
 * segments split at every '.', no quoting) through tables from `from` (NULL:
 * the root). "" is `from` itself. NULL when any segment is missing or
 * passes through something that is not a table. */
const struct shim_toml_node *shim_toml_get(const struct shim_toml_doc *doc, const struct shim_toml_node *from,
                                           const char *path);

/* shim_toml_first / shim_toml_next / shim_toml_parent: the tree links as
 * pointers, NULL at the ends. */
const struct shim_toml_node *shim_toml_first(const struct shim_toml_doc *doc, const struct shim_toml_node *n);
const struct shim_toml_node *shim_toml_next(const struct shim_toml_doc *doc, const struct shim_toml_node *n);
const struct shim_toml_node *shim_toml_parent(const struct shim_toml_doc *doc, const struct shim_toml_node *n);

/* shim_toml_at: element i of array a, or NULL. */
const struct shim_toml_node *shim_toml_at(const struct shim_toml_doc *doc, const struct shim_toml_node *a,
                                          uint32_t i);

/*
 * shim_toml_next_leaf: iterate over the leaves of table `under`, in
 * document order: pass prev = NULL for the first. A leaf is a member of a
 * table (or of a table nested in it, inline ones included) that is not a
 * table (arrays are leaves, their elements are not visited), or that is an
 * empty table. NULL when done.
 */
const struct shim_toml_node *shim_toml_next_leaf(const struct shim_toml_doc *doc, const struct shim_toml_node *under,
                                                 const struct shim_toml_node *prev);

/* shim_toml_key: a node's key (NUL-terminated, *len set when len is not
 * NULL); "" for array elements and the root. */
const char *shim_toml_key(const struct shim_toml_doc *doc, const struct shim_toml_node *n, size_t *len);

/* shim_toml_str: the text of a string or date-time node (NUL-terminated;
 * a string may also hold NULs, *len is exact), or NULL for other types. */
const char *shim_toml_str(const struct shim_toml_doc *doc, const struct shim_toml_node *n, size_t *len);

/*
 * shim_toml_path: write n's key path relative to `from` (an ancestor; NULL
 * or a non-ancestor: the root) into buf, as TOML would spell it: segments
 * joined by '.', a segment that is not a bare key in double quotes with
 * escapes, an array element as "[i]" (e.g. `metrics.enabled`,
 * `servers[1]."host.name"`). Returns the length; -ENOSPC (buf then holds
 * "") when it does not fit in size bytes with its NUL.
 */
int shim_toml_path(const struct shim_toml_doc *doc, const struct shim_toml_node *n, const struct shim_toml_node *from,
                   char *buf, size_t size);

/* shim_toml_type_name: "table", "array", "string", "integer", "float",
 * "bool", "datetime", "datetime-local", "date-local", "time-local" (the
 * toml-test spellings), "?" for anything else. */
const char *shim_toml_type_name(int type);

#endif
