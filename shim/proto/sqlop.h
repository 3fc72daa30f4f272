/*
 * sqlop.h - the leading keyword of an SQL statement, shared by the
 * PostgreSQL and MySQL parsers (db_operation_name).
 *
 * Contract:
 * - The keyword is the first word of the statement after skipping, in any
 *   order and number: whitespace (space, \t, \n, \v, \f, \r), ';', '(',
 *   "-- ..." and "# ..." line comments (to the end of the line), and
 *   slash-star comments (nested, as PostgreSQL nests them). A MySQL
 *   executable comment "/" "*!" or "/" "*M!" followed by an optional
 *   version number is not skipped: its content is the statement
 *   ("/" "*!40101 SET NAMES utf8 *" "/" is SET).
 * - A word is a letter followed by letters, digits, '_' or '$'; it is
 *   compared case-insensitively with the keywords below, whole (SELECTX is
 *   OTHER). PostgreSQL's END and ABORT count as COMMIT and ROLLBACK, its
 *   ANALYSE as ANALYZE; MySQL's DESC as DESCRIBE. A WITH statement is
 *   reported as WITH (its main verb is not looked for).
 * - Anything else (a number, a quote, an unterminated comment, empty text)
 *   is SHIM_SQL_OTHER.
 * - Two forms: shim_sql_op() over a whole buffer, and the incremental
 *   scanner struct shim_sql_scan, fed the text in any split with the same
 *   result, which the protocol parsers use so that they never buffer query
 *   text. The scanner is plain data, 16 bytes, valid when zero-filled.
 */
#ifndef SHIM_PROTO_SQLOP_H
#define SHIM_PROTO_SQLOP_H

#include <stddef.h>
#include <stdint.h>

/* Statement keywords. OTHER is 0 so that a zeroed field means "unknown". */
enum shim_sql_op {
    SHIM_SQL_OTHER = 0,
    SHIM_SQL_SELECT,
    SHIM_SQL_INSERT,
    SHIM_SQL_UPDATE,
    SHIM_SQL_DELETE,
    SHIM_SQL_BEGIN,
    SHIM_SQL_START,
    SHIM_SQL_COMMIT,
    SHIM_SQL_ROLLBACK,
    SHIM_SQL_SAVEPOINT,
    SHIM_SQL_RELEASE,
    SHIM_SQL_COPY,
    SHIM_SQL_WITH,
    SHIM_SQL_SET,
    SHIM_SQL_SHOW,
    SHIM_SQL_CREATE,
    SHIM_SQL_DROP,
    SHIM_SQL_ALTER,
    SHIM_SQL_TRUNCATE,
    SHIM_SQL_GRANT,
    SHIM_SQL_REVOKE,
    SHIM_SQL_EXPLAIN,
    SHIM_SQL_ANALYZE,
    SHIM_SQL_VACUUM,
    SHIM_SQL_PREPARE,
    SHIM_SQL_EXECUTE,
    SHIM_SQL_DEALLOCATE,
    SHIM_SQL_CALL,
    SHIM_SQL_DO,
    SHIM_SQL_LOCK,
    SHIM_SQL_LISTEN,
    SHIM_SQL_NOTIFY,
    SHIM_SQL_UNLISTEN,
    SHIM_SQL_FETCH,
    SHIM_SQL_DECLARE,
    SHIM_SQL_CLOSE,
    SHIM_SQL_MERGE,
    SHIM_SQL_REPLACE,
    SHIM_SQL_USE,
    SHIM_SQL_DESCRIBE,
    SHIM_SQL_OP_COUNT
};

#define SHIM_SQL_WORD_CAP 10 /* longest keyword (DEALLOCATE) */

/*
 * Incremental scanner state: zero-fill (or shim_sql_scan_init) before the
 * first byte of a statement. Fields are private to sqlop.c.
 */
struct shim_sql_scan {
    uint8_t state;
    uint8_t depth; /* slash-star comment nesting */
    uint8_t len;   /* bytes in word */
    uint8_t op;    /* the decision, once state is done */
    char word[SHIM_SQL_WORD_CAP + 2];
};

/* shim_sql_scan_init: zero *s. */
void shim_sql_scan_init(struct shim_sql_scan *s);

/*
 * shim_sql_scan_feed: give the scanner the next n bytes of the statement
 * text (buf may be NULL when n is 0). Returns 1 once the keyword is decided
 * (further bytes are ignored and cost nothing), 0 while it needs more. It
 * looks at no byte past the decision.
 */
int shim_sql_scan_feed(struct shim_sql_scan *s, const uint8_t *buf, size_t n);

/*
 * shim_sql_scan_end: the text ended (or was cut: the parsers stop feeding
 * at the end of the message); returns the enum shim_sql_op. A word that
 * reaches the end of the text counts as whole. Does not change *s: it may be
 * called again, or before the end for what is known so far.
 */
int shim_sql_scan_end(const struct shim_sql_scan *s);

/* shim_sql_op: the keyword of text[0..n) (text may be NULL when n is 0). */
int shim_sql_op(const uint8_t *text, size_t n);

/* shim_sql_op_name: "SELECT" .. "DESCRIBE" for the known keywords, "_OTHER"
 * (the OpenTelemetry value) for OTHER and anything out of range. Static
 * storage. */
const char *shim_sql_op_name(int op);

#endif
