/*
 * postgres.h - incremental PostgreSQL wire protocol (3.x) parser, one
 * direction of one connection, in the picohttpparser spirit (like http1.h).
 *
 * Contract:
 * - A parser instance follows ONE direction: the frontend (client->server
 *   bytes, mode SHIM_PG_FRONTEND, the zero value: it starts with the
 *   untyped startup packet) or the backend (server->client bytes, mode
 *   SHIM_PG_BACKEND: typed messages from the first byte). A zero-filled
 *   struct shim_pg is a frontend parser ready for the connection's first
 *   byte; shim_pg_init() sets the mode.
 * - The state is plain data: fixed size (sizeof(struct shim_pg) is all the
 *   memory the parser uses: 168 bytes on LP64), no pointers, no allocation,
 *   no globals, no I/O; it may be copied or memset. memset 0 (or
 *   shim_pg_init) recovers from any state.
 * - shim_pg_feed() is a pure function of (state, bytes, and the
 *   shim_pg_expect calls made on a backend parser): feeding the same stream
 *   in any split gives the same events at the same stream offsets. Message
 *   bodies are never buffered: the query text of Query/Parse goes through
 *   the incremental keyword scanner (sqlop.h), statement and portal names
 *   are hashed on the fly, everything else is skipped by length.
 * - Framing: the startup packet is int32 length (8..10000, including
 *   itself) + int32 code: protocol 3.x (major 3, any minor), SSLRequest
 *   80877103 and GSSENCRequest 80877104 (length 8), CancelRequest 80877102
 *   (length 16..268). Typed messages are a type byte + int32 length
 *   (4..0x3fffffff, including itself). An unknown type byte, a length out of
 *   range, a fixed-size message of the wrong size (Sync, Flush, Terminate,
 *   CopyDone, ReadyForQuery, ParseComplete, ...) or an unknown startup code
 *   is BAD (sticky: the caller drops the connection to pass-through).
 *
 * What the caller does, per connection (client side shown; for a server
 * the program reads the frontend bytes and writes the backend bytes, the
 * rules are the same):
 *
 *   1. Both parsers start zeroed apart from the modes. Every event of the
 *      frontend parser is passed to shim_pg_expect(&backend, &ev), in stream
 *      order, before the backend bytes that answer it are fed (the bytes of
 *      a request are always written before its answer can be read).
 *   2. Frontend SSL_REQUEST (SSLRequest or GSSENCRequest): the server
 *      answers with one byte; shim_pg_expect arms the backend for it. The
 *      backend reports SSL_ANSWER: flag SHIM_PG_F_ACCEPTED ('S' or 'G')
 *      means TLS / GSS encryption follows: both parsers return
 *      SHIM_PG_ENCRYPTED from then on: stop parsing the connection. 'N'
 *      (refused): the client goes on in clear with a startup packet. A
 *      frontend that sees a TLS record (0x16) where the startup packet
 *      should be also goes ENCRYPTED.
 *   3. Requests: the frontend reports REQ with kind SIMPLE (a Query
 *      message; op = keyword of its first statement), EXECUTE (an Execute
 *      message; op = keyword of the statement bound to the portal: the
 *      Parse / Bind pairing is tracked, unnamed and up to
 *      SHIM_PG_STMT_CAP named statements and SHIM_PG_PORTAL_CAP named
 *      portals) or FUNCTION (a FunctionCall). Push each REQ on a FIFO of
 *      pending requests (op, start time). SYNC events are not requests.
 *   4. Completions: every backend RESP event carries `done`: complete the
 *      `done` oldest pending requests, oldest first. The first `aborted`
 *      of them were skipped by the server after an earlier error of their
 *      extended-protocol batch (they never ran: count them as errors,
 *      error type "aborted"); the others (at most one) ended with
 *      SHIM_PG_F_ERROR set when it failed (sqlstate of the first error).
 *      The backend keeps its own run-length queue of what was passed to
 *      shim_pg_expect and applies the protocol's rules:
 *      - simple Query: one or more CommandComplete / EmptyQueryResponse /
 *        ErrorResponse (several statements in one Query), then one
 *        ReadyForQuery: the request completes at ReadyForQuery (done = 1,
 *        F_ERROR if an ErrorResponse came, rows = sum of the rows of its
 *        CommandCompletes); the COMPLETE events before it have done = 0.
 *        FunctionCall likewise (FunctionCallResponse, ReadyForQuery).
 *      - extended: each Execute gets exactly one of CommandComplete,
 *        EmptyQueryResponse, PortalSuspended or ErrorResponse (done = 1).
 *        After an ErrorResponse the server skips every message until Sync:
 *        the Executes left before that Sync get no completion and are
 *        completed by the ReadyForQuery answering the Sync (done = aborted
 *        = their number). An ErrorResponse while no Execute is pending in
 *        the batch (a Parse or Bind failed before its Execute was sent, or
 *        a Parse-only batch) has done = 0.
 *      - the ReadyForQuery ending the startup has done = 0 (flag
 *        SHIM_PG_F_STARTUP); an ErrorResponse before it is a failed login
 *        (done = 0; usually FATAL: SHIM_PG_F_FATAL). Nothing is completed
 *        before it: requests a client sends ahead of it stay queued.
 *      - ErrorResponse with SHIM_PG_F_FATAL: the server closes the
 *        connection next; what is still pending got no response.
 *      - NoticeResponse, NotificationResponse, ParameterStatus and the
 *        other messages make no event.
 *   5. If more than SHIM_PG_QUEUE_CAP runs of requests are pending (a
 *      very deep pipeline of alternating kinds), the backend stops tracking
 *      and sets SHIM_PG_F_DESYNC on its events until its queue drains; the
 *      event that empties it carries SHIM_PG_F_RESYNC: complete everything
 *      still pending in the caller's FIFO as unknown.
 *   6. Connection end: pending requests got no response.
 */
#ifndef SHIM_PROTO_POSTGRES_H
#define SHIM_PROTO_POSTGRES_H

#include <stddef.h>
#include <stdint.h>

#include "shim/proto/sqlop.h"

#define SHIM_PG_STMT_CAP 16   /* named prepared statements remembered (op by name hash) */
#define SHIM_PG_PORTAL_CAP 4  /* named portals remembered */
#define SHIM_PG_QUEUE_CAP 16  /* runs of pending requests the backend tracks */
#define SHIM_PG_MAX_LEN 0x3fffffffu /* largest typed message length accepted */
#define SHIM_PG_MAX_STARTUP 10000u  /* largest startup packet (the server's own limit) */

/* Which direction a parser follows (struct shim_pg.mode). */
enum shim_pg_mode { SHIM_PG_FRONTEND = 0, SHIM_PG_BACKEND = 1 };

/* Return values of shim_pg_feed(). */
enum shim_pg_rc {
    SHIM_PG_BAD = -1,       /* not PostgreSQL: drop the connection to pass-through */
    SHIM_PG_NEED_MORE = 0,  /* all bytes used, no event */
    SHIM_PG_EVENT = 1,      /* *ev filled; call again with the rest (even if empty) */
    SHIM_PG_ENCRYPTED = 2   /* TLS / GSS encryption from here on: stop parsing (sticky) */
};

/* Event types (struct shim_pg_event.type). */
enum shim_pg_ev_type {
    SHIM_PG_EV_NONE = 0,
    /* frontend */
    SHIM_PG_EV_STARTUP,     /* startup packet (protocol 3.minor in .code) */
    SHIM_PG_EV_SSL_REQUEST, /* SSLRequest, or GSSENCRequest (flag F_GSS): pass to shim_pg_expect */
    SHIM_PG_EV_CANCEL,      /* CancelRequest (a connection of its own, closed after it) */
    SHIM_PG_EV_REQ,         /* a request: .kind (simple / execute / function), .op */
    SHIM_PG_EV_SYNC,        /* Sync: ends an extended-protocol batch (not a request) */
    SHIM_PG_EV_TERMINATE,   /* Terminate */
    /* backend */
    SHIM_PG_EV_SSL_ANSWER,  /* the one-byte answer: F_ACCEPTED, or refused */
    SHIM_PG_EV_RESP         /* a response: .kind, .done, .aborted, ... */
};

/* REQ kinds (struct shim_pg_event.kind for REQ). */
enum shim_pg_req_kind {
    SHIM_PG_REQ_SIMPLE = 1,   /* Query: completes at ReadyForQuery */
    SHIM_PG_REQ_EXECUTE = 2,  /* Execute: completes at its own completion message */
    SHIM_PG_REQ_FUNCTION = 3  /* FunctionCall: completes at ReadyForQuery */
};

/* RESP kinds (struct shim_pg_event.kind for RESP). */
enum shim_pg_resp_kind {
    SHIM_PG_RESP_COMPLETE = 1,  /* CommandComplete: .op = the tag's command, .rows if F_ROWS */
    SHIM_PG_RESP_ERROR = 2,     /* ErrorResponse: .sqlstate */
    SHIM_PG_RESP_EMPTY = 3,     /* EmptyQueryResponse */
    SHIM_PG_RESP_SUSPENDED = 4, /* PortalSuspended (Execute row limit reached) */
    SHIM_PG_RESP_READY = 5      /* ReadyForQuery: .txn */
};

/* Event flags (struct shim_pg_event.flags). */
#define SHIM_PG_F_ERROR 0x01u    /* RESP: the completed (non-aborted) request failed / this is an error */
#define SHIM_PG_F_ROWS 0x02u     /* RESP: .rows holds a count (CommandComplete tag, or READY's sum) */
#define SHIM_PG_F_STARTUP 0x04u  /* RESP READY: the ReadyForQuery that ends the startup */
#define SHIM_PG_F_FATAL 0x08u    /* RESP ERROR: severity FATAL or PANIC (the server closes) */
#define SHIM_PG_F_DESYNC 0x10u   /* RESP: the backend's request queue overflowed: .done unreliable */
#define SHIM_PG_F_RESYNC 0x20u   /* RESP: queue drained after an overflow: flush the caller's FIFO */
#define SHIM_PG_F_GSS 0x40u      /* SSL_REQUEST: it was a GSSENCRequest */
#define SHIM_PG_F_ACCEPTED 0x80u /* SSL_ANSWER: encryption accepted ('S' or 'G') */

/*
 * One event. Every field is filled (zero when not meaningful).
 * `sqlstate` is NUL-terminated: 5 characters of the ErrorResponse 'C'
 * field (the error class is its first 2), "" when none was sent; for a
 * READY completing a failed simple query, that query's first error.
 */
struct shim_pg_event {
    uint8_t type;      /* enum shim_pg_ev_type */
    uint8_t kind;      /* REQ: enum shim_pg_req_kind; RESP: enum shim_pg_resp_kind */
    uint8_t op;        /* enum shim_sql_op: REQ: the statement's keyword; RESP COMPLETE: the tag's */
    uint8_t txn;       /* RESP READY: 'I' idle, 'T' in a transaction, 'E' failed transaction */
    uint16_t flags;    /* SHIM_PG_F_* */
    uint16_t done;     /* RESP: pending requests completed by this event (oldest first) */
    uint16_t aborted;  /* RESP: how many of those (the first ones) were skipped after an error */
    char sqlstate[6];
    uint32_t code;     /* STARTUP / SSL_REQUEST / CANCEL: the startup code */
    uint32_t msg_len;  /* the message's length field (0 for SSL_ANSWER) */
    uint64_t rows;     /* RESP with F_ROWS */
};

/* Private parts of struct shim_pg, per mode. */
struct shim_pg_front {
    uint32_t stmt_hash[SHIM_PG_STMT_CAP];   /* 0 = free slot */
    uint8_t stmt_op[SHIM_PG_STMT_CAP];
    uint32_t portal_hash[SHIM_PG_PORTAL_CAP];
    uint8_t portal_op[SHIM_PG_PORTAL_CAP];
    uint8_t unnamed_stmt_op;
    uint8_t unnamed_portal_op;
    uint8_t stmt_clock;     /* next slot to evict */
    uint8_t portal_clock;
    uint8_t startup_done;   /* typed messages from now on */
    uint8_t after_ssl;      /* an SSL/GSS request was sent: TLS may start */
    uint8_t pad[2];
    uint32_t hash2;         /* Bind: portal name hash while the statement name is read */
};

struct shim_pg_back {
    uint32_t qcount[SHIM_PG_QUEUE_CAP]; /* run lengths */
    uint8_t qkind[SHIM_PG_QUEUE_CAP];   /* run kinds */
    uint8_t qhead;
    uint8_t qlen;           /* runs in the queue */
    uint8_t ssl_pending;    /* next byte is the SSL/GSS answer */
    uint8_t failed;         /* an error in the current batch / simple query */
    uint8_t desync;         /* queue overflowed */
    uint8_t ready_seen;     /* the startup's ReadyForQuery was seen */
    uint8_t fatal;
    uint8_t pad;
    char err_state[6];      /* sqlstate of the pending simple query's first error */
    uint8_t pad2[2];
    uint64_t rows_sum;      /* rows of the pending simple query so far */
};

/*
 * Parser state. Set `mode` (or use shim_pg_init) before the first byte;
 * every other field is private to postgres.c.
 */
struct shim_pg {
    uint8_t mode;      /* enum shim_pg_mode */
    /* private */
    uint8_t state;
    uint8_t type;      /* type byte of the current message (0: startup packet) */
    uint8_t field;     /* body sub-state */
    uint8_t hpos;      /* bytes of the header read */
    uint8_t op;        /* op being built (tag, Close target kind, ...) */
    uint8_t flags;     /* per-message flags */
    uint8_t spos;      /* sqlstate / small field position */
    uint32_t len;      /* length field */
    uint32_t remaining;/* body bytes left */
    uint32_t num;      /* number being read */
    uint32_t hash;     /* name hash being built */
    uint64_t rows;     /* CommandComplete: the current tag word's number */
    char sqlstate[6];
    uint8_t ndig;      /* digits in the current tag word (0xff: not a number) */
    uint8_t pad;
    struct shim_sql_scan scan;
    union {
        struct shim_pg_front fe;
        struct shim_pg_back be;
    } u;
};

/* shim_pg_init: zero *st and set its mode. */
void shim_pg_init(struct shim_pg *st, enum shim_pg_mode mode);

/*
 * shim_pg_expect: backend parser only: hand it a frontend event (any type;
 * only SSL_REQUEST, REQ and SYNC change anything), in stream order, before
 * the backend bytes that answer it. See the pairing rules above.
 */
void shim_pg_expect(struct shim_pg *backend, const struct shim_pg_event *fe_ev);

/*
 * shim_pg_feed: parse up to len bytes of buf (buf may be NULL when len is
 * 0). The caller owns buf and *ev; nothing points into buf after the call.
 * Returns:
 *   SHIM_PG_NEED_MORE  every byte used, no event; *consumed = len.
 *   SHIM_PG_EVENT      *ev filled; *consumed = the bytes used up to and
 *                      including the event's last byte (the last byte of
 *                      its message). Call again with buf + *consumed even
 *                      when nothing is left: loop until NEED_MORE.
 *   SHIM_PG_ENCRYPTED  the stream is encrypted from here on; *consumed = 0
 *                      (bytes after the SSL answer / at the TLS record);
 *                      sticky.
 *   SHIM_PG_BAD        invalid stream; *consumed = the bytes accepted
 *                      before the offending byte; sticky until reset.
 * One event per call.
 */
int shim_pg_feed(struct shim_pg *st, const uint8_t *buf, size_t len,
                 struct shim_pg_event *ev, size_t *consumed);

/* shim_pg_idle: 1 when the parser is between messages (a connection that
 * ends here lost nothing of this direction), 0 inside one, -1 when BAD or
 * ENCRYPTED. */
int shim_pg_idle(const struct shim_pg *st);

/*
 * shim_pg_detect: cheap sniff of the first bytes a client sends. Returns 1
 * if buf begins with a startup packet, SSLRequest, GSSENCRequest or
 * CancelRequest (valid length and code), -1 if the len bytes (< 8) are a
 * proper prefix of one, 0 if not.
 */
int shim_pg_detect(const uint8_t *buf, size_t len);

#endif
