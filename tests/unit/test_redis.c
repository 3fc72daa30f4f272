/*
 * test_redis.c - unit tests of the incremental RESP2 / RESP3 parser
 * (shim/proto/redis.c).
 *
 * Every stream is fed (a) whole, (b) one byte at a time, (c) split in two at
 * every byte position and (d) in a few pseudo-random partitions; each run
 * must give the same trace (every event, its fields and its stream offset,
 * then the eof result), and the whole run must match the expected trace
 * written here. Every chunk handed to the parser is first copied so that it
 * ends right at a PROT_NONE page: reading one byte past what it was given
 * crashes the test. The captured streams were recorded with a small TCP
 * proxy between real clients (redis-cli, redis-benchmark, raw sockets) and
 * redis-server 7.0.15.
 *
 * Trace notation, one token per event, offsets are stream offsets just
 * after the event's last byte:
 *   B@5 / B@5i           REQ_BEGIN (i: inline)
 *   Q@27:GET,2,1         REQ_DONE: command, argc, keys (+ i inline, n noreply)
 *   R@14:$,0,1           RESP_DONE: reply type, nils, values (+ a: attribute seen)
 *   R@34:-NOAUTH,0,0     RESP_DONE of an error: type byte and error code
 *   P@409:>,0,2          PUSH
 *   BAD@81               feed returned BAD having accepted 81 bytes
 *   EOF=IDLE / EOF=TRUNC / EOF=BAD   shim_redis_eof at the end
 */
#include "shim/proto/redis.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

#define SHIM_ARRAY_LEN_(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- guard */

#define AREA (4u << 20)
#include "guard.h"

/* ---------------------------------------------------------------- traces */

#define TXT(x) shim_redis_##x
#define TXT_RC(x) SHIM_REDIS_##x
#define TXT_STATE struct shim_redis
#define TXT_EVENT struct shim_redis_event
#include "trace_text.h"

/* err_ok: an error code is NUL-terminated and [A-Z]* (empty iff no error). */
static int err_ok(const struct shim_redis_event *ev)
{
    size_t i;
    for (i = 0; i < SHIM_REDIS_ERR_CAP && ev->err[i]; i++)
        if (ev->err[i] < 'A' || ev->err[i] > 'Z')
            return 0;
    if (i == SHIM_REDIS_ERR_CAP)
        return 0;
    return ev->is_error ? i > 0 : i == 0;
}

/* note: append one event to the trace, checking its invariants. */
static void note(struct trace *t, const struct shim_redis_event *ev, uint64_t off, int mode)
{
    const char *sep = t->len ? " " : "";
    CHECK(err_ok(ev));
    switch (ev->type) {
    case SHIM_REDIS_EV_REQ_BEGIN:
        CHECK_EQ(mode, SHIM_REDIS_REQUEST);
        put(t, "%sB@%llu%s", sep, (unsigned long long)off, (ev->flags & SHIM_REDIS_F_INLINE) ? "i" : "");
        break;
    case SHIM_REDIS_EV_REQ_DONE:
        CHECK_EQ(mode, SHIM_REDIS_REQUEST);
        CHECK(ev->cmd < SHIM_REDIS_CMD_COUNT);
        put(t, "%sQ@%llu:%s,%u,%u%s%s", sep, (unsigned long long)off, shim_redis_command_name(ev->cmd),
            ev->argc, ev->keys, (ev->flags & SHIM_REDIS_F_INLINE) ? "i" : "",
            (ev->flags & SHIM_REDIS_F_NOREPLY) ? "n" : "");
        break;
    case SHIM_REDIS_EV_RESP_DONE:
    case SHIM_REDIS_EV_PUSH:
        CHECK_EQ(mode, SHIM_REDIS_RESPONSE);
        CHECK(ev->is_error == (ev->reply == '-' || ev->reply == '!'));
        CHECK(!ev->is_error || (ev->nils == 0 && ev->values == 0));
        CHECK(ev->type == SHIM_REDIS_EV_RESP_DONE || ev->reply == '>');
        put(t, "%s%c@%llu:%c%s,%u,%u%s", sep, ev->type == SHIM_REDIS_EV_PUSH ? 'P' : 'R',
            (unsigned long long)off, ev->reply, ev->err, ev->nils, ev->values,
            (ev->flags & SHIM_REDIS_F_ATTRIB) ? "a" : "");
        break;
    default:
        CHECK_MSG(0, "unknown event type %u", ev->type);
    }
}

/* The caller tells a Redis parser nothing; every event takes a byte. */
static void caller_start(struct shim_redis *st, struct caller *k)
{
}

static int caller_progress(struct caller *k, const struct shim_redis_event *ev, size_t c)
{
    CHECK(c >= 1);
    return c != 0;
}

static void caller_answered(struct shim_redis *st, struct caller *k)
{
}

#define REQ SHIM_REDIS_REQUEST
#define RSP SHIM_REDIS_RESPONSE

/* ---------------------------------------------------------------- captured byte streams */

/*
 * RESP2 session (commands as redis-cli sends them) through a proxy to
 * redis-server 7.0.15: strings, nil, MGET / HMGET with misses, WRONGTYPE, unknown
 * command, MULTI/EXEC with errors inside, XREAD (nested arrays), BLPOP
 * timeout (nil array), EXEC without MULTI, SCAN, SELECT out of range, arity
 * error, QUIT.
 */
static const char v_resp2_req[] =
    "*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n*2\r\n$3\r\n"
    "GET\r\n$3\r\nfoo\r\n*2\r\n$3\r\nGET\r\n$6\r\nnosuch\r\n*4\r\n"
    "$4\r\nMGET\r\n$3\r\nfoo\r\n$6\r\nnosuch\r\n$3\r\nfoo\r\n"
    "*6\r\n$4\r\nHSET\r\n$1\r\nh\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\n"
    "f2\r\n$2\r\nv2\r\n*5\r\n$5\r\nHMGET\r\n$1\r\nh\r\n$2\r\n"
    "f1\r\n$2\r\nzz\r\n$2\r\nf2\r\n*3\r\n$4\r\nHGET\r\n$1\r\n"
    "h\r\n$2\r\nf1\r\n*3\r\n$5\r\nLPUSH\r\n$3\r\nfoo\r\n$1\r\n"
    "x\r\n*2\r\n$4\r\nINCR\r\n$1\r\nh\r\n*2\r\n$9\r\nNOSUCHCMD\r\n"
    "$1\r\na\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\n"
    "a\r\n$1\r\n1\r\n*3\r\n$5\r\nLPUSH\r\n$1\r\na\r\n$1\r\nx\r\n"
    "*4\r\n$6\r\nLRANGE\r\n$1\r\nh\r\n$1\r\n0\r\n$2\r\n-1\r\n"
    "*1\r\n$4\r\nEXEC\r\n*2\r\n$3\r\nDEL\r\n$2\r\nst\r\n*5\r\n"
    "$4\r\nXADD\r\n$2\r\nst\r\n$3\r\n1-1\r\n$1\r\nf\r\n$1\r\n"
    "v\r\n*7\r\n$4\r\nXADD\r\n$2\r\nst\r\n$3\r\n2-1\r\n$1\r\n"
    "f\r\n$1\r\nw\r\n$1\r\ng\r\n$1\r\nx\r\n*6\r\n$5\r\nXREAD\r\n"
    "$5\r\nCOUNT\r\n$1\r\n2\r\n$7\r\nSTREAMS\r\n$2\r\nst\r\n$1\r\n"
    "0\r\n*3\r\n$5\r\nBLPOP\r\n$9\r\nemptylist\r\n$3\r\n0.1\r\n"
    "*1\r\n$4\r\nEXEC\r\n*2\r\n$4\r\nSCAN\r\n$1\r\n0\r\n*2\r\n"
    "$6\r\nSELECT\r\n$2\r\n99\r\n*2\r\n$3\r\nSET\r\n$1\r\nx\r\n"
    "*1\r\n$4\r\nQUIT\r\n";
static const char v_resp2_resp[] =
    "+OK\r\n$3\r\nbar\r\n$-1\r\n*3\r\n$3\r\nbar\r\n$-1\r\n$3\r\n"
    "bar\r\n:2\r\n*3\r\n$2\r\nv1\r\n$-1\r\n$2\r\nv2\r\n$2\r\n"
    "v1\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
    "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' \r\n"
    "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n-WRONGTYPE Operation ag"
    "ainst a key holding the wrong kind of value\r\n-WRONGTYPE Operation against "
    "a key holding the wrong kind of value\r\n:0\r\n$3\r\n1-1\r\n"
    "$3\r\n2-1\r\n*1\r\n*2\r\n$2\r\nst\r\n*2\r\n*2\r\n$3\r\n1-1\r\n"
    "*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\n"
    "f\r\n$1\r\nw\r\n$1\r\ng\r\n$1\r\nx\r\n*-1\r\n-ERR EXEC without MULTI\r\n"
    "*2\r\n$1\r\n0\r\n*4\r\n$3\r\nfoo\r\n$1\r\na\r\n$1\r\nh\r\n"
    "$2\r\nst\r\n-ERR DB index is out of range\r\n-ERR wrong number of arguments "
    "for 'set' command\r\n+OK\r\n";

/*
 * RESP3 session (HELLO 3): DEBUG PROTOCOL attrib / bignum / true / false /
 * verbatim / double / null / map / set / push, a CLIENT TRACKING
 * invalidation push between replies, MGET with '_' nulls, an empty map,
 * SUBSCRIBE confirmations as pushes.
 */
static const char v_resp3_req[] =
    "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\n"
    "PROTOCOL\r\n$6\r\nattrib\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n"
    "$6\r\nbignum\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$4\r\n"
    "true\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$5\r\nfalse\r\n"
    "*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$8\r\nverbatim\r\n"
    "*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\ndouble\r\n*3\r\n"
    "$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$4\r\nnull\r\n*3\r\n$5\r\n"
    "DEBUG\r\n$8\r\nPROTOCOL\r\n$3\r\nmap\r\n*3\r\n$5\r\nDEBUG\r\n"
    "$8\r\nPROTOCOL\r\n$3\r\nset\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\n"
    "PROTOCOL\r\n$4\r\npush\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"
    "$1\r\nv\r\n*3\r\n$6\r\nCLIENT\r\n$8\r\nTRACKING\r\n$2\r\n"
    "on\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\n"
    "k\r\n$1\r\nw\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*4\r\n$4\r\n"
    "MGET\r\n$1\r\nk\r\n$5\r\nnokey\r\n$1\r\nk\r\n*2\r\n$7\r\n"
    "HGETALL\r\n$6\r\nnohash\r\n*3\r\n$9\r\nSUBSCRIBE\r\n$3\r\n"
    "ch1\r\n$3\r\nch2\r\n";
static const char v_resp3_resp[] =
    "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n"
    "7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:17\r\n$4\r\n"
    "mode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
    "$7\r\nmodules\r\n*0\r\n|1\r\n$14\r\nkey-popularity\r\n*2\r\n"
    "$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"
    "(1234567999999999999999999999999999999\r\n#t\r\n#f\r\n=29\r\n"
    "txt:This is a verbatim\nstring\r\n,3.141\r\n_\r\n%3\r\n:0\r\n"
    "#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n~3\r\n:0\r\n:1\r\n:2\r\n>2\r\n"
    "$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push "
    "reply\r\n+OK\r\n+OK\r\n$1\r\nv\r\n+OK\r\n>2\r\n$10\r\ninvalidate\r\n"
    "*1\r\n$1\r\nk\r\n$1\r\nw\r\n*3\r\n$1\r\nw\r\n_\r\n$1\r\n"
    "w\r\n%0\r\n>3\r\n$9\r\nsubscribe\r\n$3\r\nch1\r\n:1\r\n>3\r\n"
    "$9\r\nsubscribe\r\n$3\r\nch2\r\n:2\r\n";

/*
 * Inline commands as typed in telnet: PING, a quoted argument, lower case,
 * an empty line, a bare-LF line end.
 */
static const char v_inline_req[] =
    "PING\r\nset greeting \"hello world\"\r\nget greeting\r\n"
    "\r\nmget greeting nokey\r\nEcho x\n";
static const char v_inline_resp[] =
    "+PONG\r\n+OK\r\n$11\r\nhello world\r\n*2\r\n$11\r\nhello world\r\n"
    "$-1\r\n$1\r\nx\r\n";

/*
 * Server with requirepass: NOAUTH, WRONGPASS, AUTH, CONFIG SET with an empty
 * bulk argument.
 */
static const char v_noauth_req[] =
    "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*2\r\n$4\r\nAUTH\r\n$5\r\n"
    "wrong\r\n*2\r\n$4\r\nAUTH\r\n$6\r\nsekrit\r\n*4\r\n$6\r\n"
    "CONFIG\r\n$3\r\nSET\r\n$11\r\nrequirepass\r\n$0\r\n\r\n*1\r\n"
    "$4\r\nPING\r\n";
static const char v_noauth_resp[] =
    "-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pai"
    "r or user is disabled.\r\n+OK\r\n+OK\r\n+PONG\r\n";

/*
 * RESP2 pub/sub: SUBSCRIBE to two channels (two confirmations), a published
 * message, PING in subscriber mode, UNSUBSCRIBE (one reply per channel).
 */
static const char v_sub2_req[] =
    "*3\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n$5\r\nsport\r\n*1\r\n"
    "$4\r\nPING\r\n*1\r\n$11\r\nUNSUBSCRIBE\r\n";
static const char v_sub2_resp[] =
    "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\n"
    "subscribe\r\n$5\r\nsport\r\n:2\r\n*3\r\n$7\r\nmessage\r\n"
    "$4\r\nnews\r\n$5\r\nhello\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    "*3\r\n$11\r\nunsubscribe\r\n$5\r\nsport\r\n:1\r\n*3\r\n$11\r\n"
    "unsubscribe\r\n$4\r\nnews\r\n:0\r\n";

/*
 * redis-benchmark -c 1 -n 6 -P 3 -t get: pipelined GETs of missing keys.
 */
static const char v_bench_get_req[] =
    "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n*2\r\n$3\r\n"
    "GET\r\n$16\r\nkey:__rand_int__\r\n*2\r\n$3\r\nGET\r\n$16\r\n"
    "key:__rand_int__\r\n*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n"
    "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n*2\r\n$3\r\n"
    "GET\r\n$16\r\nkey:__rand_int__\r\n";
static const char v_bench_get_resp[] =
    "$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n";

/*
 * RESP3: HELLO 3, COMMAND DOCS get (nested maps and arrays), CONFIG GET
 * maxmemory* (a map).
 */
static const char v_docs3_req[] =
    "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*3\r\n$7\r\nCOMMAND\r\n$4\r\n"
    "DOCS\r\n$3\r\nget\r\n*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n"
    "$10\r\nmaxmemory*\r\n";
static const char v_docs3_resp[] =
    "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n"
    "7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:29\r\n$4\r\n"
    "mode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
    "$7\r\nmodules\r\n*0\r\n%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n"
    "$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n"
    "$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n"
    "O(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\n"
    "key\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n"
    ":0\r\n%5\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n"
    "$27\r\nmaxmemory-eviction-tenacity\r\n$2\r\n10\r\n$17\r\n"
    "maxmemory-clients\r\n$1\r\n0\r\n$9\r\nmaxmemory\r\n$1\r\n"
    "0\r\n$17\r\nmaxmemory-samples\r\n$1\r\n5\r\n";

/*
 * RESP2: COMMAND DOCS get, COMMAND INFO get (nested arrays).
 */
static const char v_docs2_req[] =
    "*3\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n$3\r\nget\r\n*3\r\n"
    "$7\r\nCOMMAND\r\n$4\r\nINFO\r\n$3\r\nget\r\n";
static const char v_docs2_resp[] =
    "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n"
    "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n"
    "$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n"
    "*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n"
    "$14\r\nkey_spec_index\r\n:0\r\n*1\r\n*10\r\n$3\r\nget\r\n"
    ":2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n"
    "+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\n"
    "flags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n"
    "*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\n"
    "index\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\n"
    "range\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n"
    "keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";


/* ---------------------------------------------------------------- captured streams */

static void test_captured(void)
{
    check_stream("resp2 req", v_resp2_req, REQ,
                 "B@1 Q@31:SET,3,0 B@32 Q@53:GET,2,1 B@54 Q@78:GET,2,1 B@79 Q@122:MGET,4,3 B@123 "
                 "Q@175:HSET,6,0 B@176 Q@221:HMGET,5,3 B@222 Q@250:HGET,3,1 B@251 Q@281:LPUSH,3,0 "
                 "B@282 Q@302:INCR,2,0 B@303 Q@328:_OTHER,2,0 B@329 Q@343:MULTI,1,0 B@344 "
                 "Q@370:SET,3,0 B@371 Q@399:LPUSH,3,0 B@400 Q@437:LRANGE,4,0 B@438 Q@451:EXEC,1,0 "
                 "B@452 Q@472:DEL,2,0 B@473 Q@517:XADD,5,0 B@518 Q@576:XADD,7,0 B@577 "
                 "Q@637:XREAD,6,0 B@638 Q@676:BLPOP,3,0 B@677 Q@690:EXEC,1,0 B@691 Q@711:SCAN,2,0 "
                 "B@712 Q@735:SELECT,2,0 B@736 Q@755:SET,2,0 B@756 Q@769:QUIT,1,0 EOF=IDLE");
    check_stream("resp2 resp", v_resp2_resp, RSP,
                 "R@5:+,0,1 R@14:$,0,1 R@19:$,1,0 R@46:*,1,2 R@50::,0,1 R@75:*,1,2 R@83:$,0,1 "
                 "R@151:-WRONGTYPE,0,0 R@219:-WRONGTYPE,0,0 R@285:-ERR,0,0 R@290:+,0,1 R@299:+,0,1 "
                 "R@308:+,0,1 R@317:+,0,1 R@462:*,0,1 R@466::,0,1 R@475:$,0,1 R@484:$,0,1 "
                 "R@580:*,0,1 R@585:*,1,0 R@610:-ERR,0,0 R@656:*,0,2 R@687:-ERR,0,0 R@737:-ERR,0,0 "
                 "R@742:+,0,1 EOF=IDLE");
    check_stream("resp3 req", v_resp3_req, REQ,
                 "B@1 Q@22:HELLO,2,0 B@23 Q@63:DEBUG,3,0 B@64 Q@104:DEBUG,3,0 B@105 "
                 "Q@143:DEBUG,3,0 B@144 Q@183:DEBUG,3,0 B@184 Q@226:DEBUG,3,0 B@227 "
                 "Q@267:DEBUG,3,0 B@268 Q@306:DEBUG,3,0 B@307 Q@344:DEBUG,3,0 B@345 "
                 "Q@382:DEBUG,3,0 B@383 Q@421:DEBUG,3,0 B@422 Q@448:SET,3,0 B@449 Q@486:CLIENT,3,0 "
                 "B@487 Q@506:GET,2,1 B@507 Q@533:SET,3,0 B@534 Q@553:GET,2,1 B@554 Q@592:MGET,4,3 "
                 "B@593 Q@621:HGETALL,2,0 B@622 Q@658:SUBSCRIBE,3,0 EOF=IDLE");
    check_stream("resp3 resp", v_resp3_resp, RSP,
                 "R@146:%,0,14 R@239:$,0,1a R@279:(,0,1 R@283:#,0,1 R@287:#,0,1 R@323:=,0,1 "
                 "R@331:,,0,1 R@334:_,1,0 R@362:%,0,6 R@378:~,0,3 P@410:>,0,2 R@457:$,0,1 "
                 "R@462:+,0,1 R@467:+,0,1 R@474:$,0,1 R@479:+,0,1 P@511:>,0,2 R@518:$,0,1 "
                 "R@539:*,1,2 R@543:%,0,0 P@575:>,0,3 P@607:>,0,3 EOF=IDLE");
    check_stream("inline req", v_inline_req, REQ,
                 "B@1i Q@6:PING,1,0i B@7i Q@34:SET,3,0i B@35i Q@48:GET,2,1i B@51i Q@71:MGET,3,2i "
                 "B@72i Q@78:ECHO,2,0i EOF=IDLE");
    check_stream("inline resp", v_inline_resp, RSP,
                 "R@7:+,0,1 R@12:+,0,1 R@30:$,0,1 R@57:*,1,1 R@64:$,0,1 EOF=IDLE");
    check_stream("noauth req", v_noauth_req, REQ,
                 "B@1 Q@22:GET,2,1 B@23 Q@47:AUTH,2,0 B@48 Q@73:AUTH,2,0 B@74 Q@122:CONFIG,4,0 "
                 "B@123 Q@136:PING,1,0 EOF=IDLE");
    check_stream("noauth resp", v_noauth_resp, RSP,
                 "R@34:-NOAUTH,0,0 R@98:-WRONGPASS,0,0 R@103:+,0,1 R@108:+,0,1 R@115:+,0,1 "
                 "EOF=IDLE");
    check_stream("sub2 req", v_sub2_req, REQ,
                 "B@1 Q@40:SUBSCRIBE,3,0 B@41 Q@54:PING,1,0 B@55 Q@76:UNSUBSCRIBE,1,0 EOF=IDLE");
    check_stream("sub2 resp", v_sub2_resp, RSP,
                 "R@33:*,0,3 R@67:*,0,3 R@105:*,0,3 R@125:*,0,2 R@162:*,0,3 R@198:*,0,3 EOF=IDLE");
    check_stream("bench_get req", v_bench_get_req, REQ,
                 "B@1 Q@36:GET,2,1 B@37 Q@72:GET,2,1 B@73 Q@108:GET,2,1 B@109 Q@144:GET,2,1 B@145 "
                 "Q@180:GET,2,1 B@181 Q@216:GET,2,1 EOF=IDLE");
    check_stream("bench_get resp", v_bench_get_resp, RSP,
                 "R@5:$,1,0 R@10:$,1,0 R@15:$,1,0 R@20:$,1,0 R@25:$,1,0 R@30:$,1,0 EOF=IDLE");
    check_stream("docs3 req", v_docs3_req, REQ,
                 "B@1 Q@22:HELLO,2,0 B@23 Q@58:COMMAND,3,0 B@59 Q@100:CONFIG,3,0 EOF=IDLE");
    check_stream("docs3 resp", v_docs3_resp, RSP,
                 "R@146:%,0,14 R@363:%,0,2 R@533:%,0,10 EOF=IDLE");
    check_stream("docs2 req", v_docs2_req, REQ,
                 "B@1 Q@36:COMMAND,3,0 B@37 Q@72:COMMAND,3,0 EOF=IDLE");
    check_stream("docs2 resp", v_docs2_resp, RSP,
                 "R@218:*,0,2 R@525:*,0,1 EOF=IDLE");
}

/*
 * pair: play the caller: queue the commands of a request stream, pop one
 * per RESP_DONE of the reply stream (NOREPLY commands are not queued,
 * PUSH answers nothing) and count cache hits and misses.
 */
static void pair(const char *req, size_t rlen, const char *rsp, size_t plen, unsigned *hits,
                 unsigned *misses, unsigned *unanswered)
{
    struct shim_redis q, r;
    struct shim_redis_event ev;
    uint32_t keys[256];
    size_t nq = 0, head = 0, off = 0, c;

    *hits = *misses = 0;
    shim_redis_init(&q, SHIM_REDIS_REQUEST);
    shim_redis_init(&r, SHIM_REDIS_RESPONSE);
    while (shim_redis_feed(&q, (const uint8_t *)req + off, rlen - off, &ev, &c) == SHIM_REDIS_EVENT) {
        off += c;
        if (ev.type == SHIM_REDIS_EV_REQ_DONE && !(ev.flags & SHIM_REDIS_F_NOREPLY) && nq < 256)
            keys[nq++] = ev.keys;
    }
    off = 0;
    while (shim_redis_feed(&r, (const uint8_t *)rsp + off, plen - off, &ev, &c) == SHIM_REDIS_EVENT) {
        off += c;
        if (ev.type != SHIM_REDIS_EV_RESP_DONE)
            continue;
        REQUIRE(head < nq);
        if (keys[head] && !ev.is_error) {
            CHECK_EQ(ev.nils + ev.values, keys[head]);
            *hits += ev.values;
            *misses += ev.nils;
        }
        head++;
    }
    *unanswered = (unsigned)(nq - head);
}

static void test_pairing(void)
{
    unsigned h, m, u;
    /* GET foo hit, GET nosuch miss, MGET foo nosuch foo 2+1, HMGET h f1 zz f2 2+1, HGET hit */
    pair(v_resp2_req, sizeof(v_resp2_req) - 1, v_resp2_resp, sizeof(v_resp2_resp) - 1, &h, &m, &u);
    CHECK_EQ(h, 6);
    CHECK_EQ(m, 3);
    CHECK_EQ(u, 0);
    /* GET k, GET k (after an invalidation push), MGET k nokey k: 4 hits, 1 miss;
     * SUBSCRIBE gets pushes only: left unanswered */
    pair(v_resp3_req, sizeof(v_resp3_req) - 1, v_resp3_resp, sizeof(v_resp3_resp) - 1, &h, &m, &u);
    CHECK_EQ(h, 4);
    CHECK_EQ(m, 1);
    CHECK_EQ(u, 1);
    /* inline: GET greeting hit, MGET greeting nokey 1+1 */
    pair(v_inline_req, sizeof(v_inline_req) - 1, v_inline_resp, sizeof(v_inline_resp) - 1, &h, &m, &u);
    CHECK_EQ(h, 2);
    CHECK_EQ(m, 1);
    CHECK_EQ(u, 0);
    /* benchmark GETs of missing keys */
    pair(v_bench_get_req, sizeof(v_bench_get_req) - 1, v_bench_get_resp, sizeof(v_bench_get_resp) - 1, &h,
         &m, &u);
    CHECK_EQ(h, 0);
    CHECK_EQ(m, 6);
    CHECK_EQ(u, 0);
}

/* ---------------------------------------------------------------- replies */

static void test_replies(void)
{
    /* nils and values count the direct elements of an aggregate */
    check_stream("nils in array", "*5\r\n$-1\r\n*-1\r\n_\r\n*1\r\n$-1\r\n$0\r\n\r\n", RSP,
                 "R@32:*,3,2 EOF=IDLE");
    check_stream("nested", "*2\r\n*2\r\n:1\r\n*0\r\n*3\r\n$-1\r\n*-1\r\n_\r\n+OK\r\n", RSP,
                 "R@33:*,0,2 R@38:+,0,1 EOF=IDLE");
    check_stream("nil bulk, nil array, empty", "$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n_\r\n", RSP,
                 "R@5:$,1,0 R@10:*,1,0 R@14:*,0,0 R@20:$,0,1 R@23:_,1,0 EOF=IDLE");
    check_stream("16 levels", "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n"
                               "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", RSP,
                 "R@68:*,0,1 EOF=IDLE");
    check_stream("scalars", ":-42\r\n:+7\r\n,3.25\r\n,-inf\r\n,nan\r\n,1.5e-10\r\n#t\r\n#f\r\n"
                            "(-3492890328409238509324850943850943825024385\r\n=15\r\ntxt:Some string\r\n",
                 RSP,
                 "R@6::,0,1 R@11::,0,1 R@18:,,0,1 R@25:,,0,1 R@31:,,0,1 R@41:,,0,1 R@45:#,0,1 "
                 "R@49:#,0,1 R@96:(,0,1 R@118:=,0,1 EOF=IDLE");
    check_stream("map, set", "%2\r\n+first\r\n:1\r\n+second\r\n$-1\r\n~3\r\n+a\r\n_\r\n:3\r\n", RSP,
                 "R@30:%,1,3 R@45:~,1,2 EOF=IDLE");
    /* an attribute is not an element: inside a map, and before a reply */
    check_stream("attribute in map", "%1\r\n|1\r\n+ttl\r\n:3600\r\n+key\r\n$1\r\nv\r\n", RSP,
                 "R@34:%,0,2 EOF=IDLE");
    check_stream("attribute before reply",
                 "|1\r\n+key-popularity\r\n*2\r\n$1\r\na\r\n,0.1923\r\n*2\r\n$1\r\nx\r\n$-1\r\n", RSP,
                 "R@57:*,1,1a EOF=IDLE");
    check_stream("empty attributes", "|0\r\n|0\r\n|0\r\n+OK\r\n", RSP, "R@17:+,0,1a EOF=IDLE");
    /* pushes: out of band, between replies */
    check_stream("push", ">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n+OK\r\n>0\r\n|1\r\n+a\r\n+b\r\n>1\r\n+x\r\n",
                 RSP, "P@29:>,0,3 R@34:+,0,1 P@38:>,0,0 P@58:>,0,1a EOF=IDLE");
    /* errors: the code is the first word when it is 1-15 capital letters */
    check_stream("errors",
                 "-MOVED 3999 127.0.0.1:6381\r\n-ASK 3999 127.0.0.1:6381\r\n-Error message\r\n"
                 "-ERR\r\n-\r\n-ABCDEFGHIJKLMNOP too long\r\n"
                 "-BUSYGROUP Consumer Group name already exists\r\n"
                 "-ERR1 x\r\n-NOSCRIPT No matching script.\r\n",
                 RSP,
                 "R@28:-MOVED,0,0 R@54:-ASK,0,0 R@70:-ERR,0,0 R@76:-ERR,0,0 R@79:-ERR,0,0 "
                 "R@107:-ERR,0,0 R@154:-BUSYGROUP,0,0 R@163:-ERR,0,0 R@194:-NOSCRIPT,0,0 EOF=IDLE");
    check_stream("15-letter code", "-ABCDEFGHIJKLMNO x\r\n", RSP, "R@20:-ABCDEFGHIJKLMNO,0,0 EOF=IDLE");
    check_stream("bulk errors", "!21\r\nSYNTAX invalid syntax\r\n!3\r\nERR\r\n!0\r\n\r\n!5\r\noops!\r\n", RSP,
                 "R@28:!SYNTAX,0,0 R@37:!ERR,0,0 R@43:!ERR,0,0 R@54:!ERR,0,0 EOF=IDLE");
    check_stream("errors inside", "*3\r\n+OK\r\n-WRONGTYPE x\r\n!3\r\nERR\r\n", RSP, "R@32:*,0,1 EOF=IDLE");
    /* RESP3 streamed strings and aggregates */
    check_stream("streamed string", "$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n", RSP,
                 "R@36:$,0,1 EOF=IDLE");
    check_stream("streamed aggregates",
                 "*?\r\n:1\r\n$-1\r\n*?\r\n.\r\n.\r\n%?\r\n+a\r\n:1\r\n.\r\n~?\r\n.\r\n>?\r\n+x\r\n.\r\n",
                 RSP, "R@23:*,1,2 R@38:%,0,2 R@45:~,0,0 P@56:>,0,1 EOF=IDLE");
    /* truncated replies: need more, then TRUNC at eof */
    check_stream("truncated bulk", "$10\r\nabc", RSP, "EOF=TRUNC");
    check_stream("truncated array", "*3\r\n:1\r\n:2\r\n", RSP, "EOF=TRUNC");
    check_stream("truncated line", "+OK\r", RSP, "EOF=TRUNC");
    check_stream("after a reply", "+OK\r\n*2\r\n", RSP, "R@5:+,0,1 EOF=TRUNC");
}

/* ---------------------------------------------------------------- commands */

static void test_commands(void)
{
    check_stream("pipelined",
                 "*2\r\n$3\r\nget\r\n$1\r\nk\r\n*3\r\n$5\r\nhmget\r\n$1\r\nh\r\n$1\r\nf\r\n"
                 "*1\r\n$4\r\nPiNg\r\n*2\r\n$4\r\nMGET\r\n$1\r\na\r\n"
                 "*2\r\n$6\r\nGETDEL\r\n$1\r\nk\r\n*4\r\n$5\r\nGETEX\r\n$1\r\nk\r\n$2\r\nEX\r\n$1\r\n1\r\n"
                 "*3\r\n$4\r\nHGET\r\n$1\r\nh\r\n$1\r\nf\r\n",
                 REQ,
                 "B@1 Q@20:GET,2,1 B@21 Q@49:HMGET,3,1 B@50 Q@63:PING,1,0 B@64 Q@84:MGET,2,1 "
                 "B@85 Q@107:GETDEL,2,1 B@108 Q@144:GETEX,4,1 B@145 Q@172:HGET,3,1 EOF=IDLE");
    check_stream("arity", "*1\r\n$3\r\nGET\r\n*1\r\n$4\r\nMGET\r\n*2\r\n$5\r\nHMGET\r\n$1\r\nh\r\n", REQ,
                 "B@1 Q@13:GET,1,0 B@14 Q@27:MGET,1,0 B@28 Q@49:HMGET,2,0 EOF=IDLE");
    check_stream("names", "*1\r\n$25\r\nAVERYLONGCOMMANDNAMEXXXXX\r\n*1\r\n$4\r\nGETX\r\n*1\r\n$2\r\nGE\r\n"
                          "*1\r\n$0\r\n\r\n*1\r\n$16\r\nZREVRANGEBYSCORE\r\n*1\r\n$10\r\nEVALSHA_RO\r\n"
                          "*2\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n",
                 REQ, "B@1 Q@36:_OTHER,1,0 B@37 Q@50:_OTHER,1,0 B@51 Q@62:_OTHER,1,0 B@63 "
                 "Q@72:_OTHER,1,0 B@73 Q@99:ZREVRANGEBYSCORE,1,0 B@100 Q@120:EVALSHA_RO,1,0 "
                 "B@121 Q@149:CLIENT,2,0 EOF=IDLE");
    check_stream("empty commands", "*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", REQ,
                 "B@1 Q@4:_OTHER,0,0n B@5 Q@9:_OTHER,0,0n B@10 Q@23:PING,1,0 EOF=IDLE");
    check_stream("binary argument", "*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$4\r\n\x00\xff\r\n\r\n", REQ,
                 "B@1 Q@32:SET,3,0 EOF=IDLE");
    check_stream("inline", "\r\n\r\nPING\r\nset k \"a b\" 'c d'\r\nget   k\nMGET a b \"c\\\" d\" e\r\n", REQ,
                 "B@5i Q@10:PING,1,0i B@11i Q@29:SET,4,0i B@30i Q@37:GET,2,1i B@38i "
                 "Q@57:MGET,5,4i EOF=IDLE");
    check_stream("truncated command", "*2\r\n$3\r\nGET\r\n$1\r\nk", REQ, "B@1 EOF=TRUNC");
    check_stream("truncated inline", "PING", REQ, "B@1i EOF=TRUNC");
    check_stream("blank only", "\r\n\n", REQ, "EOF=IDLE");
}

/* ---------------------------------------------------------------- bad input */

/* repeat: fill buf with n copies of the unit string; returns the length. */
static size_t repeat(uint8_t *buf, size_t cap, const char *unit, size_t n)
{
    size_t ul = strlen(unit), i, len = 0;
    for (i = 0; i < n && len + ul <= cap; i++, len += ul)
        memcpy(buf + len, unit, ul);
    return len;
}

static uint8_t big[2u << 20];

static void test_bad(void)
{
    char expect[64];
    size_t n;

    /* lengths that lie or overflow */
    check_stream("negative bulk", "$-2\r\n", RSP, "BAD@2");
    check_stream("negative array", "*-5\r\n", RSP, "BAD@2");
    check_stream("minus zero", "$-0\r\n", RSP, "BAD@2");
    check_stream("minus one more digit", "$-10\r\n", RSP, "BAD@3");
    check_stream("nil map", "%-1\r\n", RSP, "BAD@1");
    check_stream("bulk over the cap", "$4294967297\r\n", RSP, "BAD@10");
    check_stream("bulk at the cap", "$4294967296\r\n", RSP, "EOF=TRUNC");
    check_stream("huge bulk", "$99999999999999999999999\r\n", RSP, "BAD@10");
    check_stream("count over the cap", "*2147483648\r\n", RSP, "BAD@10");
    check_stream("empty length", "$\r\n", RSP, "BAD@1");
    check_stream("junk in length", "$3x\r\nabc\r\n", RSP, "BAD@2");
    check_stream("LF without CR", "$3\nabc\r\n", RSP, "BAD@2");
    check_stream("bulk not ended by CRLF", "$3\r\nfooXY", RSP, "BAD@7");
    check_stream("bulk ended by LF", "$3\r\nfoo\n", RSP, "BAD@7");
    check_stream("request nil bulk", "*2\r\n$3\r\nGET\r\n$-1\r\n", REQ, "B@1 BAD@14");
    check_stream("request not bulk", "*2\r\n$3\r\nGET\r\n:1\r\n", REQ, "B@1 BAD@13");
    check_stream("request nested", "*2\r\n*1\r\n$1\r\nx\r\n", REQ, "B@1 BAD@4");
    check_stream("request -2", "*-2\r\n", REQ, "B@1 BAD@2");
    check_stream("request streamed", "*?\r\n", REQ, "B@1 BAD@1");
    /* malformed lines */
    check_stream("bad integer", ":12a\r\n", RSP, "BAD@3");
    check_stream("empty integer", ":-\r\n", RSP, "BAD@2");
    check_stream("bad boolean", "#x\r\n", RSP, "BAD@1");
    check_stream("long boolean", "#tt\r\n", RSP, "BAD@2");
    check_stream("LF in simple string", "+OK\n", RSP, "BAD@3");
    check_stream("CR alone", "+OK\rX", RSP, "BAD@4");
    check_stream("null with junk", "_x\r\n", RSP, "BAD@1");
    check_stream("stray end", ".\r\n", RSP, "BAD@0");
    check_stream("end in counted array", "*2\r\n.\r\n", RSP, "BAD@4");
    check_stream("chunk without ;", "$?\r\n4\r\n", RSP, "BAD@4");
    check_stream("streamed chunk", "$?\r\n;?\r\n", RSP, "BAD@5");
    check_stream("streamed bulk error", "!?\r\n", RSP, "BAD@1");
    /* garbage */
    check_stream("TLS hello to server", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", REQ, "BAD@0");
    check_stream("TLS hello as reply", "\x16\x03\x03\x00\x7a\x02", RSP, "BAD@0");
    check_stream("HTTP reply", "HTTP/1.1 200 OK\r\n", RSP, "BAD@0");
    check_stream("unknown inline", "hullo world\r\n", REQ, "B@1i BAD@5");
    check_stream("inline starting with a digit", "1PING\r\n", REQ, "BAD@0");
    check_stream("inline with a control byte", "PING \x01\r\n", REQ, "B@1i BAD@5");
    check_stream("inline CR without LF", "PING\rX", REQ, "B@1i BAD@5");
    check_stream("HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", REQ, "B@1i Q@16:GET,3,1i B@17i BAD@20");
    check_stream("binary after a reply", "+OK\r\n\x00\x01", RSP, "R@5:+,0,1 BAD@5");

    /* nesting 100000 deep: BAD at the 17th level, no recursion, no crash */
    n = repeat(big, sizeof(big), "*1\r\n", 100000);
    unit_set_context("deep arrays");
    run(big, n, RSP, NULL, NULL, 0, &ref_t);
    CHECK_STREQ(ref_t.s, "BAD@67");
    n = repeat(big, sizeof(big), "%1\r\n+k\r\n", 100000);
    run(big, n, RSP, NULL, NULL, 0, &ref_t);
    CHECK_STREQ(ref_t.s, "BAD@131");
    n = repeat(big, sizeof(big), "|1\r\n", 100000);
    run(big, n, RSP, NULL, NULL, 0, &ref_t);
    CHECK_STREQ(ref_t.s, "BAD@67");
    n = repeat(big, sizeof(big), ">1\r\n*?\r\n", 100000);
    run(big, n, RSP, NULL, NULL, 0, &ref_t);
    CHECK_STREQ(ref_t.s, "BAD@67");
    /* but 100000 attributes in a row are fine: no state grows */
    n = repeat(big, sizeof(big), "|0\r\n", 100000);
    n += repeat(big + n, sizeof(big) - n, "+OK\r\n", 1);
    run(big, n, RSP, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "R@%zu:+,0,1a EOF=IDLE", n);
    CHECK_STREQ(ref_t.s, expect);
    /* a wide array is fine too */
    n = repeat(big, sizeof(big), "*100000\r\n", 1);
    n += repeat(big + n, sizeof(big) - n, "$-1\r\n", 60000);
    n += repeat(big + n, sizeof(big) - n, ":1\r\n", 40000);
    run(big, n, RSP, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "R@%zu:*,60000,40000 EOF=IDLE", n);
    CHECK_STREQ(ref_t.s, expect);

    /* a simple string over SHIM_REDIS_LINE_CAP */
    big[0] = '+';
    memset(big + 1, 'a', SHIM_REDIS_LINE_CAP + 1);
    run(big, SHIM_REDIS_LINE_CAP + 2, RSP, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "BAD@%u", SHIM_REDIS_LINE_CAP + 1);
    CHECK_STREQ(ref_t.s, expect);
    cuts_buf[0] = 1000;
    cuts_buf[1] = SHIM_REDIS_LINE_CAP;
    run(big, SHIM_REDIS_LINE_CAP + 2, RSP, NULL, cuts_buf, 2, &cur_t);
    CHECK_STREQ(cur_t.s, expect);
    /* exactly at the cap it is fine */
    memcpy(big + 1 + SHIM_REDIS_LINE_CAP, "\r\n", 2);
    run(big, SHIM_REDIS_LINE_CAP + 3, RSP, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "R@%u:+,0,1 EOF=IDLE", SHIM_REDIS_LINE_CAP + 3);
    CHECK_STREQ(ref_t.s, expect);
    /* an inline command over SHIM_REDIS_INLINE_CAP */
    memcpy(big, "SET k ", 6);
    memset(big + 6, 'v', SHIM_REDIS_INLINE_CAP);
    run(big, SHIM_REDIS_INLINE_CAP + 6, REQ, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "B@1i BAD@%u", SHIM_REDIS_INLINE_CAP);
    CHECK_STREQ(ref_t.s, expect);
    unit_set_context("%s", "");
}

/* ---------------------------------------------------------------- detectors, table */

static int det(const char *s)
{
    size_t n = strlen(s);
    return shim_redis_detect_request(at_guard((const uint8_t *)s, n), n);
}

static void test_detect(void)
{
    CHECK_EQ(det(""), -1);
    CHECK_EQ(det("*"), -1);
    CHECK_EQ(det("*2"), -1);
    CHECK_EQ(det("*2\r"), -1);
    CHECK_EQ(det("*2\r\n"), -1);
    CHECK_EQ(det("*2\r\n$"), 1);
    CHECK_EQ(det("*12\r\n$3\r\nDEL\r\n"), 1);
    CHECK_EQ(det("*2\r\n*"), 0);
    CHECK_EQ(det("*0\r\n$"), 0);
    CHECK_EQ(det("*x"), 0);
    CHECK_EQ(det("*2\n$"), 0);
    CHECK_EQ(det("*1234567890123\r\n$"), 0);
    CHECK_EQ(det("PING\r\n"), 2);
    CHECK_EQ(det("ping\n"), 2);
    CHECK_EQ(det("get foo\r\n"), 2);
    CHECK_EQ(det("GET / HTTP/1.1\r\n"), 2); /* documented: prefer HTTP / memcached sniffing first */
    CHECK_EQ(det("HELLO 3\r\n"), 2);
    CHECK_EQ(det("ping"), -1);
    CHECK_EQ(det("GE"), -1);
    CHECK_EQ(det("ZREVRANGEBYSC"), -1);
    CHECK_EQ(det("GETX "), 0);
    CHECK_EQ(det("xyz"), 0);
    CHECK_EQ(det("hullo world"), 0);
    CHECK_EQ(det("hello world"), 2); /* HELLO is a command */
    CHECK_EQ(det("PING\t"), 0);
    CHECK_EQ(det("\x16\x03\x01"), 0);
    CHECK_EQ(det("\x80\x00"), 0);
    CHECK_EQ(det("_PING "), 0);
    CHECK_EQ(det("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0);
}

static void test_table(void)
{
    static const char *const required[] = {
        "GET", "SET", "DEL", "EXISTS", "EXPIRE", "TTL", "INCR", "INCRBY", "DECR", "MGET", "MSET",
        "GETEX", "GETDEL", "SETEX", "SETNX", "HGET", "HSET", "HMGET", "HMSET", "HGETALL", "HDEL",
        "HINCRBY", "LPUSH", "RPUSH", "LPOP", "RPOP", "LRANGE", "LLEN", "SADD", "SREM", "SMEMBERS",
        "SISMEMBER", "ZADD", "ZRANGE", "ZREM", "ZSCORE", "ZINCRBY", "PUBLISH", "SUBSCRIBE", "PING",
        "ECHO", "AUTH", "SELECT", "HELLO", "CLIENT", "CONFIG", "INFO", "KEYS", "SCAN", "TYPE",
        "MULTI", "EXEC", "DISCARD", "WATCH", "EVAL", "EVALSHA", "XADD", "XREAD", "FLUSHDB",
        "FLUSHALL", "DBSIZE", "QUIT"};
    unsigned k;
    char lower[SHIM_REDIS_NAME_CAP + 1];

    CHECK_STREQ(shim_redis_command_name(SHIM_REDIS_CMD_OTHER), "_OTHER");
    CHECK_STREQ(shim_redis_command_name(SHIM_REDIS_CMD_COUNT), "_OTHER");
    CHECK_STREQ(shim_redis_command_name(100000), "_OTHER");
    CHECK_STREQ(shim_redis_command_name(SHIM_REDIS_CMD_GET), "GET");
    CHECK_STREQ(shim_redis_command_name(SHIM_REDIS_CMD_ZREVRANGEBYSCORE), "ZREVRANGEBYSCORE");
    for (k = 1; k < SHIM_REDIS_CMD_COUNT; k++) {
        const char *s = shim_redis_command_name(k);
        size_t n = strlen(s), i;
        unit_set_context("command %s", s);
        CHECK(n >= 1 && n <= SHIM_REDIS_NAME_CAP);
        if (k > 1)
            CHECK(strcmp(shim_redis_command_name(k - 1), s) < 0); /* sorted: binary search */
        CHECK_EQ(shim_redis_lookup_command((const uint8_t *)s, n), k);
        for (i = 0; i < n; i++)
            lower[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
        CHECK_EQ(shim_redis_lookup_command((const uint8_t *)lower, n), k);
        CHECK_EQ(shim_redis_lookup_command((const uint8_t *)s, n - 1) == k, 0);
    }
    unit_set_context("%s", "");
    for (k = 0; k < SHIM_ARRAY_LEN_(required); k++)
        CHECK_MSG(shim_redis_lookup_command((const uint8_t *)required[k], strlen(required[k])) !=
                      SHIM_REDIS_CMD_OTHER,
                  "%s missing", required[k]);
    CHECK_EQ(shim_redis_lookup_command((const uint8_t *)"", 0), SHIM_REDIS_CMD_OTHER);
    CHECK_EQ(shim_redis_lookup_command((const uint8_t *)"GETS", 4), SHIM_REDIS_CMD_OTHER);
    CHECK_EQ(shim_redis_lookup_command((const uint8_t *)"AAA", 3), SHIM_REDIS_CMD_OTHER);
    CHECK_EQ(shim_redis_lookup_command((const uint8_t *)"ZZZ", 3), SHIM_REDIS_CMD_OTHER);
    /* sizes: fixed, small */
    CHECK(sizeof(struct shim_redis) <= 256);
    CHECK(sizeof(struct shim_redis_event) <= 64);
    printf("sizeof(struct shim_redis) = %zu, sizeof(struct shim_redis_event) = %zu\n",
           sizeof(struct shim_redis), sizeof(struct shim_redis_event));
}

int main(void)
{
    guard_init();
    UNIT_RUN(test_table);
    UNIT_RUN(test_detect);
    UNIT_RUN(test_captured);
    UNIT_RUN(test_pairing);
    UNIT_RUN(test_replies);
    UNIT_RUN(test_commands);
    UNIT_RUN(test_bad);
    return unit_summary();
}
