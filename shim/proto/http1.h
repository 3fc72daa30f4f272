/*
 * http1.h - incremental HTTP/1.0 and HTTP/1.1 message parser, one direction
 * of one connection, in the picohttpparser spirit.
 *
 * Contract:
 * - A parser instance follows ONE direction: requests (client->server bytes,
 *   mode SHIM_H1_REQUEST, the zero value) or responses (server->client bytes,
 *   mode SHIM_H1_RESPONSE). A zero-filled struct shim_h1 is a request parser
 *   ready for its first message; shim_h1_init() sets the mode.
 * - The state is plain data: fixed size (sizeof(struct shim_h1) is the whole
 *   memory the parser ever uses: 312 bytes on LP64), no pointers, no
 *   allocation, no globals, no I/O. It may be memset, copied or placed in
 *   shared memory. memset 0 (or shim_h1_init) recovers from any state.
 * - shim_h1_feed() is a pure function of (state, bytes): feeding the same
 *   byte stream in any split gives the same events at the same stream offsets.
 *   Bodies are never buffered; the only bytes copied are the request target
 *   (up to SHIM_H1_PATH_CAP) into st->path. Header lines are checked and
 *   counted (SHIM_H1_HEAD_CAP) but not stored; Content-Length,
 *   Transfer-Encoding, Connection and Upgrade are interpreted on the fly.
 * - Grammar accepted: request line "METHOD SP target SP HTTP/1.d", status
 *   line "HTTP/1.d SP DDD [SP reason]" (d any digit: 0 means HTTP/1.0
 *   semantics, any other digit HTTP/1.1 semantics; minor reported as is).
 *   Runs of spaces between the tokens of the first line are tolerated. Lines
 *   end in CRLF or bare LF. Empty lines before a message are skipped.
 *   Method: 1-16 of A-Z, '-', '_'. Target: bytes 0x21-0x7e and >= 0x80.
 *   Header names are RFC 9110 tokens (no space before ':'), values may hold
 *   HTAB, 0x20-0x7e and >= 0x80. An obs-fold continuation line is ignored,
 *   except after Content-Length / Transfer-Encoding / Connection / Upgrade or
 *   as the first header line (BAD).
 * - Body framing (RFC 9112 section 6.3): Transfer-Encoding whose last coding
 *   is chunked wins over Content-Length; a request with another final coding
 *   is BAD, a response with one is read until close. Content-Length must be
 *   digits only (optional surrounding whitespace), at most 2^64-1; two
 *   different values are BAD, repeats of the same value are fine. A request
 *   with neither has no body; a response with neither is read until close.
 *   Responses to HEAD, 1xx, 204 and 304 have no body; a 2xx answering
 *   CONNECT and a 101 end HTTP on the connection (SHIM_H1_UPGRADED after).
 */
#ifndef SHIM_PROTO_HTTP1_H
#define SHIM_PROTO_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_H1_PATH_CAP 256    /* request-target bytes kept; the rest is cut, flag set */
#define SHIM_H1_HEAD_CAP 16384  /* max bytes of start line + headers (also of trailers, one chunk-size line) */

/* HTTP methods. OTHER is 0 so that a zeroed field means "unknown". */
enum shim_http_method {
    SHIM_HTTP_OTHER = 0,
    SHIM_HTTP_GET,
    SHIM_HTTP_HEAD,
    SHIM_HTTP_POST,
    SHIM_HTTP_PUT,
    SHIM_HTTP_DELETE,
    SHIM_HTTP_CONNECT,
    SHIM_HTTP_OPTIONS,
    SHIM_HTTP_TRACE,
    SHIM_HTTP_PATCH,
    SHIM_HTTP_METHOD_COUNT
};

/* Which direction a parser follows (struct shim_h1.mode). */
enum shim_h1_mode { SHIM_H1_REQUEST = 0, SHIM_H1_RESPONSE = 1 };

/* Return values of shim_h1_feed() and shim_h1_eof(). */
enum shim_h1_rc {
    SHIM_H1_BAD = -1,      /* not valid HTTP/1.x: drop the connection to pass-through */
    SHIM_H1_NEED_MORE = 0, /* feed: all bytes used, no event */
    SHIM_H1_EVENT = 1,     /* *ev filled; call again with the rest (even if empty) */
    SHIM_H1_UPGRADED = 2,  /* after a 101 / CONNECT tunnel: bytes are not HTTP any more */
    SHIM_H1_TRUNCATED = 3, /* eof: the stream ended inside a message */
    SHIM_H1_IDLE = 4       /* eof: the stream ended between messages (clean) */
};

/* Event types (struct shim_h1_event.type). */
enum shim_h1_ev_type {
    SHIM_H1_EV_NONE = 0,
    SHIM_H1_EV_BEGIN,     /* first byte of a message */
    SHIM_H1_EV_HEAD,      /* start line and headers complete (HEAD_DONE) */
    SHIM_H1_EV_DONE,      /* last byte of the message (MESSAGE_DONE) */
    SHIM_H1_EV_TRUNCATED  /* shim_h1_eof inside a message: what was known */
};

/* How the body's end is found (struct shim_h1_event.body). */
enum shim_h1_body {
    SHIM_H1_BODY_NONE = 0, /* no body: MESSAGE_DONE follows HEAD_DONE at once */
    SHIM_H1_BODY_LENGTH,   /* Content-Length bytes */
    SHIM_H1_BODY_CHUNKED,  /* chunked transfer coding, ended by the 0 chunk and trailers */
    SHIM_H1_BODY_CLOSE     /* response read until the connection closes: shim_h1_eof */
};

/* Event flags (struct shim_h1_event.flags). */
#define SHIM_H1_F_CLOSE      0x01u /* connection closes after this message (Connection: close,
                                      HTTP/1.0 without keep-alive, body until close) */
#define SHIM_H1_F_PATH_TRUNC 0x02u /* request target longer than SHIM_H1_PATH_CAP: path cut */
#define SHIM_H1_F_UPGRADE    0x04u /* request: CONNECT, or Upgrade + Connection: upgrade (the
                                      bytes after it may not be HTTP); response: 101 or 2xx to
                                      CONNECT (parser is UPGRADED after MESSAGE_DONE) */
#define SHIM_H1_F_INTERIM    0x08u /* 1xx response other than 101: the final response follows */
#define SHIM_H1_F_HEAD_DONE  0x10u /* headers were complete (useful in TRUNCATED events) */

/*
 * One event. Every field is filled for every event from what is known so
 * far (BEGIN carries almost nothing yet). `path` points into the parser
 * state (never NUL-terminated); its bytes are the request's from HEAD until
 * the next message's BEGIN event of that parser (which starts overwriting
 * them) or until the state is reset: with pipelining that can come before
 * the response, so copy or normalise the path at HEAD. Empty for responses.
 */
struct shim_h1_event {
    uint8_t type;            /* enum shim_h1_ev_type */
    uint8_t method;          /* enum shim_http_method: request's own; for a response the
                                method the caller said it answers (shim_h1_expect) */
    uint8_t minor;           /* HTTP/1.minor */
    uint8_t body;            /* enum shim_h1_body (from HEAD on) */
    uint16_t status;         /* response status code (from HEAD on), 0 for requests */
    uint16_t flags;          /* SHIM_H1_F_* */
    uint16_t path_len;       /* bytes at path, <= SHIM_H1_PATH_CAP */
    const uint8_t *path;     /* raw request-target bytes */
    uint64_t content_length; /* declared Content-Length (0 if none) */
    uint64_t body_bytes;     /* body bytes seen so far (chunked: data bytes only) */
};

/*
 * Parser state. Set `mode` (or use shim_h1_init) before the first byte and
 * `req_method` (or use shim_h1_expect) as described there; every other field
 * is private to http1.c.
 */
struct shim_h1 {
    uint8_t mode;       /* enum shim_h1_mode; set by the caller before the first byte */
    uint8_t req_method; /* response mode: method of the request being answered; see shim_h1_expect */
    /* private */
    uint8_t state;
    uint8_t method;
    uint8_t minor;
    uint8_t body;
    uint8_t flags;
    uint8_t hdr;        /* header of the current line */
    uint8_t hbits;      /* headers seen (content-length, transfer-encoding, ...) */
    uint8_t conn;       /* Connection tokens seen */
    uint8_t te_chunked; /* last transfer coding so far is chunked */
    uint8_t mpos;       /* token matcher: position */
    uint8_t mmask;      /* token matcher: candidates left */
    uint8_t mend;       /* token matcher: token ended / CL: trailing space seen */
    uint8_t ndig;       /* digits of the number being parsed */
    uint8_t rl;         /* request mode: 1 once the method token ended */
    uint16_t status;
    uint16_t path_len;
    uint32_t hbytes;    /* bytes of the head (or trailer, or chunk-size line) so far */
    uint64_t cl;        /* Content-Length */
    uint64_t num;       /* number being parsed (Content-Length line, chunk size) */
    uint64_t remaining; /* bytes left of the body or of the current chunk */
    uint64_t body_bytes;
    uint8_t path[SHIM_H1_PATH_CAP];
};

/* shim_h1_init: zero *st and set its mode. The caller owns *st. */
void shim_h1_init(struct shim_h1 *st, enum shim_h1_mode mode);

/*
 * shim_h1_expect: response mode only: say which method the request that the
 * next final response answers had (HEAD: no body; CONNECT: a 2xx opens a
 * tunnel). Call it any time before that response's HEAD event: before
 * feeding, or at its BEGIN event, or at the previous response's DONE event
 * (pipelining). The parser keeps it across 1xx interim responses and clears
 * it (to OTHER) when it reports the final response's DONE event. Equivalent
 * to setting st->req_method.
 */
void shim_h1_expect(struct shim_h1 *st, enum shim_http_method m);

/*
 * shim_h1_feed: parse up to len bytes of buf (buf may be NULL when len is 0).
 * The caller owns buf and *ev; nothing points into buf after the call.
 * Returns:
 *   SHIM_H1_NEED_MORE  every byte used, no event; *consumed = len.
 *   SHIM_H1_EVENT      *ev filled, *consumed = bytes used up to and including
 *                      the event's byte (0 for a DONE that follows a HEAD of a
 *                      bodyless message). Call again with buf + *consumed even
 *                      when nothing is left: loop until NEED_MORE.
 *   SHIM_H1_UPGRADED   the stream is no longer HTTP (after the DONE of a 101
 *                      or of a 2xx to CONNECT); *consumed = 0; sticky.
 *   SHIM_H1_BAD        invalid HTTP; *consumed = the bytes accepted before the
 *                      offending byte; sticky until the state is reset.
 * One event per call. After an eof, feeding is BAD.
 */
int shim_h1_feed(struct shim_h1 *st, const uint8_t *buf, size_t len,
                 struct shim_h1_event *ev, size_t *consumed);

/*
 * shim_h1_eof: the direction ended (read returned 0, or the connection
 * closed). Returns:
 *   SHIM_H1_EVENT      DONE in *ev: a read-until-close body ended (or a
 *                      pending bodyless DONE the caller had not fetched).
 *   SHIM_H1_IDLE       between messages: nothing lost.
 *   SHIM_H1_TRUNCATED  inside a message (head, Content-Length or chunked
 *                      body): *ev (type TRUNCATED) holds what was known.
 *   SHIM_H1_UPGRADED / SHIM_H1_BAD  the state was already so.
 * Afterwards the parser is closed (feed returns BAD, eof returns IDLE).
 */
int shim_h1_eof(struct shim_h1 *st, struct shim_h1_event *ev);

/*
 * shim_h1_detect_request: cheap sniff of the first bytes of a stream.
 * Returns 1 if buf begins with one of the nine known methods and a space,
 * -1 if the len bytes are a proper prefix of such a beginning (need more),
 * 0 if not.
 */
int shim_h1_detect_request(const uint8_t *buf, size_t len);

/* shim_h1_detect_response: 1 if buf begins with "HTTP/1.", -1 if the len
 * bytes are a proper prefix of it, 0 if not. */
int shim_h1_detect_response(const uint8_t *buf, size_t len);

/*
 * shim_h1_request_so_far: request mode: what is known of the request being
 * parsed (or of the last one, when the stream went BAD or ended): fills
 * ev->method, ev->path and ev->path_len (the target as far as it was read)
 * and returns 1 once the method token was complete, else 0 (ev untouched).
 * For a request cut short before its head ended.
 */
int shim_h1_request_so_far(const struct shim_h1 *st, struct shim_h1_event *ev);

/* shim_http_method_name: "GET" .. "PATCH" for the known methods, "_OTHER"
 * (the OpenTelemetry value) for OTHER and anything out of range. Static
 * storage. */
const char *shim_http_method_name(enum shim_http_method m);

#endif
