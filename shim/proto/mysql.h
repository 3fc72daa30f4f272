/*
 * mysql.h - incremental MySQL / MariaDB client/server protocol parser, one
 * direction of one connection, in the picohttpparser spirit (like http1.h).
 *
 * Contract:
 * - A parser instance follows ONE direction: the frontend (client->server
 *   bytes, mode SHIM_MYSQL_FRONTEND, the zero value) or the backend
 *   (server->client bytes, SHIM_MYSQL_BACKEND). A zeroed parser expects the
 *   start of a connection: the backend the server greeting, the frontend
 *   the client's HandshakeResponse. shim_mysql_init() sets the mode.
 * - The state is plain data: fixed size (sizeof(struct shim_mysql) is all
 *   the memory the parser uses: 248 bytes on LP64), no pointers, no
 *   allocation, no globals, no I/O. memset 0 (or shim_mysql_init) recovers
 *   from any state.
 * - shim_mysql_feed() is a pure function of (state, bytes, and the
 *   shim_mysql_expect calls made on a backend parser): feeding the same
 *   stream in any split gives the same events at the same stream offsets.
 *   Payloads are never buffered: the first SHIM_MYSQL_PREFIX bytes of each
 *   packet are kept to decode OK / ERR / EOF / column counts / prepare
 *   answers, query text goes through the incremental keyword scanner
 *   (sqlop.h), the rest is skipped by length.
 * - Framing: packets are a 3-byte little-endian payload length, a 1-byte
 *   sequence id and the payload; a payload of 0xffffff bytes continues in
 *   the next packet (a "logical packet" may span several). Events are
 *   reported at the last byte of the logical packet that ends them.
 *
 * What the caller does, per connection (client side; a server program
 * reads the frontend bytes and writes the backend bytes, same rules):
 *
 *   1. Both parsers start zeroed apart from the modes. Every frontend event
 *      is passed to shim_mysql_expect(&backend, &ev), in stream order,
 *      before the backend bytes that answer it are fed (a request is always
 *      written before its answer can be read).
 *   2. Handshake: the backend reports GREETING (server capabilities, .caps);
 *      the frontend reports HANDSHAKE (client capabilities, .caps). If the
 *      client asked for TLS (the short SSLRequest packet with CLIENT_SSL),
 *      HANDSHAKE has SHIM_MYSQL_F_SSL and both parsers return
 *      SHIM_MYSQL_ENCRYPTED from then on (the backend once told through
 *      shim_mysql_expect): stop parsing the connection. Likewise with
 *      CLIENT_COMPRESS / zstd compression (flag SHIM_MYSQL_F_COMPRESS): the
 *      frontend right after HANDSHAKE, the backend after the handshake's
 *      end. Auth switch and auth-more-data exchanges are followed; the
 *      backend reports the end of the handshake as RESP_DONE with cmd
 *      SHIM_MYSQL_CMD_CONNECT (SHIM_MYSQL_F_ERROR and .err_code on a
 *      failed login). The backend decodes responses with the capabilities
 *      both sides have (CLIENT_DEPRECATE_EOF, CLIENT_PROTOCOL_41): it takes
 *      the server's from the greeting and the client's from the HANDSHAKE
 *      event given to shim_mysql_expect.
 *   3. Commands: the frontend reports REQ for every command packet
 *      (sequence id 0): .cmd (COM_*), .op (keyword of the query text for
 *      COM_QUERY and COM_STMT_PREPARE, else OTHER), .stmt_id (for the
 *      COM_STMT_* that carry one). SHIM_MYSQL_F_NORESP marks the commands
 *      the server never answers (COM_QUIT, COM_STMT_CLOSE,
 *      COM_STMT_SEND_LONG_DATA): do not wait for them. Push every other REQ
 *      on a FIFO (start time); the frontend ignores packets of sequence id
 *      > 0 (auth data, LOAD DATA LOCAL file contents).
 *   4. Completions: the backend reports one RESP_DONE per answered command,
 *      in order, when the command's whole response has been read (every
 *      result set of a multi-result answer, the column and parameter
 *      definitions of a prepare answer, the server's answer after LOAD DATA
 *      LOCAL file contents). Pop the oldest FIFO entry. RESP_DONE carries
 *      the cmd and op it answers (for COM_STMT_EXECUTE / FETCH / RESET /
 *      BULK_EXECUTE the op of the prepared statement, recalled by statement
 *      id from the backend's map filled by the prepare answers: up to
 *      SHIM_MYSQL_STMT_CAP statements; id 0xffffffff means the last
 *      prepared one, as MariaDB's direct execution sends it), ok or
 *      SHIM_MYSQL_F_ERROR with .err_code and .sqlstate (the first ERR ends a
 *      response, also in the middle of a multi-result one), .rows (rows of
 *      all result sets), .affected (sum of the OK packets' affected rows),
 *      .results (result sets and OKs in the answer). MariaDB progress
 *      reports (ERR with code 0xffff) are skipped.
 *   5. Up to SHIM_MYSQL_QUEUE_CAP commands may be pipelined (sent before
 *      the first is answered). Beyond that the backend stops tracking and
 *      sets SHIM_MYSQL_F_DESYNC on its events until its queue drains; the
 *      RESP_DONE that empties it carries SHIM_MYSQL_F_RESYNC: complete
 *      everything still in the caller's FIFO as unknown. A packet that
 *      arrives while nothing is pending is skipped, except an ERR (a
 *      server killing the connection): RESP_DONE with cmd 0, error.
 *   6. Commands whose answer the parser cannot frame (binlog and table
 *      dumps, COM_CLONE, group replication streams, MariaDB's COM_MULTI)
 *      make the backend skip everything after them: no RESP_DONE. A
 *      command byte no server knows (above 0x21 other than 0xfa, 0xfe) is
 *      BAD on the frontend.
 *   7. Connection end: what is still pending got no response; a
 *      COM_QUIT's connection closing is its normal end.
 */
#ifndef SHIM_PROTO_MYSQL_H
#define SHIM_PROTO_MYSQL_H

#include <stddef.h>
#include <stdint.h>

#include "shim/proto/sqlop.h"

#define SHIM_MYSQL_PREFIX 20     /* payload bytes kept per packet: enough for the status of an
                                    OK packet unless both its counts need 9 bytes */
#define SHIM_MYSQL_QUEUE_CAP 8   /* pipelined commands tracked by the backend */
#define SHIM_MYSQL_STMT_CAP 16   /* prepared statements remembered (op by id) */
#define SHIM_MYSQL_MAX_COLUMNS 65535u /* a column / parameter count above this is BAD */

/* Which direction a parser follows (struct shim_mysql.mode). */
enum shim_mysql_mode { SHIM_MYSQL_FRONTEND = 0, SHIM_MYSQL_BACKEND = 1 };

/* Return values of shim_mysql_feed(). */
enum shim_mysql_rc {
    SHIM_MYSQL_BAD = -1,       /* not MySQL: drop the connection to pass-through */
    SHIM_MYSQL_NEED_MORE = 0,  /* all bytes used, no event */
    SHIM_MYSQL_EVENT = 1,      /* *ev filled; call again with the rest (even if empty) */
    SHIM_MYSQL_ENCRYPTED = 2   /* TLS or compression from here on: stop parsing (sticky) */
};

/* Event types (struct shim_mysql_event.type). */
enum shim_mysql_ev_type {
    SHIM_MYSQL_EV_NONE = 0,
    SHIM_MYSQL_EV_GREETING,   /* backend: server greeting (.caps, .proto) */
    SHIM_MYSQL_EV_HANDSHAKE,  /* frontend: HandshakeResponse or SSLRequest (.caps, F_SSL) */
    SHIM_MYSQL_EV_REQ,        /* frontend: a command (.cmd, .op, .stmt_id, F_NORESP) */
    SHIM_MYSQL_EV_RESP_DONE   /* backend: a command's (or the handshake's) whole answer */
};

/* Commands (COM_*) the parsers know by name; .cmd carries any byte. */
enum shim_mysql_cmd {
    SHIM_MYSQL_COM_SLEEP = 0x00,         /* RESP_DONE cmd 0: unsolicited ERR */
    SHIM_MYSQL_COM_QUIT = 0x01,
    SHIM_MYSQL_COM_INIT_DB = 0x02,
    SHIM_MYSQL_COM_QUERY = 0x03,
    SHIM_MYSQL_COM_FIELD_LIST = 0x04,
    SHIM_MYSQL_COM_STATISTICS = 0x09,
    SHIM_MYSQL_COM_PROCESS_INFO = 0x0a,
    SHIM_MYSQL_COM_PING = 0x0e,
    SHIM_MYSQL_COM_CHANGE_USER = 0x11,
    SHIM_MYSQL_COM_BINLOG_DUMP = 0x12,
    SHIM_MYSQL_COM_TABLE_DUMP = 0x13,
    SHIM_MYSQL_COM_STMT_PREPARE = 0x16,
    SHIM_MYSQL_COM_STMT_EXECUTE = 0x17,
    SHIM_MYSQL_COM_STMT_SEND_LONG_DATA = 0x18,
    SHIM_MYSQL_COM_STMT_CLOSE = 0x19,
    SHIM_MYSQL_COM_STMT_RESET = 0x1a,
    SHIM_MYSQL_COM_SET_OPTION = 0x1b,
    SHIM_MYSQL_COM_STMT_FETCH = 0x1c,
    SHIM_MYSQL_COM_BINLOG_DUMP_GTID = 0x1e,
    SHIM_MYSQL_COM_RESET_CONNECTION = 0x1f,
    SHIM_MYSQL_COM_STMT_BULK_EXECUTE = 0xfa, /* MariaDB */
    SHIM_MYSQL_CMD_CONNECT = 0xf0            /* pseudo: the connection handshake */
};

/* Capability flags the parsers look at. */
#define SHIM_MYSQL_CLIENT_COMPRESS 0x00000020u
#define SHIM_MYSQL_CLIENT_PROTOCOL_41 0x00000200u
#define SHIM_MYSQL_CLIENT_SSL 0x00000800u
#define SHIM_MYSQL_CLIENT_DEPRECATE_EOF 0x01000000u
#define SHIM_MYSQL_CLIENT_ZSTD 0x04000000u
#define SHIM_MYSQL_CLIENT_QUERY_ATTRIBUTES 0x08000000u

/* Event flags (struct shim_mysql_event.flags). */
#define SHIM_MYSQL_F_ERROR 0x01u     /* RESP_DONE: the command failed (ERR packet) */
#define SHIM_MYSQL_F_NORESP 0x02u    /* REQ: the server does not answer this command */
#define SHIM_MYSQL_F_SSL 0x04u       /* HANDSHAKE: TLS follows */
#define SHIM_MYSQL_F_COMPRESS 0x08u  /* HANDSHAKE: compressed protocol negotiated */
#define SHIM_MYSQL_F_DESYNC 0x10u    /* RESP_DONE: the pipeline queue overflowed: cmd/op unreliable */
#define SHIM_MYSQL_F_RESYNC 0x20u    /* RESP_DONE: queue drained after an overflow: flush the FIFO */
#define SHIM_MYSQL_F_CURSOR 0x40u    /* RESP_DONE: COM_STMT_EXECUTE opened a cursor (rows via FETCH) */
#define SHIM_MYSQL_F_INFILE 0x80u    /* RESP_DONE: the answer included a LOAD DATA LOCAL request */

/* One event. Every field is filled (zero when not meaningful). */
struct shim_mysql_event {
    uint8_t type;       /* enum shim_mysql_ev_type */
    uint8_t cmd;        /* REQ / RESP_DONE: the command byte (CMD_CONNECT for the handshake) */
    uint8_t op;         /* enum shim_sql_op */
    uint8_t proto;      /* GREETING: protocol version (10) */
    uint16_t flags;     /* SHIM_MYSQL_F_* */
    uint16_t err_code;  /* RESP_DONE with F_ERROR */
    char sqlstate[6];   /* RESP_DONE with F_ERROR: 5 chars when the server sent one, NUL-terminated */
    uint8_t seq;        /* sequence id of the event's last packet */
    uint8_t pad;
    uint32_t stmt_id;   /* REQ: the COM_STMT_* id; RESP_DONE: PREPARE's new id, EXECUTE's id */
    uint32_t caps;      /* GREETING: server capabilities; HANDSHAKE: client capabilities */
    uint32_t results;   /* RESP_DONE: result sets + OK packets in the answer */
    uint64_t rows;      /* RESP_DONE: rows of the result sets (FETCH: rows fetched) */
    uint64_t affected;  /* RESP_DONE: sum of affected rows of its OK packets */
};

/* The answer being read (backend, private). */
struct shim_mysql_resp {
    uint8_t cmd;
    uint8_t op;
    uint16_t flags;
    uint16_t err_code;
    char sqlstate[6];
    uint32_t stmt_id;
    uint32_t results;
    uint64_t rows;
    uint64_t affected;
};

/*
 * Parser state. Set `mode` (or use shim_mysql_init) before the first byte;
 * every other field is private to mysql.c.
 */
struct shim_mysql {
    uint8_t mode;        /* enum shim_mysql_mode */
    /* private */
    uint8_t state;       /* header / payload / encrypted / bad */
    uint8_t phase;       /* handshake phases, commands */
    uint8_t hpos;        /* header bytes read */
    uint8_t seq;         /* sequence id of the current packet */
    uint8_t first_seq;   /* sequence id of the logical packet's first fragment */
    uint8_t cont;        /* the current packet continues a 0xffffff one */
    uint8_t npfx;        /* bytes in pfx */
    uint8_t field;       /* payload sub-state (text, greeting fields) */
    uint8_t fpos;        /* where the query text starts */
    uint8_t rs;          /* backend: response state */
    uint8_t section;     /* backend: which definitions are being read */
    uint8_t flags;       /* misc bits */
    uint8_t qhead, qlen; /* backend: pending commands */
    uint8_t desync;      /* backend: the queue overflowed */
    uint32_t plen;       /* current packet's length field */
    uint32_t remaining;  /* payload bytes left in the current packet */
    uint32_t pos;        /* bytes of the logical payload so far (saturating) */
    uint32_t caps_server;
    uint32_t caps_client;
    uint16_t left;       /* backend: definitions left; greeting: version NUL position + 1 */
    uint16_t ncols;      /* backend: prepare answer's column count */
    uint8_t pfx[SHIM_MYSQL_PREFIX];
    struct shim_sql_scan scan;
    uint8_t stmt_clock;  /* next statement slot to evict */
    uint8_t last_prep_op;
    uint8_t pad[2];
    struct shim_mysql_resp acc;
    /* backend: pending commands (a ring) and prepared statements */
    uint8_t q_cmd[SHIM_MYSQL_QUEUE_CAP];
    uint8_t q_op[SHIM_MYSQL_QUEUE_CAP];
    uint32_t q_id[SHIM_MYSQL_QUEUE_CAP];
    uint32_t stmt_id[SHIM_MYSQL_STMT_CAP];
    uint8_t stmt_op[SHIM_MYSQL_STMT_CAP]; /* op + 1; 0: free */
};

/* shim_mysql_init: zero *st and set its mode. */
void shim_mysql_init(struct shim_mysql *st, enum shim_mysql_mode mode);

/*
 * shim_mysql_expect: backend parser only: hand it a frontend event (every
 * one, in stream order, before the backend bytes answering it): HANDSHAKE
 * gives it the client's capabilities (and TLS / compression), REQ queues
 * the command whose answer comes next (REQs with F_NORESP are not queued;
 * COM_STMT_CLOSE forgets the statement). Like shim_h1_expect, it is the
 * caller's way of telling the response parser what it answers.
 */
void shim_mysql_expect(struct shim_mysql *backend, const struct shim_mysql_event *fe_ev);

/*
 * shim_mysql_feed: parse up to len bytes of buf (buf may be NULL when len
 * is 0). The caller owns buf and *ev; nothing points into buf after the
 * call. Returns:
 *   SHIM_MYSQL_NEED_MORE  every byte used, no event; *consumed = len.
 *   SHIM_MYSQL_EVENT      *ev filled; *consumed = the bytes used up to and
 *                         including the event's last byte. Call again with
 *                         buf + *consumed even when nothing is left: loop
 *                         until NEED_MORE.
 *   SHIM_MYSQL_ENCRYPTED  TLS / compression from here on; *consumed = 0;
 *                         sticky.
 *   SHIM_MYSQL_BAD        invalid stream; *consumed = the bytes accepted
 *                         before the offending byte; sticky until reset.
 * One event per call.
 */
int shim_mysql_feed(struct shim_mysql *st, const uint8_t *buf, size_t len,
                    struct shim_mysql_event *ev, size_t *consumed);

/* shim_mysql_idle: 1 between packets and with no answer in progress
 * (backend) / no command packet in progress (frontend), 0 otherwise, -1
 * when BAD or ENCRYPTED. */
int shim_mysql_idle(const struct shim_mysql *st);

/*
 * shim_mysql_detect: cheap sniff of the first bytes a server sends (the
 * server speaks first): a protocol 10 greeting (length 33..1024, sequence
 * 0, version byte 10, then a version string starting with a digit), or an
 * ERR packet of sequence 0 with an error code 1000..4999 (too many
 * connections, host blocked). Returns 1, -1 if the len bytes (< 6) are a
 * proper prefix of one, 0 if not.
 */
int shim_mysql_detect(const uint8_t *buf, size_t len);

/* shim_mysql_cmd_name: "COM_QUERY" .. for the known commands,
 * "CONNECT" for SHIM_MYSQL_CMD_CONNECT, "COM_UNKNOWN" otherwise. */
const char *shim_mysql_cmd_name(int cmd);

#endif
