/*
 * memcached.h - incremental memcached protocol parser (text, meta and
 * binary), one direction of one connection, in the picohttpparser spirit
 * (same shape as http1.h and redis.h).
 *
 * Contract:
 * - A parser instance follows ONE direction: commands (client->server bytes,
 *   mode SHIM_MC_REQUEST, the zero value) or replies (server->client bytes,
 *   mode SHIM_MC_RESPONSE). A zero-filled struct shim_mc is a request
 *   parser ready for its first byte; shim_memcached_init() sets the mode.
 * - The state is plain data: fixed size (sizeof(struct shim_mc) is the whole
 *   memory the parser ever uses: 120 bytes on LP64), no pointers, no
 *   allocation, no globals, no I/O. memset 0 (or shim_memcached_init)
 *   recovers from any state.
 * - shim_memcached_feed() is a pure function of (state, bytes): feeding the
 *   same byte stream in any split gives the same events at the same stream
 *   offsets. Data blocks and values are skipped by length, never buffered;
 *   the only bytes kept are the first word of a text line (up to 15 bytes)
 *   and the 24-byte header of a binary packet.
 * - Protocol: like the server, the parser decides on the first byte of the
 *   stream: 0x80 (request) / 0x81 (response) is the binary protocol, any
 *   other byte the text protocol; the choice is sticky.
 *
 * Text protocol, commands (request mode): a line of space-separated tokens
 * ending in CRLF or a bare LF, no control bytes but TAB, at most
 * SHIM_MC_LINE_CAP bytes (get / gets / gat / gats lines: SHIM_MC_GET_LINE_CAP).
 * The first token names the command; unknown ones are SHIM_MC_CMD_OTHER with
 * the line skipped (the server answers ERROR, also to an empty line, which
 * is therefore a command too). Storage commands (set add replace append
 * prepend cas) and the meta ms are followed by a data block of the declared
 * <bytes> plus CRLF, skipped; as the server does, the block is expected only
 * when the line is well formed (enough tokens, key <= 250 bytes, numeric
 * flags / exptime / cas, <bytes> 0..2^31-3); otherwise the server answers
 * ERROR or CLIENT_ERROR and reads no block, and so does the parser. A block
 * not followed by CRLF is BAD.
 *
 * Text protocol, replies (response mode): the shape of a reply is told by
 * its first line (SHIM_MC_EXPECT_AUTO, the default) or by the caller
 * (shim_memcached_expect):
 * - "VALUE <key> <flags> <bytes> [<cas>]" starts a get reply: value blocks
 *   (skipped by <bytes>), then "END". hits = number of VALUE blocks. A lone
 *   "END" is a get with no hits.
 * - "STAT ..." starts a stats reply: lines until "END".
 * - Meta: "VA <size> <flags>*" + a value block (hits = 1); "HD" (hits = 1:
 *   for mg a hit without value), "EN" (miss), "NF", "NS", "EX", "MN", "ME ..."
 *   one line each.
 * - Everything else is one line: STORED NOT_STORED EXISTS NOT_FOUND DELETED
 *   TOUCHED OK RESET "VERSION x", a number (incr / decr), and the errors
 *   ERROR, "CLIENT_ERROR msg", "SERVER_ERROR msg" (is_error, error type from
 *   the word).
 * Only "stats <args>" replies made of other lines ("stats cachedump" ITEM
 * lines, "stats detail dump" PREFIX lines) need SHIM_MC_EXPECT_LINES.
 *
 * Binary protocol (both modes): 24-byte header (magic 0x80 request / 0x81
 * response, opcode, key length, extras length, data type (must be 0), status
 * or vbucket, total body length, opaque, cas) and a body skipped by length.
 * The opcode maps onto the same command ids (GetQ / GetK / GetKQ -> get,
 * SetQ -> set, Flush -> flush_all, Stat -> stats, Noop -> noop, GAT* -> gat;
 * SASL and others -> _OTHER). Replies are self-describing: a Stat reply is a
 * series of packets ended by one with an empty key (one RESP_DONE for the
 * series); status 0 is success, 1 (key not found), 2 (key exists), 5 (not
 * stored) and 0x21 (auth continue) are outcomes, not errors; any other
 * status is an error named by shim_memcached_error_name.
 *
 * Pairing replies with commands (the caller's job): the server answers in
 * order, so the caller keeps a FIFO of the commands of REQ_DONE events and
 * pops one per RESP_DONE, except:
 * - SHIM_MC_F_NOREPLY: no reply will come (text "noreply", quit, binary
 *   QuitQ): do not queue.
 * - SHIM_MC_F_QUIET: a reply comes only for some outcomes: meta "q" flag
 *   (mg: none on a miss; ms, md, ma: none on success), binary quiet opcodes
 *   (GetQ / GetKQ / GATQ: only on a hit; the other Q opcodes: only on an
 *   error). Queue them marked quiet and match each reply thus:
 *   1. a reply with SHIM_MC_F_OPAQUE answers the oldest pending command
 *      with the same opaque (and, binary, the same opcode: replies echo
 *      both, and clients often leave the opaque 0; meta replies carry an
 *      opaque when the client sent an O flag);
 *   2. else a reply with SHIM_MC_F_KEY (a meta reply with a k flag) answers
 *      the oldest pending command with the same keyhash;
 *   3. else it answers the oldest pending non-quiet command, unless that is
 *      an mn and the reply is not MN: then the oldest pending quiet one.
 *   Every quiet command queued before the one answered got no reply: it
 *   had its silent outcome (a miss for a get, success otherwise).
 *   Clients using quiet commands must tell the replies apart themselves, so
 *   they send O or k flags (or one quiet command at a time before mn).
 * - Before feeding a reply's first byte, tell the response parser what it
 *   answers when it matters: shim_memcached_expect(rsp,
 *   shim_memcached_expect_for(cmd)) at the previous RESP_DONE (or before the
 *   first reply) is always right; with AUTO every reply but the odd stats
 *   forms above is read correctly.
 * Cache lookups: REQ_DONE carries keys (get / gets: tokens after the
 * command; gat / gats: after the exptime; mg and binary gets: 1); the paired
 * RESP_DONE carries hits; misses = keys - hits (when not is_error).
 */
#ifndef SHIM_PROTO_MEMCACHED_H
#define SHIM_PROTO_MEMCACHED_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_MC_LINE_CAP 8192u                /* text line above (not get-family): BAD */
#define SHIM_MC_GET_LINE_CAP (1u << 21)       /* get / gets / gat / gats line above: BAD */
#define SHIM_MC_KEY_MAX 250u                  /* server's key length limit */
#define SHIM_MC_MAX_DATA 0x7ffffffdu          /* text data block length limit (INT_MAX - 2) */
#define SHIM_MC_BIN_BODY_CAP 0x40010000u      /* binary body above (1 GiB + 64 KiB): BAD */

/* Command ids (text words; binary opcodes map onto them). */
enum shim_mc_cmd {
    SHIM_MC_CMD_OTHER = 0,
    SHIM_MC_CMD_GET, SHIM_MC_CMD_GETS, SHIM_MC_CMD_GAT, SHIM_MC_CMD_GATS,
    SHIM_MC_CMD_SET, SHIM_MC_CMD_ADD, SHIM_MC_CMD_REPLACE, SHIM_MC_CMD_APPEND,
    SHIM_MC_CMD_PREPEND, SHIM_MC_CMD_CAS, SHIM_MC_CMD_DELETE, SHIM_MC_CMD_INCR,
    SHIM_MC_CMD_DECR, SHIM_MC_CMD_TOUCH, SHIM_MC_CMD_FLUSH_ALL, SHIM_MC_CMD_VERSION,
    SHIM_MC_CMD_STATS, SHIM_MC_CMD_VERBOSITY, SHIM_MC_CMD_QUIT,
    SHIM_MC_CMD_MG, SHIM_MC_CMD_MS, SHIM_MC_CMD_MD, SHIM_MC_CMD_MA, SHIM_MC_CMD_MN,
    SHIM_MC_CMD_ME, SHIM_MC_CMD_NOOP,
    SHIM_MC_CMD_COUNT
};

/* Reply results (struct shim_mc_event.result), from the reply's first word.
 * A get or stats reply ended by END is SHIM_MC_R_END; binary replies are
 * SHIM_MC_R_BINARY (see status). */
enum shim_mc_result {
    SHIM_MC_R_OTHER = 0,
    SHIM_MC_R_END, SHIM_MC_R_STORED, SHIM_MC_R_NOT_STORED, SHIM_MC_R_EXISTS,
    SHIM_MC_R_NOT_FOUND, SHIM_MC_R_DELETED, SHIM_MC_R_TOUCHED, SHIM_MC_R_OK,
    SHIM_MC_R_RESET, SHIM_MC_R_VERSION, SHIM_MC_R_NUMBER, SHIM_MC_R_ERROR,
    SHIM_MC_R_CLIENT_ERROR, SHIM_MC_R_SERVER_ERROR,
    SHIM_MC_R_HD, SHIM_MC_R_VA, SHIM_MC_R_EN, SHIM_MC_R_NF, SHIM_MC_R_NS,
    SHIM_MC_R_EX, SHIM_MC_R_MN, SHIM_MC_R_ME,
    SHIM_MC_R_BINARY,
    SHIM_MC_R_COUNT
};

/* Error types (struct shim_mc_event.error): the text error words and the
 * binary error statuses. */
enum shim_mc_error {
    SHIM_MC_E_NONE = 0,
    SHIM_MC_E_ERROR, SHIM_MC_E_CLIENT_ERROR, SHIM_MC_E_SERVER_ERROR,
    SHIM_MC_E_VALUE_TOO_LARGE,   /* 0x03 */
    SHIM_MC_E_INVALID_ARGUMENTS, /* 0x04 */
    SHIM_MC_E_NON_NUMERIC,       /* 0x06 incr/decr on a non-numeric value */
    SHIM_MC_E_NOT_MY_VBUCKET,    /* 0x07 */
    SHIM_MC_E_AUTH_ERROR,        /* 0x20 */
    SHIM_MC_E_UNKNOWN_COMMAND,   /* 0x81 */
    SHIM_MC_E_OUT_OF_MEMORY,     /* 0x82 */
    SHIM_MC_E_NOT_SUPPORTED,     /* 0x83 */
    SHIM_MC_E_INTERNAL_ERROR,    /* 0x84 */
    SHIM_MC_E_BUSY,              /* 0x85 */
    SHIM_MC_E_TEMPORARY_FAILURE, /* 0x86 */
    SHIM_MC_E_OTHER_STATUS,      /* any other non-zero binary status */
    SHIM_MC_E_COUNT
};

/* What the next text reply answers (shim_memcached_expect). */
enum shim_mc_expect {
    SHIM_MC_EXPECT_AUTO = 0, /* shape from the first line (see above) */
    SHIM_MC_EXPECT_GET,      /* get / gets / gat / gats: same as AUTO, named for clarity */
    SHIM_MC_EXPECT_LINES     /* stats with arguments: any lines until END, unless the
                                first line is a one-line reply (RESET, OK, errors ...) */
};

/* Which direction a parser follows (struct shim_mc.mode). */
enum shim_mc_mode { SHIM_MC_REQUEST = 0, SHIM_MC_RESPONSE = 1 };

/* Return values of shim_memcached_feed() and shim_memcached_eof(). */
enum shim_mc_rc {
    SHIM_MC_BAD = -1,      /* not memcached: drop the connection to pass-through */
    SHIM_MC_NEED_MORE = 0, /* feed: all bytes used, no event */
    SHIM_MC_EVENT = 1,     /* *ev filled; call again with the rest (even if empty) */
    SHIM_MC_TRUNCATED = 3, /* eof: the stream ended inside a command or reply */
    SHIM_MC_IDLE = 4       /* eof: the stream ended between messages (clean) */
};

/* Event types (struct shim_mc_event.type). */
enum shim_mc_ev_type {
    SHIM_MC_EV_NONE = 0,
    SHIM_MC_EV_REQ_BEGIN, /* request: first byte of a command */
    SHIM_MC_EV_REQ_DONE,  /* request: last byte of a command (and its data block) */
    SHIM_MC_EV_RESP_DONE  /* response: last byte of a whole reply */
};

/* Event flags (struct shim_mc_event.flags). */
#define SHIM_MC_F_BINARY  0x01u /* binary protocol */
#define SHIM_MC_F_NOREPLY 0x02u /* REQ_DONE: no reply will come */
#define SHIM_MC_F_QUIET   0x04u /* REQ_DONE: a reply comes only for some outcomes */
#define SHIM_MC_F_DATA    0x08u /* REQ_DONE: a data block followed the line (bytes = its length) */
#define SHIM_MC_F_OPAQUE  0x10u /* opaque is set: binary, or a meta "O<opaque>" flag */
#define SHIM_MC_F_KEY     0x20u /* keyhash is set: meta request key, or a meta reply's "k<key>" */

/*
 * One event. Fields not listed for a type are zero.
 * REQ_BEGIN: flags (F_BINARY).
 * REQ_DONE: cmd, keys, flags, bytes (data block / binary value length);
 *   binary: opcode, opaque; meta: keyhash of the key, opaque of an O flag.
 * RESP_DONE: result, is_error, error, hits, bytes (value bytes in the
 *   reply; binary: the body less key and extras, also for an error
 *   message); binary: cmd and opcode (echoed), status, opaque; meta:
 *   keyhash of a k flag, opaque of an O flag. keyhash and opaque of meta
 *   lines are the same 32-bit FNV-1a hash on both sides, so a reply's
 *   k / O flag compares equal to its request's key / O flag.
 */
struct shim_mc_event {
    uint8_t type;     /* enum shim_mc_ev_type */
    uint8_t flags;    /* SHIM_MC_F_* */
    uint8_t cmd;      /* enum shim_mc_cmd */
    uint8_t result;   /* enum shim_mc_result */
    uint8_t is_error; /* RESP_DONE: 1 for an error reply */
    uint8_t error;    /* enum shim_mc_error */
    uint8_t opcode;   /* binary opcode */
    uint8_t pad;
    uint16_t status;  /* binary status */
    uint16_t pad2;
    uint32_t keys;    /* REQ_DONE: cache lookups */
    uint32_t hits;    /* RESP_DONE: values found */
    uint32_t opaque;  /* F_OPAQUE: binary opaque, or hash of a meta O flag's value */
    uint32_t keyhash; /* F_KEY: hash of the key (meta only) */
    uint64_t bytes;
};

/*
 * Parser state. Set `mode` (or use shim_memcached_init) before the first
 * byte, and `expect` through shim_memcached_expect; every other field is
 * private to memcached.c.
 */
struct shim_mc {
    uint8_t mode;    /* enum shim_mc_mode */
    uint8_t expect;  /* response mode: enum shim_mc_expect for the next reply */
    /* private */
    uint8_t proto;   /* 0 undecided, 1 text, 2 binary */
    uint8_t state;
    uint8_t cmd;     /* request: command of the line; response: first word id */
    uint8_t evflags;
    uint8_t bits;    /* token bits */
    uint8_t wlen;    /* first-word bytes kept; > 15: too long */
    uint8_t tlen;    /* bytes of the current token (saturates at 255) */
    uint8_t mpos;    /* "noreply" matcher position */
    uint8_t lentok;  /* index of the token holding a length (0: none) */
    uint8_t shape;   /* reply shape */
    uint8_t result;
    uint8_t error;
    uint8_t hpos;    /* binary header bytes collected */
    uint8_t nummask; /* tokens 1..7 that are unsigned numbers */
    uint8_t negmask; /* tokens 1..7 that are '-' numbers */
    uint8_t hbits;   /* meta: what the current token hashes */
    uint8_t pad[2];
    uint32_t ntok;   /* tokens on the line so far */
    uint32_t linelen;
    uint32_t keys;   /* request: keys of the command */
    uint32_t hits;   /* response: values found */
    uint32_t lines;  /* response: lines of the reply so far */
    uint64_t num;       /* the length token's value */
    uint64_t remaining; /* data block / binary body bytes left */
    uint64_t bytes;     /* data block / value bytes */
    uint32_t hash;      /* running hash of the current O / k token */
    uint32_t opaque;
    uint32_t keyhash;
    char word[16];
    uint8_t hdr[24];
};

/* shim_memcached_init: zero *st and set its mode. */
void shim_memcached_init(struct shim_mc *st, enum shim_mc_mode mode);

/*
 * shim_memcached_expect: response mode: say what the next text reply
 * answers. Call it between replies: before feeding, or at the previous
 * reply's RESP_DONE (pipelining). The parser reads it when the reply's
 * first line is complete and resets it to AUTO at RESP_DONE. Equivalent to
 * setting st->expect. Binary replies ignore it.
 */
void shim_memcached_expect(struct shim_mc *st, enum shim_mc_expect kind);

/* shim_memcached_expect_for: the expect kind for a reply to cmd: LINES for
 * stats, GET for the get family, AUTO otherwise. */
enum shim_mc_expect shim_memcached_expect_for(enum shim_mc_cmd cmd);

/*
 * shim_memcached_feed: parse up to len bytes of buf (buf may be NULL when
 * len is 0). Returns:
 *   SHIM_MC_NEED_MORE  every byte used, no event; *consumed = len.
 *   SHIM_MC_EVENT      *ev filled, *consumed = bytes used up to and including
 *                      the event's last byte. Usually >= 1; 0 for the
 *                      REQ_DONE of an empty command line that is a bare LF
 *                      (its REQ_BEGIN took the LF). Call again with
 *                      buf + *consumed even when nothing is left: loop until
 *                      NEED_MORE.
 *   SHIM_MC_BAD        not memcached; *consumed = the bytes accepted before
 *                      the offending byte; sticky until the state is reset.
 * One event per call. After shim_memcached_eof, feeding is BAD.
 */
int shim_memcached_feed(struct shim_mc *st, const uint8_t *buf, size_t len,
                        struct shim_mc_event *ev, size_t *consumed);

/*
 * shim_memcached_eof: the direction ended. Returns SHIM_MC_IDLE between
 * messages, SHIM_MC_TRUNCATED inside one, SHIM_MC_BAD if the state was BAD.
 * (A pending REQ_DONE not fetched with feed is lost: loop feed to
 * NEED_MORE first.) Afterwards the parser is closed.
 */
int shim_memcached_eof(struct shim_mc *st);

/*
 * shim_memcached_detect_request: sniff the first bytes a client sent.
 * Returns 1 if buf begins with a text command word (lower case, as the
 * server requires: get gets gat gats set add replace append prepend cas
 * delete incr decr touch flush_all version stats verbosity quit mg ms md ma
 * mn me) followed by a space, CR or LF, or with a plausible binary request
 * header (magic 0x80, known opcode, data type 0, key + extras <= body);
 * -1 if the len bytes are a proper prefix of such a beginning; 0 otherwise.
 */
int shim_memcached_detect_request(const uint8_t *buf, size_t len);

/* shim_memcached_detect_response: the same for server bytes: a text reply
 * word (VALUE END STORED ... ERROR CLIENT_ERROR SERVER_ERROR, meta HD VA EN
 * NF NS EX MN ME) followed by a space or CR, a number and CRLF, or a binary
 * response header (magic 0x81). */
int shim_memcached_detect_response(const uint8_t *buf, size_t len);

/* Names (static storage): the command's lower-case text word ("get",
 * "flush_all", "noop" ...) or "_OTHER"; the error type ("ERROR",
 * "CLIENT_ERROR", "SERVER_ERROR", "VALUE_TOO_LARGE" ...) or "" for NONE;
 * the result word ("STORED", "END", "NUMBER", "BINARY" ...) or "_OTHER".
 * Out-of-range values give the OTHER / NONE name. */
const char *shim_memcached_command_name(unsigned cmd);
const char *shim_memcached_error_name(unsigned error);
const char *shim_memcached_result_name(unsigned result);

#endif
