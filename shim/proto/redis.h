/*
 * redis.h - incremental RESP2 / RESP3 parser, one direction of one Redis
 * (or Valkey, KeyDB, Dragonfly ...) connection, in the picohttpparser spirit
 * (same shape as http1.h).
 *
 * Contract:
 * - A parser instance follows ONE direction: commands (client->server bytes,
 *   mode SHIM_REDIS_REQUEST, the zero value) or replies (server->client
 *   bytes, mode SHIM_REDIS_RESPONSE). A zero-filled struct shim_redis is a
 *   request parser ready for its first byte; shim_redis_init() sets the mode.
 * - The state is plain data: fixed size (sizeof(struct shim_redis) is the
 *   whole memory the parser ever uses: 168 bytes on LP64), no pointers, no
 *   allocation, no globals, no I/O. It may be memset, copied or placed in
 *   shared memory. memset 0 (or shim_redis_init) recovers from any state.
 * - shim_redis_feed() is a pure function of (state, bytes): feeding the same
 *   byte stream in any split gives the same events at the same stream
 *   offsets. Bulk payloads are skipped by length, never buffered; the only
 *   bytes kept are the first SHIM_REDIS_NAME_CAP bytes of a command name and
 *   the [A-Z] prefix word of a top-level error.
 * - No recursion: nested aggregates use a fixed stack of SHIM_REDIS_DEPTH
 *   levels; deeper nesting is BAD.
 *
 * Commands (request mode):
 * - RESP: "*<argc>\r\n" then argc bulk strings "$<len>\r\n<bytes>\r\n"
 *   (what every client library and redis-cli send). argc 1..2^31-1; "*0" and
 *   "*-1" are accepted as the server does (it ignores them): they give a
 *   REQ_DONE with SHIM_REDIS_F_NOREPLY. An argument that is not a bulk
 *   string (a nested array, an integer ...), a nil bulk "$-1", a negative
 *   count other than "*-1", or a length over SHIM_REDIS_MAX_BULK is BAD.
 * - Inline: a line "<command> [args...]\r\n" (or ending in a bare LF) as
 *   typed in telnet / nc. Accepted only when the first word (a letter, then
 *   letters, digits, '_', '-') is a known command name (case-insensitive),
 *   the line holds no control bytes other than TAB and is at most
 *   SHIM_REDIS_INLINE_CAP bytes; anything else is BAD (REQ_BEGIN has been
 *   reported at the first letter already: a caller drops that half command).
 *   argc counts whitespace-separated words ("..." and '...' quoting honoured
 *   roughly: a quoted word with spaces is one word). Empty lines between
 *   commands are skipped (the server ignores them).
 *
 * Replies (response mode): every RESP2 and RESP3 type:
 *   '+' simple string, '-' error, ':' integer, '$' bulk string ("$-1" nil),
 *   '*' array ("*-1" nil), '_' null, '#' boolean, ',' double, '(' big number,
 *   '!' bulk error, '=' verbatim string, '%' map (2 elements per entry),
 *   '~' set, '|' attribute, '>' push; and the RESP3 streamed forms ("$?" with
 *   ";<len>" chunks ended by ";0", "*?" / "%?" / "~?" / ">?" / "|?" ended by
 *   "."). Lines end in CRLF exactly; a simple string, error or number line
 *   longer than SHIM_REDIS_LINE_CAP is BAD, and so are "-1" lengths other
 *   than for '$' and '*', other negative lengths, lengths over
 *   SHIM_REDIS_MAX_BULK / SHIM_REDIS_MAX_COUNT, a payload not followed by
 *   CRLF, and a type byte that is none of the above. An attribute is
 *   metadata before the element it annotates: it is not an element itself
 *   (neither of its parent nor a reply). A top-level push is out of band:
 *   it gives a PUSH event, not a RESP_DONE, and answers no command.
 *
 * Pairing replies with commands (the caller's job; the parser does not match
 * them): Redis answers commands in order, one reply each, so the caller keeps
 * a FIFO of the commands it saw in REQ_DONE events (pipelining: many may be
 * in flight) and pops one at each RESP_DONE. Exceptions the caller must know:
 * - SHIM_REDIS_F_NOREPLY commands ("*0", "*-1": the server ignores them)
 *   get no reply: do not queue them.
 * - PUSH events answer nothing (RESP3 pub/sub messages, client-side caching
 *   invalidations, and in RESP3 also the confirmations of SUBSCRIBE etc.).
 * - Pub/sub: after SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE the connection is in
 *   subscriber mode. In RESP2 each channel named gets its own confirmation
 *   reply (an array, argc-1 of them) and then every message arrives as an
 *   ordinary array reply that answers no command; in RESP3 they are all
 *   pushes. A caller should stop pairing on such a connection (count the
 *   command, no duration). MONITOR likewise turns the connection into a
 *   stream of "+..." lines; CLIENT REPLY OFF|SKIP suppresses replies (the
 *   parser reports CLIENT only: the caller cannot see the subcommand).
 * - MULTI ... EXEC: each queued command gets its own "+QUEUED" reply, EXEC
 *   an array of the results (or a nil array when a WATCH aborted it).
 * Cache lookups: a REQ_DONE carries `keys`, the number of key (or field)
 * lookups the command makes whose reply says hit or miss: GET, GETEX,
 * GETDEL, HGET -> 1; MGET -> argc-1; HMGET -> argc-2; 0 for everything else.
 * The paired RESP_DONE carries `nils` and `values` (see the event): for a
 * command with keys > 0 and no is_error, hits = values and misses = nils.
 */
#ifndef SHIM_PROTO_REDIS_H
#define SHIM_PROTO_REDIS_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_REDIS_DEPTH 16            /* max nesting of reply aggregates */
#define SHIM_REDIS_ERR_CAP 16          /* error prefix buffer, NUL included */
#define SHIM_REDIS_NAME_CAP 20         /* command name bytes kept; longer names are _OTHER */
#define SHIM_REDIS_MAX_BULK (1ull << 32)       /* bulk string / chunk length above: BAD */
#define SHIM_REDIS_MAX_COUNT 0x7fffffffu       /* argc / aggregate count above: BAD */
#define SHIM_REDIS_LINE_CAP (1u << 20)         /* simple string, error, number line above: BAD */
#define SHIM_REDIS_INLINE_CAP (64u * 1024)     /* inline command line above: BAD (server limit) */

/*
 * The known commands, in ASCII order of their names (the lookup is a binary
 * search). SHIM_REDIS_CMD_OTHER (0) is anything else, including names longer
 * than SHIM_REDIS_NAME_CAP. Subcommands (CLIENT SETNAME, CONFIG GET ...) are
 * reported as the main command.
 */
#define SHIM_REDIS_COMMANDS(X) \
    X(APPEND) X(ASKING) X(AUTH) X(BGREWRITEAOF) X(BGSAVE) X(BITCOUNT) \
    X(BITFIELD) X(BITFIELD_RO) X(BITOP) X(BITPOS) X(BLMOVE) X(BLMPOP) X(BLPOP) \
    X(BRPOP) X(BRPOPLPUSH) X(BZMPOP) X(BZPOPMAX) X(BZPOPMIN) X(CLIENT) \
    X(CLUSTER) X(COMMAND) X(CONFIG) X(COPY) X(DBSIZE) X(DEBUG) X(DECR) \
    X(DECRBY) X(DEL) X(DISCARD) X(DUMP) X(ECHO) X(EVAL) X(EVALSHA) \
    X(EVALSHA_RO) X(EVAL_RO) X(EXEC) X(EXISTS) X(EXPIRE) X(EXPIREAT) \
    X(EXPIRETIME) X(FAILOVER) X(FCALL) X(FCALL_RO) X(FLUSHALL) X(FLUSHDB) \
    X(FUNCTION) X(GEOADD) X(GEODIST) X(GEOHASH) X(GEOPOS) X(GEORADIUS) \
    X(GEORADIUSBYMEMBER) X(GEOSEARCH) X(GEOSEARCHSTORE) X(GET) X(GETBIT) \
    X(GETDEL) X(GETEX) X(GETRANGE) X(GETSET) X(HDEL) X(HELLO) X(HEXISTS) \
    X(HGET) X(HGETALL) X(HINCRBY) X(HINCRBYFLOAT) X(HKEYS) X(HLEN) X(HMGET) \
    X(HMSET) X(HRANDFIELD) X(HSCAN) X(HSET) X(HSETNX) X(HSTRLEN) X(HVALS) \
    X(INCR) X(INCRBY) X(INCRBYFLOAT) X(INFO) X(KEYS) X(LASTSAVE) X(LATENCY) \
    X(LCS) X(LINDEX) X(LINSERT) X(LLEN) X(LMOVE) X(LMPOP) X(LPOP) X(LPOS) \
    X(LPUSH) X(LPUSHX) X(LRANGE) X(LREM) X(LSET) X(LTRIM) X(MEMORY) X(MGET) \
    X(MIGRATE) X(MODULE) X(MONITOR) X(MOVE) X(MSET) X(MSETNX) X(MULTI) \
    X(OBJECT) X(PERSIST) X(PEXPIRE) X(PEXPIREAT) X(PEXPIRETIME) X(PFADD) \
    X(PFCOUNT) X(PFMERGE) X(PING) X(PSETEX) X(PSUBSCRIBE) X(PSYNC) X(PTTL) \
    X(PUBLISH) X(PUBSUB) X(PUNSUBSCRIBE) X(QUIT) X(RANDOMKEY) X(READONLY) \
    X(READWRITE) X(RENAME) X(RENAMENX) X(REPLCONF) X(REPLICAOF) X(RESET) \
    X(RESTORE) X(ROLE) X(RPOP) X(RPOPLPUSH) X(RPUSH) X(RPUSHX) X(SADD) X(SAVE) \
    X(SCAN) X(SCARD) X(SCRIPT) X(SDIFF) X(SDIFFSTORE) X(SELECT) X(SET) \
    X(SETBIT) X(SETEX) X(SETNX) X(SETRANGE) X(SHUTDOWN) X(SINTER) \
    X(SINTERCARD) X(SINTERSTORE) X(SISMEMBER) X(SLAVEOF) X(SLOWLOG) \
    X(SMEMBERS) X(SMISMEMBER) X(SMOVE) X(SORT) X(SORT_RO) X(SPOP) X(SPUBLISH) \
    X(SRANDMEMBER) X(SREM) X(SSCAN) X(SSUBSCRIBE) X(STRLEN) X(SUBSCRIBE) \
    X(SUNION) X(SUNIONSTORE) X(SUNSUBSCRIBE) X(SWAPDB) X(SYNC) X(TIME) \
    X(TOUCH) X(TTL) X(TYPE) X(UNLINK) X(UNSUBSCRIBE) X(UNWATCH) X(WAIT) \
    X(WAITAOF) X(WATCH) X(XACK) X(XADD) X(XAUTOCLAIM) X(XCLAIM) X(XDEL) \
    X(XGROUP) X(XINFO) X(XLEN) X(XPENDING) X(XRANGE) X(XREAD) X(XREADGROUP) \
    X(XREVRANGE) X(XSETID) X(XTRIM) X(ZADD) X(ZCARD) X(ZCOUNT) X(ZDIFF) \
    X(ZDIFFSTORE) X(ZINCRBY) X(ZINTER) X(ZINTERCARD) X(ZINTERSTORE) \
    X(ZLEXCOUNT) X(ZMPOP) X(ZMSCORE) X(ZPOPMAX) X(ZPOPMIN) X(ZRANDMEMBER) \
    X(ZRANGE) X(ZRANGEBYLEX) X(ZRANGEBYSCORE) X(ZRANGESTORE) X(ZRANK) X(ZREM) \
    X(ZREMRANGEBYLEX) X(ZREMRANGEBYRANK) X(ZREMRANGEBYSCORE) X(ZREVRANGE) \
    X(ZREVRANGEBYLEX) X(ZREVRANGEBYSCORE) X(ZREVRANK) X(ZSCAN) X(ZSCORE) \
    X(ZUNION) X(ZUNIONSTORE)

#define SHIM_REDIS_CMD_ENUM_(name) SHIM_REDIS_CMD_##name,
enum shim_redis_cmd {
    SHIM_REDIS_CMD_OTHER = 0,
    SHIM_REDIS_COMMANDS(SHIM_REDIS_CMD_ENUM_)
    SHIM_REDIS_CMD_COUNT
};

/* Which direction a parser follows (struct shim_redis.mode). */
enum shim_redis_mode { SHIM_REDIS_REQUEST = 0, SHIM_REDIS_RESPONSE = 1 };

/* Return values of shim_redis_feed() and shim_redis_eof(). */
enum shim_redis_rc {
    SHIM_REDIS_BAD = -1,      /* not RESP: drop the connection to pass-through */
    SHIM_REDIS_NEED_MORE = 0, /* feed: all bytes used, no event */
    SHIM_REDIS_EVENT = 1,     /* *ev filled; call again with the rest */
    SHIM_REDIS_TRUNCATED = 3, /* eof: the stream ended inside a command or reply */
    SHIM_REDIS_IDLE = 4       /* eof: the stream ended between messages (clean) */
};

/* Event types (struct shim_redis_event.type). */
enum shim_redis_ev_type {
    SHIM_REDIS_EV_NONE = 0,
    SHIM_REDIS_EV_REQ_BEGIN, /* request: first byte of a command (take a timestamp) */
    SHIM_REDIS_EV_REQ_DONE,  /* request: last byte of a command: cmd, argc, keys, flags */
    SHIM_REDIS_EV_RESP_DONE, /* response: last byte of a whole reply: outcome */
    SHIM_REDIS_EV_PUSH       /* response: last byte of an out-of-band push ('>'):
                                answers no command */
};

/* Event flags (struct shim_redis_event.flags). */
#define SHIM_REDIS_F_INLINE  0x01u /* REQ_*: an inline command, not RESP */
#define SHIM_REDIS_F_NOREPLY 0x02u /* REQ_DONE: the server sends no reply ("*0", "*-1") */
#define SHIM_REDIS_F_ATTRIB  0x04u /* RESP_DONE/PUSH: attribute(s) preceded the reply */

/*
 * One event. Fields not listed for a type are zero.
 * REQ_BEGIN: flags (F_INLINE).
 * REQ_DONE: cmd, argc (arguments including the command name), keys (cache
 *   lookups, see above), flags.
 * RESP_DONE / PUSH: reply = type byte of the top-level reply ('+', '-', ':',
 *   '$', '*', '_', '#', ',', '(', '!', '=', '%', '~', '>'; never '|');
 *   is_error = 1 for an error reply ('-' or '!') with err its code: the
 *   first word of the message when it is 1-15 letters A-Z ("ERR",
 *   "WRONGTYPE", "MOVED", "NOAUTH", ...), "ERR" otherwise; NUL-terminated.
 *   nils / values: for an aggregate reply, how many of its direct elements
 *   are null ("$-1", "*-1", "_") / are anything else but an error (for a
 *   map, keys and values are counted alike); for a non-aggregate reply (or a
 *   nil array) 1 in one of them: a nil bulk gives nils = 1, "+OK" values = 1.
 *   An error reply gives 0 and 0.
 */
struct shim_redis_event {
    uint8_t type;     /* enum shim_redis_ev_type */
    uint8_t flags;    /* SHIM_REDIS_F_* */
    uint8_t reply;    /* RESP_DONE / PUSH: top-level type byte */
    uint8_t is_error; /* RESP_DONE: 1 for an error reply */
    uint16_t cmd;     /* REQ_DONE: enum shim_redis_cmd */
    uint16_t pad;
    uint32_t argc;    /* REQ_DONE */
    uint32_t keys;    /* REQ_DONE */
    uint32_t nils;    /* RESP_DONE / PUSH */
    uint32_t values;  /* RESP_DONE / PUSH */
    char err[SHIM_REDIS_ERR_CAP]; /* RESP_DONE: error code, "" when not an error */
};

/*
 * Parser state. Set `mode` (or use shim_redis_init) before the first byte;
 * every other field is private to redis.c.
 */
struct shim_redis {
    uint8_t mode;     /* enum shim_redis_mode */
    /* private */
    uint8_t state;
    uint8_t depth;    /* aggregate levels open */
    uint8_t cur;      /* type byte of the element (or line) being parsed */
    uint8_t top;      /* type byte of the top-level reply */
    uint8_t bits;     /* number sign / streaming / capture bits */
    uint8_t ndig;     /* digits of the number being parsed */
    uint8_t errlen;
    uint8_t namelen;  /* command name bytes kept; SHIM_REDIS_NAME_CAP + 1: too long */
    uint8_t evflags;
    uint8_t is_error;
    uint8_t iq;       /* inline: quoting state */
    uint32_t argc;
    uint32_t argi;    /* request: arguments complete so far */
    uint32_t nils;
    uint32_t values;
    uint32_t linelen;
    uint64_t num;
    uint64_t remaining;
    uint32_t count[SHIM_REDIS_DEPTH]; /* elements left at each open level */
    uint8_t kind[SHIM_REDIS_DEPTH];   /* what each open level is */
    char err[SHIM_REDIS_ERR_CAP];
    uint8_t name[SHIM_REDIS_NAME_CAP];
};

/* shim_redis_init: zero *st and set its mode. The caller owns *st. */
void shim_redis_init(struct shim_redis *st, enum shim_redis_mode mode);

/*
 * shim_redis_feed: parse up to len bytes of buf (buf may be NULL when len is
 * 0). The caller owns buf and *ev; nothing points into buf after the call.
 * Returns:
 *   SHIM_REDIS_NEED_MORE  every byte used, no event; *consumed = len.
 *   SHIM_REDIS_EVENT      *ev filled, *consumed = bytes used up to and
 *                         including the event's last byte (always >= 1).
 *                         Call again with buf + *consumed: loop until
 *                         NEED_MORE.
 *   SHIM_REDIS_BAD        not RESP; *consumed = the bytes accepted before
 *                         the offending byte; sticky until the state is reset.
 * One event per call. After shim_redis_eof, feeding is BAD.
 */
int shim_redis_feed(struct shim_redis *st, const uint8_t *buf, size_t len,
                    struct shim_redis_event *ev, size_t *consumed);

/*
 * shim_redis_eof: the direction ended. Returns SHIM_REDIS_IDLE between
 * messages, SHIM_REDIS_TRUNCATED inside one (a command without its REQ_DONE,
 * a reply without its RESP_DONE), SHIM_REDIS_BAD if the state was BAD.
 * Afterwards the parser is closed (feed returns BAD, eof returns IDLE).
 */
int shim_redis_eof(struct shim_redis *st);

/*
 * shim_redis_detect_request: cheap sniff of the first bytes a client sent.
 * Returns 1 if buf begins like a RESP command: '*', a count (1-9 then
 * digits), CRLF and '$'; 2 if it begins with an inline command: a known
 * command name (any case) followed by a space, CR or LF; -1 if the len bytes
 * are a proper prefix of either (need more); 0 otherwise. Note that an
 * inline "get k\r\n" is also a memcached command: a caller sniffing both
 * should prefer memcached on a 2 (inline use is rare: telnet users).
 */
int shim_redis_detect_request(const uint8_t *buf, size_t len);

/* shim_redis_command_name: the upper-case name of a known command, "_OTHER"
 * for SHIM_REDIS_CMD_OTHER and anything out of range. Static storage. */
const char *shim_redis_command_name(unsigned cmd);

/* shim_redis_lookup_command: the command whose name is the len bytes at
 * name (any case), SHIM_REDIS_CMD_OTHER if none. */
unsigned shim_redis_lookup_command(const uint8_t *name, size_t len);

#endif
