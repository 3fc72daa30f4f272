/*
 * test_memcached.c - unit tests of the incremental memcached parser (text,
 * meta and binary protocols: shim/proto/memcached.c).
 *
 * Every stream is fed (a) whole, (b) one byte at a time, (c) split in two at
 * every byte position and (d) in a few pseudo-random partitions; each run
 * must give the same trace (every event, its fields and its stream offset,
 * then the eof result), and the whole run must match the expected trace
 * written here. Every chunk handed to the parser is first copied so that it
 * ends right at a PROT_NONE page: reading one byte past what it was given
 * crashes the test. The captured streams were recorded with a small TCP
 * proxy in front of memcached 1.6.18.
 *
 * Trace notation, one token per event, offsets are stream offsets just
 * after the event's last byte:
 *   B@5 / B@1b                     REQ_BEGIN (b: binary)
 *   Q@20:set,v=3                   REQ_DONE: command, then only what is set:
 *                                  k=keys, v=data bytes (d: data block
 *                                  flag), n noreply, q quiet, b binary
 *                                  with op=opcode and o=opaque
 *   R@33:END,h=1,v=3               RESP_DONE: result, h=hits, v=value
 *                                  bytes, e=error type, binary: cmd,
 *                                  s=status, o=opaque
 *   ...,K / ...,O                  text events with a key hash / opaque
 *   BAD@81                         feed returned BAD having accepted 81 bytes
 *   EOF=IDLE / EOF=TRUNC           shim_memcached_eof at the end
 */
#include "shim/proto/memcached.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- guard */

#define AREA (4u << 20)
#include "guard.h"

/* ---------------------------------------------------------------- traces */

#define TXT(x) shim_memcached_##x
#define TXT_RC(x) SHIM_MC_##x
#define TXT_STATE struct shim_mc
#define TXT_EVENT struct shim_mc_event
#include "trace_text.h"

/* note: append one event to the trace, checking its invariants. */
static void note(struct trace *t, const struct shim_mc_event *ev, uint64_t off, int mode)
{
    int bin = (ev->flags & SHIM_MC_F_BINARY) != 0;

    if (t->len)
        put(t, " ");
    CHECK(ev->cmd < SHIM_MC_CMD_COUNT);
    CHECK(ev->result < SHIM_MC_R_COUNT);
    CHECK(ev->error < SHIM_MC_E_COUNT);
    CHECK(ev->is_error == (ev->error != SHIM_MC_E_NONE));
    switch (ev->type) {
    case SHIM_MC_EV_REQ_BEGIN:
        CHECK_EQ(mode, SHIM_MC_REQUEST);
        put(t, "B@%llu%s", (unsigned long long)off, bin ? "b" : "");
        break;
    case SHIM_MC_EV_REQ_DONE:
        CHECK_EQ(mode, SHIM_MC_REQUEST);
        put(t, "Q@%llu:%s", (unsigned long long)off, shim_memcached_command_name(ev->cmd));
        if (ev->keys)
            put(t, ",k=%u", ev->keys);
        if (ev->bytes || (ev->flags & SHIM_MC_F_DATA))
            put(t, ",%s=%llu", (ev->flags & SHIM_MC_F_DATA) ? "d" : "v", (unsigned long long)ev->bytes);
        if (ev->flags & SHIM_MC_F_NOREPLY)
            put(t, ",n");
        if (ev->flags & SHIM_MC_F_QUIET)
            put(t, ",q");
        if (!bin && (ev->flags & SHIM_MC_F_KEY))
            put(t, ",K");
        if (!bin && (ev->flags & SHIM_MC_F_OPAQUE))
            put(t, ",O");
        if (bin)
            put(t, ",b:op=%02x,o=%u", ev->opcode, ev->opaque);
        break;
    case SHIM_MC_EV_RESP_DONE:
        CHECK_EQ(mode, SHIM_MC_RESPONSE);
        CHECK(bin == (ev->result == SHIM_MC_R_BINARY));
        put(t, "R@%llu:%s", (unsigned long long)off, shim_memcached_result_name(ev->result));
        if (ev->hits)
            put(t, ",h=%u", ev->hits);
        if (ev->bytes)
            put(t, ",v=%llu", (unsigned long long)ev->bytes);
        if (ev->is_error)
            put(t, ",e=%s", shim_memcached_error_name(ev->error));
        if (!bin && (ev->flags & SHIM_MC_F_KEY))
            put(t, ",K");
        if (!bin && (ev->flags & SHIM_MC_F_OPAQUE))
            put(t, ",O");
        if (bin)
            put(t, ",b:%s,s=%u,o=%u", shim_memcached_command_name(ev->cmd), ev->status, ev->opaque);
        break;
    default:
        CHECK_MSG(0, "unknown event type %u", ev->type);
    }
}

/* What the response parser is told about the replies, in order (a caller
 * pairing replies with commands knows this). */
struct expects {
    const uint8_t *kinds;
    size_t n;
};

/* caller_start: the response parser is told what the first reply answers. */
static void caller_start(struct shim_mc *st, struct caller *k)
{
    if (k->ex && k->ex->n)
        shim_memcached_expect(st, (enum shim_mc_expect)k->ex->kinds[0]);
}

/* caller_progress: only a REQ_DONE right after its REQ_BEGIN may take no byte. */
static int caller_progress(struct caller *k, const struct shim_mc_event *ev, size_t c)
{
    k->zero = c == 0 ? k->zero + 1 : 0;
    CHECK(k->zero == 0 || (ev->type == SHIM_MC_EV_REQ_DONE && k->last == SHIM_MC_EV_REQ_BEGIN));
    return k->zero <= 1;
}

/* caller_answered: the expectation is used up at RESP_DONE; tell the next. */
static void caller_answered(struct shim_mc *st, struct caller *k)
{
    CHECK_EQ(st->expect, SHIM_MC_EXPECT_AUTO);
    if (k->ex && ++k->told < k->ex->n)
        shim_memcached_expect(st, (enum shim_mc_expect)k->ex->kinds[k->told]);
}

#define REQ SHIM_MC_REQUEST
#define RSP SHIM_MC_RESPONSE

/* ---------------------------------------------------------------- captured byte streams */

/*
 * Text protocol session against memcached 1.6.18: set, get hit / miss /
 * multi-get, gets, add / replace failing, append, prepend, cas mismatch, set
 * noreply, incr, decr, incr of a non-number, delete twice, touch, gat, gats,
 * an empty line and an unknown command (ERROR), version, verbosity,
 * flush_all, set with a non-numeric length (CLIENT_ERROR, no data read), an
 * empty value, quit.
 */
static const char v_text_req[] =
    "set foo 0 0 3\r\nbar\r\nget foo\r\nget nosuch\r\nget foo nosuch foo\r\n"
    "gets foo\r\nadd foo 0 0 1\r\nx\r\nreplace nokey 0 0 1\r\n"
    "x\r\nappend foo 0 0 2\r\nzz\r\nprepend foo 0 0 2\r\naa\r\n"
    "cas foo 0 0 1 999\r\ny\r\nset n 5 0 2 noreply\r\n10\r\nincr n 5\r\n"
    "decr n 100\r\nincr foo 1\r\ndelete foo\r\ndelete foo\r\n"
    "touch n 100\r\ngat 100 n nokey\r\ngats 100 n\r\n\r\nbogus cmd\r\n"
    "version\r\nverbosity 1\r\nflush_all 0\r\nget n\r\nset big 0 0 abc\r\n"
    "set e 0 0 0\r\n\r\nget e\r\nquit\r\n";
static const char v_text_resp[] =
    "STORED\r\nVALUE foo 0 3\r\nbar\r\nEND\r\nEND\r\nVALUE foo 0 3\r\n"
    "bar\r\nVALUE foo 0 3\r\nbar\r\nEND\r\nVALUE foo 0 3 32\r\n"
    "bar\r\nEND\r\nNOT_STORED\r\nNOT_STORED\r\nSTORED\r\nSTORED\r\n"
    "EXISTS\r\n15\r\n0\r\nCLIENT_ERROR cannot increment or decrement non-numeric "
    "value\r\nDELETED\r\nNOT_FOUND\r\nTOUCHED\r\nVALUE n 5 2\r\n"
    "0 \r\nEND\r\nVALUE n 5 2 37\r\n0 \r\nEND\r\nERROR\r\nERROR\r\n"
    "VERSION 1.6.18\r\nOK\r\nOK\r\nEND\r\nCLIENT_ERROR bad command line format\r\n"
    "STORED\r\nVALUE e 0 0\r\n\r\nEND\r\n";

/*
 * Meta commands: ms, mg with and without v / k / s flags, mg miss, quiet mg
 * (no reply on a miss, a reply on a hit), mn, quiet ms, old-style ms with a
 * non-numeric length (CLIENT_ERROR, the data line read as a command: ERROR),
 * quiet md, md miss, ma, me, mg without key.
 */
static const char v_meta_req[] =
    "ms mkey 2 T0\r\nhi\r\nmg mkey v\r\nmg mkey\r\nmg mkey s v k\r\n"
    "mg nokey v\r\nmg nokey v q\r\nmg mkey v q k\r\nmn\r\nms mkey 2 q\r\n"
    "ho\r\nms mkey S2 I\r\nxx\r\nmd mkey q\r\nmd mkey\r\nma cnt N0 J13\r\n"
    "ma cnt v\r\nme mkey\r\nmg\r\nmn\r\n";
static const char v_meta_resp[] =
    "HD\r\nVA 2\r\nhi\r\nHD\r\nVA 2 s2 kmkey\r\nhi\r\nEN\r\nVA 2 kmkey\r\n"
    "hi\r\nMN\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n"
    "NF\r\nHD\r\nVA 2\r\n14\r\nEN\r\nERROR\r\nMN\r\n";

/*
 * stats reset (RESET), stats detail dump (just END), stats cachedump (ITEM
 * lines: needs SHIM_MC_EXPECT_LINES), stats items (STAT lines).
 */
static const char v_stats_req[] =
    "set a 0 0 1\r\n1\r\nstats reset\r\nstats detail dump\r\n"
    "stats cachedump 1 5\r\nstats items\r\n";
static const char v_stats_resp[] =
    "STORED\r\nRESET\r\nEND\r\nITEM cnt [2 b; 0 s]\r\nITEM e [0 b; 0 s]\r\n"
    "END\r\nSTAT items:1:number 3\r\nSTAT items:1:number_hot 1\r\n"
    "STAT items:1:number_warm 0\r\nSTAT items:1:number_cold 2\r\n"
    "STAT items:1:age_hot 0\r\nSTAT items:1:age_warm 0\r\nSTAT items:1:age 2\r\n"
    "STAT items:1:mem_requested 185\r\nSTAT items:1:evicted 0\r\n"
    "STAT items:1:evicted_nonzero 0\r\nSTAT items:1:evicted_time 0\r\n"
    "STAT items:1:outofmemory 0\r\nSTAT items:1:tailrepairs 0\r\n"
    "STAT items:1:reclaimed 0\r\nSTAT items:1:expired_unfetched 0\r\n"
    "STAT items:1:evicted_unfetched 0\r\nSTAT items:1:evicted_active 0\r\n"
    "STAT items:1:crawler_reclaimed 0\r\nSTAT items:1:crawler_items_checked 0\r\n"
    "STAT items:1:lrutail_reflocked 0\r\nSTAT items:1:moves_to_cold 0\r\n"
    "STAT items:1:moves_to_warm 0\r\nSTAT items:1:moves_within_lru 0\r\n"
    "STAT items:1:direct_reclaims 0\r\nSTAT items:1:hits_to_hot 0\r\n"
    "STAT items:1:hits_to_warm 0\r\nSTAT items:1:hits_to_cold 0\r\n"
    "STAT items:1:hits_to_temp 0\r\nEND\r\n";

/*
 * Binary protocol: Set, Get hit and miss, GetQ miss (no reply) + GetKQ hit +
 * Noop, Increment of a new and of a non-numeric value, Delete twice,
 * Version, Stat sizes (two packets), SetQ (no reply) + Noop, an unknown
 * opcode, Quit.
 */
static const char v_bin_req[] =
    "\x80\x01\x00\x02\x08\x00\x00\x00\x00\x00\x00\x0f\x00\x00\x00\x01\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\xde\xad\x00\x00\x00\x00" "bkhello\x80\x00\x00\x02"
    "\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00"
    "\x00" "bk\x80\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x03\x00"
    "\x00\x00\x00\x00\x00\x00\x00missing\x80\x09\x00\x07\x00\x00\x00\x00\x00\x00\x00"
    "\x07\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00missing\x80\r\x00\x02\x00"
    "\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00"
    "bk\x80\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x80\x05\x00\x03\x14\x00\x00\x00\x00\x00\x00\x17\x00\x00"
    "\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00"
    "\x00\x00\x00\x00\x00\x00\n\x00\x00\x00\x00" "ctr\x80\x05\x00\x02\x14\x00\x00"
    "\x00\x00\x00\x00\x16\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\n\x00\x00\x00\x00" "bk\x80"
    "\x04\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x09\x00\x00\x00\x00"
    "\x00\x00\x00\x00" "bk\x80\x04\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00"
    "\x00\n\x00\x00\x00\x00\x00\x00\x00\x00" "bk\x80\x0b\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x80\x10\x00\x05"
    "\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00"
    "\x00sizes\x80\x11\x00\x02\x08\x00\x00\x00\x00\x00\x00\x0b\x00\x00\x00\r\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00q1v\x80\n"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0e\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x80?\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0f\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x80\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00";
static const char v_bin_resp[] =
    "\x81\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00"
    "\x00\x00\x00\x00" "0\x81\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x09\x00\x00"
    "\x00\x02\x00\x00\x00\x00\x00\x00\x00" "0\x00\x00\xde\xadhello\x81\x00\x00\x00"
    "\x00\x00\x00\x01\x00\x00\x00\x09\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00"
    "\x00Not found\x81\r\x00\x02\x04\x00\x00\x00\x00\x00\x00\x0b\x00\x00\x00\x05\x00"
    "\x00\x00\x00\x00\x00\x00" "0\x00\x00\xde\xad" "bkhello\x81\n"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x81\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x07"
    "\x00\x00\x00\x00\x00\x00\x00" "1\x00\x00\x00\x00\x00\x00\x00\x0b\x81\x05\x00"
    "\x00\x00\x00\x00\x06\x00\x00\x00.\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00"
    "\x00Non-numeric server-side value for incr or decr\x81\x04\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x81\x04"
    "\x00\x00\x00\x00\x00\x01\x00\x00\x00\x09\x00\x00\x00\n\x00\x00\x00\x00\x00\x00"
    "\x00\x00Not found\x81\x0b\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x00\x00\x00"
    "\x0b\x00\x00\x00\x00\x00\x00\x00\x00" "1.6.18\x81\x10\x00\x0c\x00\x00\x00\x00"
    "\x00\x00\x00\x14\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00sizes_status"
    "disabled\x81\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x81\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x00\x0e\x00\x00\x00\x00\x00\x00\x00\x00\x81?\x00\x00\x00\x00\x00\x81\x00"
    "\x00\x00\x0f\x00\x00\x00\x0f\x00\x00\x00\x00\x00\x00\x00\x00Unknown command\x81"
    "\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00"
    "\x00\x00\x00\x00";


static const uint8_t stats_kinds[] = {SHIM_MC_EXPECT_AUTO, SHIM_MC_EXPECT_LINES, SHIM_MC_EXPECT_LINES,
                                      SHIM_MC_EXPECT_LINES, SHIM_MC_EXPECT_LINES};

static void test_captured(void)
{
    struct expects ex = {stats_kinds, ARRAY_LEN(stats_kinds)};

    check_stream("text req", v_text_req, REQ,
                 "B@1 Q@20:set,d=3 B@21 Q@29:get,k=1 B@30 Q@41:get,k=1 B@42 Q@61:get,k=3 B@62 "
                 "Q@71:gets,k=1 B@72 Q@89:add,d=1 B@90 Q@113:replace,d=1 B@114 Q@135:append,d=2 "
                 "B@136 Q@158:prepend,d=2 B@159 Q@180:cas,d=1 B@181 Q@205:set,d=2,n B@206 "
                 "Q@215:incr B@216 Q@227:decr B@228 Q@239:incr B@240 Q@251:delete B@252 "
                 "Q@263:delete B@264 Q@276:touch B@277 Q@293:gat,k=2 B@294 Q@305:gats,k=1 B@306 "
                 "Q@307:_OTHER B@308 Q@318:_OTHER B@319 Q@327:version B@328 Q@340:verbosity B@341 "
                 "Q@353:flush_all B@354 Q@360:get,k=1 B@361 Q@377:set B@378 Q@392:set,d=0 B@393 "
                 "Q@399:get,k=1 B@400 Q@405:quit,n EOF=IDLE");
    check_stream("text resp", v_text_resp, RSP,
                 "R@8:STORED R@33:END,h=1,v=3 R@38:END R@83:END,h=2,v=6 R@111:END,h=1,v=3 "
                 "R@123:NOT_STORED R@135:NOT_STORED R@143:STORED R@151:STORED R@159:EXISTS "
                 "R@163:NUMBER R@166:NUMBER R@228:CLIENT_ERROR,e=CLIENT_ERROR R@237:DELETED "
                 "R@248:NOT_FOUND R@257:TOUCHED R@279:END,h=1,v=2 R@304:END,h=1,v=2 "
                 "R@311:ERROR,e=ERROR R@318:ERROR,e=ERROR R@334:VERSION R@338:OK R@342:OK "
                 "R@347:END R@385:CLIENT_ERROR,e=CLIENT_ERROR R@393:STORED R@413:END,h=1 EOF=IDLE");
    check_stream("meta req", v_meta_req, REQ,
                 "B@1 Q@18:ms,d=2,K B@19 Q@29:mg,k=1,K B@30 Q@38:mg,k=1,K B@39 Q@53:mg,k=1,K B@54 "
                 "Q@65:mg,k=1,K B@66 Q@79:mg,k=1,q,K B@80 Q@94:mg,k=1,q,K B@95 Q@98:mn B@99 "
                 "Q@115:ms,d=2,q,K B@116 Q@129:ms,K B@130 Q@133:_OTHER B@134 Q@144:md,q,K B@145 "
                 "Q@153:md,K B@154 Q@168:ma,K B@169 Q@178:ma,K B@179 Q@187:me,K B@188 Q@191:mg "
                 "B@192 Q@195:mn EOF=IDLE");
    check_stream("meta resp", v_meta_resp, RSP,
                 "R@4:HD,h=1 R@14:VA,h=1,v=2 R@18:HD,h=1 R@37:VA,h=1,v=2,K R@41:EN "
                 "R@57:VA,h=1,v=2,K R@61:MN R@99:CLIENT_ERROR,e=CLIENT_ERROR R@106:ERROR,e=ERROR "
                 "R@110:NF R@114:HD,h=1 R@124:VA,h=1,v=2 R@128:EN R@135:ERROR,e=ERROR R@139:MN "
                 "EOF=IDLE");
    check_stream("stats req", v_stats_req, REQ,
                 "B@1 Q@16:set,d=1 B@17 Q@29:stats B@30 Q@48:stats B@49 Q@69:stats B@70 Q@82:stats "
                 "EOF=IDLE");
    check_stream_x("stats resp", v_stats_resp, sizeof(v_stats_resp) - 1, RSP, &ex,
                   "R@8:STORED R@15:RESET R@20:END R@65:END R@889:END EOF=IDLE");
    /* without being told, the ITEM lines of stats cachedump are read as
     * one-line replies: the caller must say what the reply answers */
    check_stream("stats resp auto", v_stats_resp, RSP,
                 "R@8:STORED R@15:RESET R@20:END R@41:_OTHER R@60:_OTHER R@65:END R@889:END "
                 "EOF=IDLE");
    check_stream("bin req", v_bin_req, REQ,
                 "B@1b Q@39:set,v=5,b:op=01,o=1 B@40b Q@65:get,k=1,b:op=00,o=2 B@66b "
                 "Q@96:get,k=1,b:op=00,o=3 B@97b Q@127:get,k=1,q,b:op=09,o=4 B@128b "
                 "Q@153:get,k=1,q,b:op=0d,o=5 B@154b Q@177:noop,b:op=0a,o=6 B@178b "
                 "Q@224:incr,b:op=05,o=7 B@225b Q@270:incr,b:op=05,o=8 B@271b "
                 "Q@296:delete,b:op=04,o=9 B@297b Q@322:delete,b:op=04,o=10 B@323b "
                 "Q@346:version,b:op=0b,o=11 B@347b Q@375:stats,b:op=10,o=12 B@376b "
                 "Q@410:set,v=1,q,b:op=11,o=13 B@411b Q@434:noop,b:op=0a,o=14 B@435b "
                 "Q@458:_OTHER,b:op=3f,o=15 B@459b Q@482:quit,b:op=07,o=16 EOF=IDLE");
    check_stream("bin resp", v_bin_resp, RSP,
                 "R@24:BINARY,b:set,s=0,o=1 R@57:BINARY,h=1,v=5,b:get,s=0,o=2 "
                 "R@90:BINARY,v=9,b:get,s=1,o=3 R@125:BINARY,h=1,v=5,b:get,s=0,o=5 "
                 "R@149:BINARY,b:noop,s=0,o=6 R@181:BINARY,v=8,b:incr,s=0,o=7 "
                 "R@251:BINARY,v=46,e=NON_NUMERIC,b:incr,s=6,o=8 R@275:BINARY,b:delete,s=0,o=9 "
                 "R@308:BINARY,v=9,b:delete,s=1,o=10 R@338:BINARY,v=6,b:version,s=0,o=11 "
                 "R@406:BINARY,b:stats,s=0,o=12 R@430:BINARY,b:noop,s=0,o=14 "
                 "R@469:BINARY,v=15,e=UNKNOWN_COMMAND,b:_OTHER,s=129,o=15 "
                 "R@493:BINARY,b:quit,s=0,o=16 EOF=IDLE");
}

/* ---------------------------------------------------------------- pairing */

struct pending {
    uint8_t cmd, flags, opcode;
    uint32_t keys, opaque, keyhash;
};

struct tally {
    unsigned hits, misses, replies, silent, unanswered, errors;
};

/* finish: a get-family command ended with hits values found. */
static void finish(struct tally *t, const struct pending *p, unsigned hits, int is_error)
{
    if (!p->keys || is_error)
        return;
    t->hits += hits;
    t->misses += p->keys - hits;
}

/*
 * pair: play the caller as memcached.h describes: queue the commands of a
 * request stream, match each reply of the response stream (telling the
 * response parser what it answers), count cache hits and misses.
 */
static void pair(const char *req, size_t rlen, const char *rsp, size_t plen, struct tally *t)
{
    struct shim_mc q, r;
    struct shim_mc_event ev;
    struct pending fifo[64];
    size_t n = 0, off = 0, c, i, k;

    memset(t, 0, sizeof(*t));
    shim_memcached_init(&q, SHIM_MC_REQUEST);
    shim_memcached_init(&r, SHIM_MC_RESPONSE);
    while (shim_memcached_feed(&q, (const uint8_t *)req + off, rlen - off, &ev, &c) == SHIM_MC_EVENT) {
        off += c;
        if (ev.type != SHIM_MC_EV_REQ_DONE || (ev.flags & SHIM_MC_F_NOREPLY))
            continue;
        REQUIRE(n < ARRAY_LEN(fifo));
        fifo[n].cmd = ev.cmd;
        fifo[n].flags = ev.flags;
        fifo[n].opcode = ev.opcode;
        fifo[n].keys = ev.keys;
        fifo[n].opaque = ev.opaque;
        fifo[n].keyhash = ev.keyhash;
        n++;
    }
    CHECK_EQ(off, rlen);
    off = 0;
    for (;;) {
        /* the reply about to come answers the oldest non-quiet command, as
         * far as its shape is concerned (quiet ones are gets or stores) */
        for (i = 0; i < n && (fifo[i].flags & SHIM_MC_F_QUIET); i++)
            ;
        shim_memcached_expect(&r, shim_memcached_expect_for((enum shim_mc_cmd)(i < n ? fifo[i].cmd : 0)));
        if (shim_memcached_feed(&r, (const uint8_t *)rsp + off, plen - off, &ev, &c) != SHIM_MC_EVENT)
            break;
        off += c;
        t->replies++;
        if (ev.is_error)
            t->errors++;
        /* 1. opaque (binary: and opcode), 2. key, 3. oldest non-quiet */
        k = n;
        for (i = 0; i < n && k == n; i++) {
            if (ev.flags & SHIM_MC_F_OPAQUE) {
                if ((fifo[i].flags & SHIM_MC_F_OPAQUE) && fifo[i].opaque == ev.opaque &&
                    (!(ev.flags & SHIM_MC_F_BINARY) || fifo[i].opcode == ev.opcode))
                    k = i;
            } else if (ev.flags & SHIM_MC_F_KEY) {
                if ((fifo[i].flags & SHIM_MC_F_KEY) && fifo[i].keyhash == ev.keyhash)
                    k = i;
            } else if (!(fifo[i].flags & SHIM_MC_F_QUIET)) {
                k = i;
                if (fifo[i].cmd == SHIM_MC_CMD_MN && ev.result != SHIM_MC_R_MN && i > 0)
                    k = 0;
            }
        }
        REQUIRE(k < n);
        for (i = 0; i < k; i++) { /* quiet commands before it: silent outcome */
            CHECK(fifo[i].flags & SHIM_MC_F_QUIET);
            t->silent++;
            finish(t, &fifo[i], 0, 0);
        }
        finish(t, &fifo[k], ev.hits, ev.is_error);
        memmove(fifo, fifo + k + 1, (n - k - 1) * sizeof(fifo[0]));
        n -= k + 1;
    }
    CHECK_EQ(off, plen);
    t->unanswered = (unsigned)n;
}

static void test_pairing(void)
{
    struct tally t;

    /* get foo, get nosuch, get foo nosuch foo, gets foo, gat 100 n nokey,
     * gats 100 n, get n (after flush_all), get e */
    pair(v_text_req, sizeof(v_text_req) - 1, v_text_resp, sizeof(v_text_resp) - 1, &t);
    CHECK_EQ(t.hits, 7);
    CHECK_EQ(t.misses, 4);
    CHECK_EQ(t.replies, 27);
    CHECK_EQ(t.silent, 0);
    CHECK_EQ(t.unanswered, 0);
    CHECK_EQ(t.errors, 4);
    /* mg mkey v, mg mkey, mg mkey s v k: hits; mg nokey v: miss; quiet
     * mg nokey v q: silent miss; quiet mg mkey v q k: hit (matched by key);
     * quiet ms, quiet md: silent; mg without key: error */
    pair(v_meta_req, sizeof(v_meta_req) - 1, v_meta_resp, sizeof(v_meta_resp) - 1, &t);
    CHECK_EQ(t.hits, 4);
    CHECK_EQ(t.misses, 2);
    CHECK_EQ(t.silent, 3);
    CHECK_EQ(t.unanswered, 0);
    CHECK_EQ(t.errors, 3);
    /* stats replies read whole thanks to shim_memcached_expect */
    pair(v_stats_req, sizeof(v_stats_req) - 1, v_stats_resp, sizeof(v_stats_resp) - 1, &t);
    CHECK_EQ(t.replies, 5);
    CHECK_EQ(t.unanswered, 0);
    /* binary: Get hit, Get miss, GetQ miss (silent at the Noop), GetKQ hit */
    pair(v_bin_req, sizeof(v_bin_req) - 1, v_bin_resp, sizeof(v_bin_resp) - 1, &t);
    CHECK_EQ(t.hits, 2);
    CHECK_EQ(t.misses, 2);
    CHECK_EQ(t.silent, 2); /* GetQ, SetQ */
    CHECK_EQ(t.unanswered, 0);
    CHECK_EQ(t.errors, 2); /* non-numeric incr, unknown opcode */
}

/* ---------------------------------------------------------------- crafted */

/* test_key_length: a key over 250 bytes makes a storage line malformed:
 * the server reads no data block (it answers CLIENT_ERROR). */
static void test_key_length(void)
{
    static char line[400];
    char expect[128];
    size_t n;

    for (n = 250; n <= 251; n++) {
        size_t len = 0;
        memcpy(line, "set ", 4);
        len = 4;
        memset(line + len, 'k', n);
        len += n;
        memcpy(line + len, " 0 0 1\r\nx\r\n", 11);
        len += 11;
        if (n == 250)
            snprintf(expect, sizeof(expect), "B@1 Q@%zu:set,d=1 EOF=IDLE", len);
        else
            snprintf(expect, sizeof(expect), "B@1 Q@%zu:set B@%zu Q@%zu:_OTHER EOF=IDLE", len - 3, len - 2, len);
        check_stream_x(n == 250 ? "key of 250" : "key of 251", line, len, REQ, NULL, expect);
    }
}

static void test_text(void)
{
    check_stream("pipelined gets", "get a b c\r\ngets a\r\nget a\n", REQ,
                 "B@1 Q@11:get,k=3 B@12 Q@19:gets,k=1 B@20 Q@25:get,k=1 EOF=IDLE");
    check_stream("multi-get reply",
                 "VALUE a 0 1\r\n1\r\nVALUE c 5 3 77\r\nabc\r\nEND\r\nVALUE a 0 1\r\n1\r\nEND\r\n", RSP,
                 "R@42:END,h=2,v=4 R@63:END,h=1,v=1 EOF=IDLE");
    check_stream("binary value", "set k 1 0 4\r\n\r\n\x00\xff\r\nget k\r\n", REQ,
                 "B@1 Q@19:set,d=4 B@20 Q@26:get,k=1 EOF=IDLE");
    check_stream("value with CRLF inside", "VALUE k 1 4\r\n\r\n\r\n\r\nEND\r\n", RSP,
                 "R@24:END,h=1,v=4 EOF=IDLE");
    check_stream("noreply",
                 "set k 0 0 1 noreply\r\nx\r\ndelete k noreply\r\nincr n 1 noreply\r\n"
                 "touch k 1 noreply\r\nflush_all noreply\r\nverbosity 1 noreply\r\n"
                 "cas k 0 0 1 5 noreply\r\ny\r\ndelete noreply\r\ndelete k noreplyx\r\n",
                 REQ,
                 "B@1 Q@24:set,d=1,n B@25 Q@42:delete,n B@43 Q@60:incr,n B@61 Q@79:touch,n B@80 "
                 "Q@98:flush_all,n B@99 Q@119:verbosity,n B@120 Q@145:cas,d=1,n B@146 "
                 "Q@161:delete,n B@162 Q@180:delete EOF=IDLE");
    /* as the server: a malformed storage line is followed by no data block */
    check_stream("malformed storage",
                 "set k 0 0\r\nset k x 0 1\r\nset k 0 0 -1\r\ncas k 0 0 1\r\n"
                 "set k 0 0 2147483646\r\nset k 0 -5 1\r\nx\r\n",
                 REQ,
                 "B@1 Q@11:set B@12 Q@24:set B@25 Q@38:set B@39 Q@51:cas B@52 Q@73:set B@74 "
                 "Q@90:set,d=1 EOF=IDLE");
    /* an empty line is a command (the server answers ERROR); a bare LF one
     * gives its REQ_DONE without consuming a byte */
    check_stream("empty lines", "\r\n\n \r\nget a\r\n", REQ,
                 "B@1 Q@2:_OTHER B@3 Q@3:_OTHER B@4 Q@6:_OTHER B@7 Q@13:get,k=1 EOF=IDLE");
    check_stream("spaces", "  get   a  b \r\nset  k 0 0 1 \r\nx\r\n", REQ,
                 "B@1 Q@15:get,k=2 B@16 Q@33:set,d=1 EOF=IDLE");
    check_stream("unknown commands", "lru_crawler metadump all\r\nwatch\r\nGET a\r\nnoop\r\n", REQ,
                 "B@1 Q@26:_OTHER B@27 Q@33:_OTHER B@34 Q@40:_OTHER B@41 Q@46:_OTHER EOF=IDLE");
    check_stream("one-line replies",
                 "STORED\r\nNOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\nDELETED\r\nTOUCHED\r\nOK\r\n"
                 "RESET\r\nVERSION 1.6.18\r\n42\r\nERROR\r\nCLIENT_ERROR bad data chunk\r\n"
                 "SERVER_ERROR out of memory storing object\r\nBUSY\r\n",
                 RSP,
                 "R@8:STORED R@20:NOT_STORED R@28:EXISTS R@39:NOT_FOUND R@48:DELETED R@57:TOUCHED "
                 "R@61:OK R@68:RESET R@84:VERSION R@88:NUMBER R@95:ERROR,e=ERROR "
                 "R@124:CLIENT_ERROR,e=CLIENT_ERROR R@167:SERVER_ERROR,e=SERVER_ERROR R@173:_OTHER "
                 "EOF=IDLE");
    check_stream("errors in get",
                 "VALUE a 0 1\r\n1\r\nSERVER_ERROR out of memory writing get response\r\n", RSP,
                 "R@65:SERVER_ERROR,h=1,v=1,e=SERVER_ERROR EOF=IDLE");
    check_stream("meta replies",
                 "HD\r\nHD O123 kfoo\r\nVA 3 s3 O9\r\nabc\r\nEN\r\nNF\r\nNS\r\nEX\r\nMN\r\n"
                 "ME foo exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\n",
                 RSP,
                 "R@4:HD,h=1 R@18:HD,h=1,K,O R@35:VA,h=1,v=3,O R@39:EN R@43:NF R@47:NS R@51:EX "
                 "R@55:MN R@104:ME EOF=IDLE");
    check_stream("meta requests",
                 "mg foo v O123 k q\r\nms Okey 3 O9 T0\r\nabc\r\nmd foo q\r\nmn\r\nma k N0\r\n", REQ,
                 "B@1 Q@19:mg,k=1,q,K,O B@20 Q@41:ms,d=3,K,O B@42 Q@51:md,q,K B@52 Q@55:mn B@56 "
                 "Q@64:ma,K EOF=IDLE");
    check_stream("truncated value", "VALUE a 0 10\r\nabc", RSP, "EOF=TRUNC");
    check_stream("truncated line", "STORED", RSP, "EOF=TRUNC");
    check_stream("truncated data", "set a 0 0 5\r\nab", REQ, "B@1 EOF=TRUNC");
    test_key_length();
}

/* pkt: append a binary packet to buf at *len. */
static void pkt(uint8_t *buf, size_t *len, uint8_t magic, uint8_t op, const char *key, size_t extlen,
                const char *value, uint16_t status, uint32_t opaque)
{
    uint8_t *p = buf + *len;
    size_t kl = strlen(key), vl = strlen(value);
    uint32_t body = (uint32_t)(extlen + kl + vl);

    memset(p, 0, 24);
    p[0] = magic;
    p[1] = op;
    p[2] = (uint8_t)(kl >> 8);
    p[3] = (uint8_t)kl;
    p[4] = (uint8_t)extlen;
    p[6] = (uint8_t)(status >> 8);
    p[7] = (uint8_t)status;
    p[8] = (uint8_t)(body >> 24);
    p[9] = (uint8_t)(body >> 16);
    p[10] = (uint8_t)(body >> 8);
    p[11] = (uint8_t)body;
    p[12] = (uint8_t)(opaque >> 24);
    p[13] = (uint8_t)(opaque >> 16);
    p[14] = (uint8_t)(opaque >> 8);
    p[15] = (uint8_t)opaque;
    memset(p + 24, 0xEE, extlen);
    memcpy(p + 24 + extlen, key, kl);
    memcpy(p + 24 + extlen + kl, value, vl);
    *len += 24 + body;
}

static void test_binary(void)
{
    static uint8_t b[1024];
    size_t n;

    n = 0;
    pkt(b, &n, 0x80, 0x0a, "", 0, "", 0, 7);
    check_stream_x("bin noop", b, n, REQ, NULL, "B@1b Q@24:noop,b:op=0a,o=7 EOF=IDLE");
    n = 0;
    pkt(b, &n, 0x80, 0x00, "k", 0, "", 0, 0xdeadbeef);
    pkt(b, &n, 0x80, 0x11, "k", 8, "value", 0, 1);
    pkt(b, &n, 0x80, 0x17, "", 0, "", 0, 2);
    check_stream_x("bin requests", b, n, REQ, NULL,
                   "B@1b Q@25:get,k=1,b:op=00,o=3735928559 B@26b Q@63:set,v=5,q,b:op=11,o=1 B@64b "
                   "Q@87:quit,n,q,b:op=17,o=2 EOF=IDLE");
    n = 0;
    pkt(b, &n, 0x81, 0x00, "", 4, "abc", 0, 1);
    pkt(b, &n, 0x81, 0x00, "", 0, "Not found", 1, 2);
    pkt(b, &n, 0x81, 0x01, "", 0, "", 0x82, 3);
    pkt(b, &n, 0x81, 0x1d, "", 4, "v", 0, 4);
    pkt(b, &n, 0x81, 0x05, "", 0, "Non-numeric server-side value for incr or decr", 6, 5);
    check_stream_x("bin replies", b, n, RSP, NULL,
                   "R@31:BINARY,h=1,v=3,b:get,s=0,o=1 R@64:BINARY,v=9,b:get,s=1,o=2 "
                   "R@88:BINARY,e=OUT_OF_MEMORY,b:set,s=130,o=3 R@117:BINARY,h=1,v=1,b:gat,s=0,o=4 "
                   "R@187:BINARY,v=46,e=NON_NUMERIC,b:incr,s=6,o=5 EOF=IDLE");
    /* a Stat reply: packets until one with an empty key, one RESP_DONE */
    n = 0;
    pkt(b, &n, 0x81, 0x10, "a", 0, "b", 0, 5);
    pkt(b, &n, 0x81, 0x10, "c", 0, "d", 0, 5);
    pkt(b, &n, 0x81, 0x10, "", 0, "", 0, 5);
    check_stream_x("bin stat series", b, n, RSP, NULL, "R@76:BINARY,b:stats,s=0,o=5 EOF=IDLE");
    check_stream_x("bin stat truncated", b, 52, RSP, NULL, "EOF=TRUNC");
    check_stream_x("bin truncated", b, 20, RSP, NULL, "EOF=TRUNC");
}

/* ---------------------------------------------------------------- bad input */

static uint8_t big[4u << 20];

static void test_bad(void)
{
    char expect[64];
    size_t n;

    check_stream("control byte in command", "get a\x01\r\n", REQ, "B@1 BAD@5");
    check_stream("CR alone", "get a\rb\r\n", REQ, "B@1 BAD@6");
    check_stream("NUL", "\x00", REQ, "BAD@0");
    check_stream("DEL byte", "get \x7f\r\n", REQ, "B@1 BAD@4");
    check_stream("TLS hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", REQ, "BAD@0");
    check_stream("data not ended by CRLF", "set k 0 0 3\r\nabcX\r\n", REQ, "B@1 BAD@16");
    check_stream("data ended by LF", "set k 0 0 3\r\nabc\n", REQ, "B@1 BAD@16");
    check_stream("empty reply line", "\r\n", RSP, "BAD@0");
    check_stream("reply line starting lower case", "STORED\r\nstored\r\n", RSP, "R@8:STORED BAD@8");
    check_stream("VALUE without length", "VALUE a 0\r\nEND\r\n", RSP, "BAD@10");
    check_stream("VALUE with a bad length", "VALUE a 0 x\r\nEND\r\n", RSP, "BAD@12");
    check_stream("VALUE with a negative length", "VALUE a 0 -1\r\nEND\r\n", RSP, "BAD@13");
    check_stream("VALUE with a huge length", "VALUE a 0 99999999999999999999999\r\n", RSP, "BAD@34");
    check_stream("VA with a bad length", "VA x\r\n", RSP, "BAD@5");
    check_stream("junk in a get reply", "VALUE a 0 1\r\n1\r\nSTORED\r\n", RSP, "BAD@23");
    check_stream("value not ended by CRLF", "VALUE a 0 1\r\n12\r\n", RSP, "BAD@14");
    check_stream("binary after text", "END\r\n\x81", RSP, "R@5:END BAD@5");
    check_stream("binary request magic in a reply", "\x80", RSP, "BAD@0");
    check_stream("binary data type", "\x80\x00\x00\x00\x00\x01", REQ, "B@1b BAD@5");
    n = 0;
    pkt(big, &n, 0x81, 0x0a, "", 0, "", 0, 0);
    memcpy(big + n, "END\r\n", 5);
    check_stream_x("text after binary", big, n + 5, RSP, NULL, "R@24:BINARY,b:noop,s=0,o=0 BAD@24");
    n = 0;
    pkt(big, &n, 0x80, 0x00, "abcde", 4, "", 0, 0);
    big[11] = 8; /* body 8 < key 5 + extras 4 */
    check_stream_x("binary lengths that lie", big, 24, REQ, NULL, "B@1b BAD@23");
    n = 0;
    pkt(big, &n, 0x81, 0x00, "", 0, "", 0, 0);
    memcpy(big + 8, "\x7f\xff\xff\xff", 4);
    check_stream_x("binary huge body", big, 24, RSP, NULL, "BAD@23");
    memcpy(big + 8, "\x40\x01\x00\x00", 4); /* SHIM_MC_BIN_BODY_CAP: fine */
    check_stream_x("binary body at the cap", big, 24, RSP, NULL, "EOF=TRUNC");

    /* a long line: over SHIM_MC_LINE_CAP for most commands */
    memcpy(big, "delete ", 7);
    memset(big + 7, 'k', SHIM_MC_LINE_CAP);
    unit_set_context("long lines");
    run(big, SHIM_MC_LINE_CAP + 7, REQ, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "B@1 BAD@%u", SHIM_MC_LINE_CAP);
    CHECK_STREQ(ref_t.s, expect);
    memset(big, 'K', SHIM_MC_LINE_CAP + 1);
    run(big, SHIM_MC_LINE_CAP, RSP, NULL, NULL, 0, &ref_t);
    CHECK_STREQ(ref_t.s, "EOF=TRUNC");
    run(big, SHIM_MC_LINE_CAP + 1, RSP, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "BAD@%u", SHIM_MC_LINE_CAP);
    CHECK_STREQ(ref_t.s, expect);
    /* a multi-get of many keys may be longer, up to SHIM_MC_GET_LINE_CAP */
    memcpy(big, "get", 3);
    n = 3;
    while (n + 8 < SHIM_MC_GET_LINE_CAP) {
        memcpy(big + n, " key:123", 8);
        n += 8;
    }
    memcpy(big + n, "\r\n", 2);
    run(big, n + 2, REQ, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "B@1 Q@%zu:get,k=%zu EOF=IDLE", n + 2, (n - 3) / 8);
    CHECK_STREQ(ref_t.s, expect);
    memset(big + n, 'k', 16);
    run(big, n + 16, REQ, NULL, NULL, 0, &ref_t);
    snprintf(expect, sizeof(expect), "B@1 BAD@%u", SHIM_MC_GET_LINE_CAP);
    CHECK_STREQ(ref_t.s, expect);
    unit_set_context("%s", "");
}

/* ---------------------------------------------------------------- detectors, names */

static int detq(const char *s, size_t n)
{
    return shim_memcached_detect_request(at_guard((const uint8_t *)s, n), n);
}

static int detr(const char *s, size_t n)
{
    return shim_memcached_detect_response(at_guard((const uint8_t *)s, n), n);
}

#define DQ(lit) detq(lit, sizeof(lit) - 1)
#define DR(lit) detr(lit, sizeof(lit) - 1)

static void test_detect(void)
{
    CHECK_EQ(DQ(""), -1);
    CHECK_EQ(DQ("get foo\r\n"), 1);
    CHECK_EQ(DQ("gets foo"), 1);
    CHECK_EQ(DQ("version\r\n"), 1);
    CHECK_EQ(DQ("stats\n"), 1);
    CHECK_EQ(DQ("flush_all\r\n"), 1);
    CHECK_EQ(DQ("mn\r\n"), 1);
    CHECK_EQ(DQ("mg foo v\r\n"), 1);
    CHECK_EQ(DQ("ge"), -1);
    CHECK_EQ(DQ("get"), -1);
    CHECK_EQ(DQ("flush_"), -1);
    CHECK_EQ(DQ("GET foo\r\n"), 0); /* the server's commands are lower case */
    CHECK_EQ(DQ("getx foo"), 0);
    CHECK_EQ(DQ("get\tfoo"), 0);
    CHECK_EQ(DQ("noop\r\n"), 0);
    CHECK_EQ(DQ("*2\r\n$3\r\n"), 0);
    CHECK_EQ(DQ("POST / HTTP/1.1"), 0);
    CHECK_EQ(DQ("\x80"), -1);
    CHECK_EQ(DQ("\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00"), -1);
    CHECK_EQ(DQ("\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x03"), 1);
    CHECK_EQ(DQ("\x80\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x02"), 0); /* key longer than body */
    CHECK_EQ(DQ("\x80\x00\x00\x03\x00\x01"), 0);                         /* data type */
    CHECK_EQ(DQ("\x80\x1f"), 0);                                         /* unknown opcode */
    CHECK_EQ(DQ("\x80\x25"), 0);
    CHECK_EQ(DQ("\x81\x00"), 0);
    CHECK_EQ(DR(""), -1);
    CHECK_EQ(DR("VALUE foo 0 3\r\n"), 1);
    CHECK_EQ(DR("END\r\n"), 1);
    CHECK_EQ(DR("STORED\r\n"), 1);
    CHECK_EQ(DR("SERVER_ERROR out of memory\r\n"), 1);
    CHECK_EQ(DR("VERSION 1.6.18\r\n"), 1);
    CHECK_EQ(DR("HD\r\n"), 1);
    CHECK_EQ(DR("VA 2 f0\r\n"), 1);
    CHECK_EQ(DR("42\r\n"), 1);
    CHECK_EQ(DR("42"), -1);
    CHECK_EQ(DR("42\r"), -1);
    CHECK_EQ(DR("42x"), 0);
    CHECK_EQ(DR("EN"), -1);
    CHECK_EQ(DR("ENDX\r\n"), 0);
    CHECK_EQ(DR("+OK\r\n"), 0);
    CHECK_EQ(DR("HTTP/1.1 200 OK\r\n"), 0);
    CHECK_EQ(DR("\x81\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 1);
    CHECK_EQ(DR("\x81\x00\x00\x00\x00"), -1);
}

static void test_names(void)
{
    unsigned k;
    CHECK_STREQ(shim_memcached_command_name(SHIM_MC_CMD_OTHER), "_OTHER");
    CHECK_STREQ(shim_memcached_command_name(SHIM_MC_CMD_GET), "get");
    CHECK_STREQ(shim_memcached_command_name(SHIM_MC_CMD_FLUSH_ALL), "flush_all");
    CHECK_STREQ(shim_memcached_command_name(SHIM_MC_CMD_NOOP), "noop");
    CHECK_STREQ(shim_memcached_command_name(SHIM_MC_CMD_COUNT), "_OTHER");
    CHECK_STREQ(shim_memcached_error_name(SHIM_MC_E_NONE), "");
    CHECK_STREQ(shim_memcached_error_name(SHIM_MC_E_CLIENT_ERROR), "CLIENT_ERROR");
    CHECK_STREQ(shim_memcached_error_name(SHIM_MC_E_OTHER_STATUS), "OTHER_STATUS");
    CHECK_STREQ(shim_memcached_error_name(999), "");
    CHECK_STREQ(shim_memcached_result_name(SHIM_MC_R_BINARY), "BINARY");
    CHECK_STREQ(shim_memcached_result_name(SHIM_MC_R_NOT_STORED), "NOT_STORED");
    CHECK_STREQ(shim_memcached_result_name(999), "_OTHER");
    for (k = 0; k < SHIM_MC_CMD_COUNT; k++)
        CHECK(shim_memcached_command_name(k) != NULL && shim_memcached_command_name(k)[0]);
    for (k = 0; k < SHIM_MC_R_COUNT; k++)
        CHECK(shim_memcached_result_name(k)[0]);
    CHECK_EQ(shim_memcached_expect_for(SHIM_MC_CMD_STATS), SHIM_MC_EXPECT_LINES);
    CHECK_EQ(shim_memcached_expect_for(SHIM_MC_CMD_GATS), SHIM_MC_EXPECT_GET);
    CHECK_EQ(shim_memcached_expect_for(SHIM_MC_CMD_SET), SHIM_MC_EXPECT_AUTO);
    CHECK(sizeof(struct shim_mc) <= 256);
    CHECK(sizeof(struct shim_mc_event) <= 64);
    printf("sizeof(struct shim_mc) = %zu, sizeof(struct shim_mc_event) = %zu\n", sizeof(struct shim_mc),
           sizeof(struct shim_mc_event));
}

int main(void)
{
    guard_init();
    UNIT_RUN(test_names);
    UNIT_RUN(test_detect);
    UNIT_RUN(test_captured);
    UNIT_RUN(test_pairing);
    UNIT_RUN(test_text);
    UNIT_RUN(test_binary);
    UNIT_RUN(test_bad);
    return unit_summary();
}
