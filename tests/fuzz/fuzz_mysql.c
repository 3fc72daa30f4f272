/*
 * fuzz_mysql.c - libFuzzer harness for the MySQL / MariaDB protocol parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *       tests/fuzz/fuzz_mysql.c shim/proto/mysql.c shim/proto/sqlop.c -o build/fuzz_mysql
 *   build/fuzz_mysql -max_total_time=60 /tmp/mysql-corpus tests/fuzz/corpus/mysql
 *
 * Input: byte 0 is control: bits 0-1 the run kind (0 frontend, 1 backend
 * with expectations made up from byte 1, 2 frontend then backend: the rest
 * is split at its first "\xff\xfe\xfd\xfc" marker, the frontend part's
 * events are handed to the backend with shim_mysql_expect before its part,
 * 3 the SQL keyword scanner), bits 2-7 the split point (0..63 scaled to
 * the length). The stream is fed whole, split in two, in pseudo-random
 * small chunks and, when short, byte by byte; each chunk is copied to its
 * own exact-size heap block so ASan sees any read past it. The traces
 * (every event, field and stream offset, and the final state) must be
 * identical and every event must keep the API's invariants; otherwise
 * abort().
 */
#include "shim/proto/mysql.h"
#include "shim/proto/sqlop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HARNESS "fuzz_mysql"
#include "harness.h"

#define DB(x) shim_mysql_##x
#define DB_RC(x) SHIM_MYSQL_##x
#define DB_STATE struct shim_mysql
#include "harness_db.h"

/* note: fold one record into the trace after checking the event. */
static void note(struct trace *t, int rc, const struct shim_mysql_event *ev, uint64_t off, int mode)
{
    uint8_t rec[64];
    memset(rec, 0, sizeof(rec));
    rec[0] = (uint8_t)(rc + 1);
    memcpy(rec + 1, &off, 8);
    if (ev) {
        if (ev->type == SHIM_MYSQL_EV_NONE || ev->type > SHIM_MYSQL_EV_RESP_DONE)
            fail("event type", ev->type, 0);
        if ((mode == SHIM_MYSQL_FRONTEND) !=
            (ev->type == SHIM_MYSQL_EV_HANDSHAKE || ev->type == SHIM_MYSQL_EV_REQ))
            fail("event of the other direction", ev->type, (unsigned long)mode);
        if (ev->op >= SHIM_SQL_OP_COUNT)
            fail("op out of range", ev->op, 0);
        if (ev->sqlstate[5] != 0 || strlen(ev->sqlstate) > 5)
            fail("sqlstate not terminated", 0, 0);
        if (ev->type != SHIM_MYSQL_EV_RESP_DONE && (ev->flags & SHIM_MYSQL_F_ERROR))
            fail("error on a non-response", ev->flags, 0);
        if (!(ev->flags & SHIM_MYSQL_F_ERROR) && (ev->err_code || ev->sqlstate[0]))
            fail("error code without the error flag", ev->err_code, 0);
        memcpy(rec + 9, ev, 39);
    }
    mix(t, rec, sizeof(rec));
    t->n++;
}

/* expect_made_up: a handshake (caps from the first byte), then commands. */
static void expect_made_up(struct shim_mysql *st, const uint8_t *exp, size_t nexp)
{
    static const uint8_t cmds[8] = {0x03, 0x16, 0x17, 0x0e, 0x04, 0x09, 0x11, 0x1c};
    struct shim_mysql_event ev;
    size_t i;
    for (i = 0; i < nexp; i++) {
        memset(&ev, 0, sizeof(ev));
        if (i == 0) {
            ev.type = SHIM_MYSQL_EV_HANDSHAKE;
            ev.caps = 0x200u | ((exp[i] & 1) ? SHIM_MYSQL_CLIENT_DEPRECATE_EOF : 0) |
                      ((exp[i] & 2) ? SHIM_MYSQL_CLIENT_QUERY_ATTRIBUTES : 0);
            if ((exp[i] & 0x0c) == 0x0c)
                ev.flags = SHIM_MYSQL_F_COMPRESS;
        } else {
            ev.type = SHIM_MYSQL_EV_REQ;
            ev.cmd = cmds[exp[i] & 7];
            ev.op = (uint8_t)((exp[i] >> 3) % SHIM_SQL_OP_COUNT);
            ev.stmt_id = exp[i] >> 6;
        }
        shim_mysql_expect(st, &ev);
    }
}

static void frontend_extra(const uint8_t *data, size_t len)
{
}

/* other_kind: the detector over growing prefixes (exact-size copies) says
 * "need more" for a while, then settles on 0 or 1 for good, by 7 bytes at
 * most; every command byte has a name. */
static void other_kind(const uint8_t *data, size_t len, size_t split)
{
    if (check_detect(data, len, 16, 1, shim_mysql_detect) < 0 && len >= 7)
        fail("detector undecided after 7 bytes", 0, 0);
    if (strcmp(shim_mysql_cmd_name(len ? data[0] : 0), "") == 0)
        fail("empty command name", 0, 0);
}
