/*
 * mysql.c - incremental MySQL / MariaDB protocol parser (see mysql.h for the
 * contract and the caller's pairing rules).
 *
 * Packets are read header by header; the payload of each logical packet
 * (fragments of 0xffffff bytes joined) is skipped by length after its
 * first SHIM_MYSQL_PREFIX bytes, which are kept in st->pfx. A few fields
 * are read on the fly: the query text of COM_QUERY / COM_STMT_PREPARE
 * (keyword scanner), the server greeting's capability bytes (which sit
 * after the version string, past the prefix). When a logical packet ends
 * it is classified by the phase (handshake, commands) and, on the backend,
 * by the response state of the command being answered.
 */
#include "shim/proto/mysql.h"

#include <string.h>

/* st->state */
enum { S_HDR = 0, S_PAYLOAD, S_ENCRYPTED, S_BAD };

/* st->phase */
enum {
    PH_START = 0,  /* frontend: HandshakeResponse; backend: greeting */
    PH_AUTH,       /* backend: auth exchange until OK / ERR */
    PH_COMMAND,    /* commands and their answers */
    PH_STREAM      /* backend: answer the parser cannot frame: skip all */
};

/* st->field: payload bytes read on the fly */
enum {
    FLD_NONE = 0,
    FLD_CMD,       /* frontend: command byte, then what it implies */
    FLD_QA,        /* COM_QUERY with query attributes: the two counts */
    FLD_TEXT,      /* query text from st->fpos on */
    FLD_GREET,     /* greeting: version string, then capability bytes */
};

/* st->rs: backend response state */
enum {
    RS_NONE = 0,   /* no answer in progress */
    RS_FIRST,      /* first packet of a result: OK / ERR / LOCAL INFILE / column count */
    RS_DEFS,       /* column or parameter definitions: st->left more */
    RS_DEFS_EOF,   /* the EOF after them (no CLIENT_DEPRECATE_EOF) */
    RS_ROWS,       /* rows until EOF / OK / ERR */
    RS_PREP_FIRST, /* COM_STMT_PREPARE: OK (id, counts) or ERR */
    RS_FIELDS,     /* COM_FIELD_LIST: definitions until EOF */
    RS_STRING,     /* COM_STATISTICS: one packet */
    RS_AUTH,       /* COM_CHANGE_USER: auth exchange */
    RS_OKERR       /* one OK / ERR / EOF */
};

/* st->section: which definitions RS_DEFS reads */
enum { SEC_RESULT = 0, SEC_PARAMS, SEC_COLUMNS };

/* st->flags */
#define SF_COMPRESS 0x01u /* backend: compression starts after the handshake */
#define SF_DATA 0x02u     /* frontend: the logical packet is not a command (seq > 0) */
#define SF_QA_PARAMS 0x04u /* frontend: COM_QUERY with query attributes: op unknown */
#define SF_FIRST_FULL 0x08u /* the logical packet's first fragment is 0xffffff bytes */

/* server status bits */
#define SERVER_MORE_RESULTS_EXISTS 0x0008u
#define SERVER_STATUS_CURSOR_EXISTS 0x0040u

#define MAXFRAG 0xffffffu

void shim_mysql_init(struct shim_mysql *st, enum shim_mysql_mode mode)
{
    memset(st, 0, sizeof(*st));
    st->mode = (uint8_t)mode;
}

/* ------------------------------------------------------------ helpers */

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* lenenc_size: bytes of a length-encoded integer starting with byte b, 0
 * for the invalid 0xff (0xfb, NULL, counts as 1). */
static unsigned lenenc_size(uint8_t b)
{
    if (b < 0xfc)
        return 1;
    if (b == 0xfc)
        return 3;
    if (b == 0xfd)
        return 4;
    if (b == 0xfe)
        return 9;
    return 0;
}

/* lenenc: decode a length-encoded integer at pfx[*at] (within n bytes).
 * Returns 0 and advances *at, or -1 when it does not fit. */
static int lenenc(const uint8_t *pfx, unsigned n, unsigned *at, uint64_t *v)
{
    unsigned sz, k;
    if (*at >= n)
        return -1;
    sz = lenenc_size(pfx[*at]);
    if (sz == 0 || *at + sz > n)
        return -1;
    if (sz == 1) {
        *v = pfx[*at];
    } else {
        *v = 0;
        for (k = sz - 1; k >= 1; k--)
            *v = *v << 8 | pfx[*at + k];
    }
    *at += sz;
    return 0;
}

/* known_cmd: MySQL's commands go to 0x21 (COM_CLONE 0x20, group
 * replication's 0x21); MariaDB adds BULK_EXECUTE 0xfa and COM_MULTI 0xfe. */
static int known_cmd(uint8_t c)
{
    return c <= 0x21 || c == SHIM_MYSQL_COM_STMT_BULK_EXECUTE || c == 0xfe;
}

/* stmt_cmd: commands whose payload starts with a statement id. */
static int stmt_cmd(uint8_t c)
{
    return c == SHIM_MYSQL_COM_STMT_EXECUTE || c == SHIM_MYSQL_COM_STMT_SEND_LONG_DATA ||
           c == SHIM_MYSQL_COM_STMT_CLOSE || c == SHIM_MYSQL_COM_STMT_RESET ||
           c == SHIM_MYSQL_COM_STMT_FETCH || c == SHIM_MYSQL_COM_STMT_BULK_EXECUTE;
}

static int noresp_cmd(uint8_t c)
{
    return c == SHIM_MYSQL_COM_QUIT || c == SHIM_MYSQL_COM_STMT_CLOSE ||
           c == SHIM_MYSQL_COM_STMT_SEND_LONG_DATA;
}

static void ev_clear(struct shim_mysql_event *ev)
{
    memset(ev, 0, sizeof(*ev));
}

static uint32_t eff_caps(const struct shim_mysql *st)
{
    return st->caps_server & st->caps_client;
}

/* ------------------------------------------------------------ statement map */

static uint8_t stmt_lookup(const struct shim_mysql *st, uint32_t id)
{
    unsigned k;
    if (id == 0xffffffffu)
        return st->last_prep_op < SHIM_SQL_OP_COUNT ? st->last_prep_op : SHIM_SQL_OTHER;
    for (k = 0; k < SHIM_MYSQL_STMT_CAP; k++)
        if (st->stmt_op[k] && st->stmt_id[k] == id)
            return (uint8_t)(st->stmt_op[k] - 1u < SHIM_SQL_OP_COUNT ? st->stmt_op[k] - 1u : 0);
    return SHIM_SQL_OTHER;
}

static void stmt_store(struct shim_mysql *st, uint32_t id, uint8_t op)
{
    unsigned k, slot = SHIM_MYSQL_STMT_CAP;
    for (k = 0; k < SHIM_MYSQL_STMT_CAP; k++) {
        if (st->stmt_op[k] && st->stmt_id[k] == id) {
            slot = k;
            break;
        }
        if (!st->stmt_op[k] && slot == SHIM_MYSQL_STMT_CAP)
            slot = k;
    }
    if (slot == SHIM_MYSQL_STMT_CAP) {
        slot = st->stmt_clock % SHIM_MYSQL_STMT_CAP;
        st->stmt_clock = (uint8_t)((slot + 1) % SHIM_MYSQL_STMT_CAP);
    }
    st->stmt_id[slot] = id;
    st->stmt_op[slot] = (uint8_t)(op + 1u);
}

static void stmt_forget(struct shim_mysql *st, uint32_t id)
{
    unsigned k;
    for (k = 0; k < SHIM_MYSQL_STMT_CAP; k++)
        if (st->stmt_op[k] && st->stmt_id[k] == id)
            st->stmt_op[k] = 0;
}

/* ------------------------------------------------------------ expect */

void shim_mysql_expect(struct shim_mysql *st, const struct shim_mysql_event *ev)
{
    unsigned k;
    if (st->mode != SHIM_MYSQL_BACKEND || !ev)
        return;
    if (st->qlen > SHIM_MYSQL_QUEUE_CAP || st->qhead >= SHIM_MYSQL_QUEUE_CAP) {
        st->qlen = 0; /* can't happen: a corrupted state */
        st->qhead = 0;
    }
    switch (ev->type) {
    case SHIM_MYSQL_EV_HANDSHAKE:
        st->caps_client = ev->caps;
        if ((ev->flags & SHIM_MYSQL_F_SSL) && st->state != S_BAD)
            st->state = S_ENCRYPTED;
        if (ev->flags & SHIM_MYSQL_F_COMPRESS)
            st->flags |= SF_COMPRESS;
        break;
    case SHIM_MYSQL_EV_REQ:
        if (ev->flags & SHIM_MYSQL_F_NORESP) {
            if (ev->cmd == SHIM_MYSQL_COM_STMT_CLOSE)
                stmt_forget(st, ev->stmt_id);
            break;
        }
        if (st->desync)
            break; /* untracked until the queue drains */
        if (st->qlen == SHIM_MYSQL_QUEUE_CAP) {
            st->desync = 1;
            break;
        }
        k = (st->qhead + st->qlen) % SHIM_MYSQL_QUEUE_CAP;
        st->q_cmd[k] = ev->cmd;
        st->q_op[k] = ev->op < SHIM_SQL_OP_COUNT ? ev->op : SHIM_SQL_OTHER;
        st->q_id[k] = ev->stmt_id;
        st->qlen++;
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ detect, names */

int shim_mysql_detect(const uint8_t *buf, size_t len)
{
    uint32_t l;
    uint16_t code;
    if (len >= 3) {
        l = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16;
        if (l < 9 || l > 1024)
            return 0;
    } else if (len >= 2 && buf[1] > 4) {
        return 0;
    }
    if (len >= 3 && buf[2] != 0)
        return 0;
    if (len >= 4 && buf[3] != 0)
        return 0;
    if (len >= 5 && buf[4] != 10 && buf[4] != 0xff)
        return 0;
    if (len < 6)
        return -1;
    l = (uint32_t)buf[0] | (uint32_t)buf[1] << 8;
    if (buf[4] == 10)
        return l >= 33 && buf[5] >= '1' && buf[5] <= '9';
    if (len < 7)
        return -1;
    code = le16(buf + 5);
    return code >= 1000 && code <= 4999;
}

const char *shim_mysql_cmd_name(int cmd)
{
    switch (cmd) {
    case SHIM_MYSQL_COM_SLEEP: return "COM_SLEEP";
    case SHIM_MYSQL_COM_QUIT: return "COM_QUIT";
    case SHIM_MYSQL_COM_INIT_DB: return "COM_INIT_DB";
    case SHIM_MYSQL_COM_QUERY: return "COM_QUERY";
    case SHIM_MYSQL_COM_FIELD_LIST: return "COM_FIELD_LIST";
    case SHIM_MYSQL_COM_STATISTICS: return "COM_STATISTICS";
    case SHIM_MYSQL_COM_PROCESS_INFO: return "COM_PROCESS_INFO";
    case SHIM_MYSQL_COM_PING: return "COM_PING";
    case SHIM_MYSQL_COM_CHANGE_USER: return "COM_CHANGE_USER";
    case SHIM_MYSQL_COM_BINLOG_DUMP: return "COM_BINLOG_DUMP";
    case SHIM_MYSQL_COM_TABLE_DUMP: return "COM_TABLE_DUMP";
    case SHIM_MYSQL_COM_STMT_PREPARE: return "COM_STMT_PREPARE";
    case SHIM_MYSQL_COM_STMT_EXECUTE: return "COM_STMT_EXECUTE";
    case SHIM_MYSQL_COM_STMT_SEND_LONG_DATA: return "COM_STMT_SEND_LONG_DATA";
    case SHIM_MYSQL_COM_STMT_CLOSE: return "COM_STMT_CLOSE";
    case SHIM_MYSQL_COM_STMT_RESET: return "COM_STMT_RESET";
    case SHIM_MYSQL_COM_SET_OPTION: return "COM_SET_OPTION";
    case SHIM_MYSQL_COM_STMT_FETCH: return "COM_STMT_FETCH";
    case SHIM_MYSQL_COM_BINLOG_DUMP_GTID: return "COM_BINLOG_DUMP_GTID";
    case SHIM_MYSQL_COM_RESET_CONNECTION: return "COM_RESET_CONNECTION";
    case SHIM_MYSQL_COM_STMT_BULK_EXECUTE: return "COM_STMT_BULK_EXECUTE";
    case SHIM_MYSQL_CMD_CONNECT: return "CONNECT";
    default: return "COM_UNKNOWN";
    }
}

/* ------------------------------------------------------------ packet decoding */

/* parse_err: an ERR packet in pfx: code and sqlstate into *ev. */
static void parse_err(const struct shim_mysql *st, struct shim_mysql_resp *ev)
{
    unsigned code = st->npfx >= 3 ? le16(st->pfx + 1) : 0;
    ev->err_code = (uint16_t)code;
    memset(ev->sqlstate, 0, sizeof(ev->sqlstate));
    if (st->npfx >= 9 && st->pfx[3] == '#')
        memcpy(ev->sqlstate, st->pfx + 4, 5);
}

/* is_progress: an ERR packet with code 0xffff is a MariaDB progress report. */
static int is_progress(const struct shim_mysql *st)
{
    return st->pfx[0] == 0xff && st->npfx >= 3 && le16(st->pfx + 1) == 0xffff;
}

/* parse_ok: an OK packet (header 0x00 or 0xfe) in pfx: adds its affected
 * rows to *ev; returns its status flags (0 when not present). */
static unsigned parse_ok(const struct shim_mysql *st, struct shim_mysql_resp *ev)
{
    unsigned at = 1;
    uint64_t affected = 0, id;
    if (lenenc(st->pfx, st->npfx, &at, &affected) != 0)
        return 0;
    ev->affected += affected;
    if (lenenc(st->pfx, st->npfx, &at, &id) != 0 || at + 2 > st->npfx)
        return 0;
    return le16(st->pfx + at);
}

/* parse_eof: the status of an EOF packet (or of the OK that replaces it). */
static unsigned parse_eof(const struct shim_mysql *st, struct shim_mysql_resp *ev)
{
    if (eff_caps(st) & SHIM_MYSQL_CLIENT_DEPRECATE_EOF)
        return parse_ok(st, ev);
    return st->npfx >= 5 ? le16(st->pfx + 3) : 0;
}

/* is_def: a column / parameter definition ("def" catalog). */
static int is_def(const struct shim_mysql *st)
{
    return st->npfx >= 4 && memcmp(st->pfx, "\003def", 4) == 0;
}

/* ------------------------------------------------------------ frontend */

/* fe_packet_end: a frontend logical packet ended. Returns 1 with an event,
 * 0 without, -1 when BAD. */
static int fe_packet_end(struct shim_mysql *st, struct shim_mysql_event *ev)
{
    uint32_t caps;
    uint8_t cmd;
    ev_clear(ev);
    ev->seq = st->seq;
    if (st->phase == PH_START) {
        if (st->pos < 2)
            return -1;
        caps = le16(st->pfx);
        if ((caps & SHIM_MYSQL_CLIENT_PROTOCOL_41) && st->npfx >= 4)
            caps |= (uint32_t)le16(st->pfx + 2) << 16;
        ev->type = SHIM_MYSQL_EV_HANDSHAKE;
        ev->caps = caps;
        st->caps_client = caps;
        st->phase = PH_COMMAND;
        if ((caps & SHIM_MYSQL_CLIENT_SSL) && st->pos <= 32) {
            ev->flags |= SHIM_MYSQL_F_SSL;
            st->state = S_ENCRYPTED;
        } else if (caps & (SHIM_MYSQL_CLIENT_COMPRESS | SHIM_MYSQL_CLIENT_ZSTD)) {
            ev->flags |= SHIM_MYSQL_F_COMPRESS;
            st->state = S_ENCRYPTED;
        }
        return 1;
    }
    if (st->flags & SF_DATA)
        return 0; /* auth data, LOAD DATA LOCAL contents */
    if (st->pos == 0)
        return -1;
    cmd = st->pfx[0];
    if (!known_cmd(cmd))
        return -1;
    ev->type = SHIM_MYSQL_EV_REQ;
    ev->cmd = cmd;
    if ((cmd == SHIM_MYSQL_COM_QUERY || cmd == SHIM_MYSQL_COM_STMT_PREPARE) &&
        !(st->flags & SF_QA_PARAMS))
        ev->op = (uint8_t)shim_sql_scan_end(&st->scan);
    if (stmt_cmd(cmd) && st->npfx >= 5)
        ev->stmt_id = le32(st->pfx + 1);
    if (noresp_cmd(cmd))
        ev->flags |= SHIM_MYSQL_F_NORESP;
    return 1;
}

/* ------------------------------------------------------------ backend */

/* resp_done: the answer in st->acc is complete: report it, pop its command. */
static int resp_done(struct shim_mysql *st, struct shim_mysql_event *ev, unsigned flags)
{
    int queued;
    ev_clear(ev);
    ev->type = SHIM_MYSQL_EV_RESP_DONE;
    ev->cmd = st->acc.cmd;
    ev->op = st->acc.op < SHIM_SQL_OP_COUNT ? st->acc.op : SHIM_SQL_OTHER;
    ev->flags = (uint16_t)(st->acc.flags | flags);
    ev->err_code = st->acc.err_code;
    memcpy(ev->sqlstate, st->acc.sqlstate, sizeof(ev->sqlstate));
    ev->sqlstate[5] = 0;
    ev->seq = st->seq;
    ev->stmt_id = st->acc.stmt_id;
    ev->results = st->acc.results;
    ev->rows = st->acc.rows;
    ev->affected = st->acc.affected;
    queued = st->rs != RS_NONE && st->qlen;
    st->rs = RS_NONE;
    if (!queued)
        return 1; /* the handshake's end, or an unsolicited ERR */
    st->qhead = (uint8_t)((st->qhead + 1u) % SHIM_MYSQL_QUEUE_CAP);
    st->qlen--;
    if (st->desync) {
        ev->flags |= SHIM_MYSQL_F_DESYNC;
        if (st->qlen == 0) {
            ev->flags |= SHIM_MYSQL_F_RESYNC;
            st->desync = 0;
        }
    }
    return 1;
}

/* acc_start: a fresh answer for command cmd. */
static void acc_start(struct shim_mysql *st, uint8_t cmd)
{
    memset(&st->acc, 0, sizeof(st->acc));
    st->acc.cmd = cmd;
}

/* resp_start: an answer to the oldest pending command begins. */
static void resp_start(struct shim_mysql *st)
{
    unsigned k = st->qhead % SHIM_MYSQL_QUEUE_CAP;
    uint8_t cmd = st->q_cmd[k];
    acc_start(st, cmd);
    st->acc.op = st->q_op[k] < SHIM_SQL_OP_COUNT ? st->q_op[k] : SHIM_SQL_OTHER;
    st->acc.stmt_id = st->q_id[k];
    if (stmt_cmd(cmd))
        st->acc.op = stmt_lookup(st, st->acc.stmt_id);
    switch (cmd) {
    case SHIM_MYSQL_COM_QUERY:
    case SHIM_MYSQL_COM_STMT_EXECUTE:
    case SHIM_MYSQL_COM_STMT_BULK_EXECUTE:
    case SHIM_MYSQL_COM_PROCESS_INFO:
        st->rs = RS_FIRST;
        break;
    case SHIM_MYSQL_COM_STMT_PREPARE:
        st->rs = RS_PREP_FIRST;
        break;
    case SHIM_MYSQL_COM_STMT_FETCH:
        st->rs = RS_ROWS;
        break;
    case SHIM_MYSQL_COM_FIELD_LIST:
        st->rs = RS_FIELDS;
        break;
    case SHIM_MYSQL_COM_STATISTICS:
        st->rs = RS_STRING;
        break;
    case SHIM_MYSQL_COM_CHANGE_USER:
        st->rs = RS_AUTH;
        break;
    case SHIM_MYSQL_COM_BINLOG_DUMP:
    case SHIM_MYSQL_COM_BINLOG_DUMP_GTID:
    case SHIM_MYSQL_COM_TABLE_DUMP:
    case 0x20: /* COM_CLONE */
    case 0x21: /* group replication stream */
    case 0xfe: /* MariaDB COM_MULTI */
        st->phase = PH_STREAM;
        st->rs = RS_NONE;
        break;
    default:
        st->rs = RS_OKERR;
        break;
    }
}

/* start_defs: n definitions follow in section sec. */
static void start_defs(struct shim_mysql *st, uint32_t n, uint8_t sec)
{
    st->left = (uint16_t)n;
    st->section = sec;
    st->rs = RS_DEFS;
}

/* after_defs: a section of definitions (and its EOF, if any) is over.
 * Returns 1 with an event, 0 without. */
static int after_defs(struct shim_mysql *st, struct shim_mysql_event *ev, unsigned status)
{
    switch (st->section) {
    case SEC_RESULT:
        if (st->acc.cmd == SHIM_MYSQL_COM_STMT_EXECUTE && (status & SERVER_STATUS_CURSOR_EXISTS))
            return resp_done(st, ev, SHIM_MYSQL_F_CURSOR);
        st->rs = RS_ROWS;
        return 0;
    case SEC_PARAMS:
        if (st->ncols) {
            start_defs(st, st->ncols, SEC_COLUMNS);
            return 0;
        }
        return resp_done(st, ev, 0);
    default:
        return resp_done(st, ev, 0);
    }
}

/* be_command_packet: a logical packet of an answer (or unsolicited). */
static int be_command_packet(struct shim_mysql *st, struct shim_mysql_event *ev)
{
    uint8_t b0 = st->pfx[0];
    int is_term = b0 == 0xfe && !(st->flags & SF_FIRST_FULL);
    unsigned status, at;
    uint64_t n;

    if (st->rs == RS_NONE) {
        if (st->qlen == 0) {
            /* nothing pending: skip, but report a server's parting ERR */
            acc_start(st, SHIM_MYSQL_COM_SLEEP);
            if (b0 == 0xff && !is_progress(st)) {
                parse_err(st, &st->acc);
                return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
            }
            return 0;
        }
        resp_start(st);
        if (st->phase == PH_STREAM)
            return 0;
    }

    switch (st->rs) {
    case RS_FIRST:
        if (b0 == 0x00) {
            status = parse_ok(st, &st->acc);
            st->acc.results++;
            if (status & SERVER_MORE_RESULTS_EXISTS)
                return 0;
            return resp_done(st, ev, 0);
        }
        if (b0 == 0xff) {
            if (is_progress(st))
                return 0;
            parse_err(st, &st->acc);
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        if (b0 == 0xfb) {
            st->acc.flags |= SHIM_MYSQL_F_INFILE;
            return 0;
        }
        if (b0 == 0xfe)
            return resp_done(st, ev, 0);
        /* column count; MariaDB's metadata cache adds a "metadata
         * follows" byte: 0 means no column definitions are sent */
        at = 0;
        if (lenenc(st->pfx, st->npfx, &at, &n) != 0 || n == 0 || n > SHIM_MYSQL_MAX_COLUMNS ||
            st->pos > at + 1u || (st->pos == at + 1u && st->pfx[at] > 1))
            return -1;
        start_defs(st, (uint32_t)n, SEC_RESULT);
        if (st->pos == at + 1u && st->pfx[at] == 0) {
            st->left = 0;
            if (!(eff_caps(st) & SHIM_MYSQL_CLIENT_DEPRECATE_EOF)) {
                st->rs = RS_DEFS_EOF;
                return 0;
            }
            return after_defs(st, ev, 0);
        }
        return 0;
    case RS_DEFS:
        if (!is_def(st))
            return -1;
        if (st->left > 0)
            st->left--;
        if (st->left > 0)
            return 0;
        if (!(eff_caps(st) & SHIM_MYSQL_CLIENT_DEPRECATE_EOF)) {
            st->rs = RS_DEFS_EOF;
            return 0;
        }
        return after_defs(st, ev, 0);
    case RS_DEFS_EOF:
        if (b0 != 0xfe || st->pos >= 9)
            return -1;
        return after_defs(st, ev, parse_eof(st, &st->acc));
    case RS_ROWS:
        if (is_term) {
            status = parse_eof(st, &st->acc);
            st->acc.results++;
            if (status & SERVER_MORE_RESULTS_EXISTS) {
                st->rs = RS_FIRST;
                return 0;
            }
            return resp_done(st, ev, 0);
        }
        if (b0 == 0xff) {
            if (is_progress(st))
                return 0;
            parse_err(st, &st->acc);
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        st->acc.rows++;
        return 0;
    case RS_PREP_FIRST:
        if (b0 == 0xff) {
            parse_err(st, &st->acc);
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        if (b0 != 0x00 || st->npfx < 9)
            return -1;
        st->acc.stmt_id = le32(st->pfx + 1);
        st->acc.results = 1;
        st->ncols = le16(st->pfx + 5);
        stmt_store(st, st->acc.stmt_id, st->acc.op);
        st->last_prep_op = st->acc.op;
        n = le16(st->pfx + 7); /* parameters */
        if (n) {
            start_defs(st, (uint32_t)n, SEC_PARAMS);
            return 0;
        }
        if (st->ncols) {
            start_defs(st, st->ncols, SEC_COLUMNS);
            return 0;
        }
        return resp_done(st, ev, 0);
    case RS_FIELDS:
        if (b0 == 0xff) {
            parse_err(st, &st->acc);
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        if (is_term)
            return resp_done(st, ev, 0);
        return is_def(st) ? 0 : -1;
    case RS_STRING:
        if (b0 == 0xff && st->pos >= 3) {
            parse_err(st, &st->acc);
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        return resp_done(st, ev, 0);
    case RS_AUTH:
        if (b0 == 0x00) {
            parse_ok(st, &st->acc);
            return resp_done(st, ev, 0);
        }
        if (b0 == 0xff) {
            parse_err(st, &st->acc);
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        return (b0 == 0xfe || b0 == 0x01) ? 0 : -1;
    case RS_OKERR:
        if (b0 == 0xff) {
            if (is_progress(st))
                return 0;
            parse_err(st, &st->acc);
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        if (b0 == 0x00)
            parse_ok(st, &st->acc);
        st->acc.results = 1;
        return resp_done(st, ev, 0);
    default:
        return -1;
    }
}

/* be_packet_end: a backend logical packet ended. 1 event, 0 none, -1 BAD. */
static int be_packet_end(struct shim_mysql *st, struct shim_mysql_event *ev)
{
    uint8_t b0 = st->pfx[0];
    int r;
    if (st->phase == PH_STREAM)
        return 0;
    if (st->pos == 0)
        return -1; /* servers send no empty packets */
    switch (st->phase) {
    case PH_START:
        if (st->first_seq != 0)
            return -1;
        ev_clear(ev);
        ev->seq = st->seq;
        if (b0 == 10) {
            ev->type = SHIM_MYSQL_EV_GREETING;
            ev->proto = 10;
            ev->caps = st->caps_server;
            st->phase = PH_AUTH;
            return 1;
        }
        if (b0 == 0xff) {
            acc_start(st, SHIM_MYSQL_CMD_CONNECT);
            parse_err(st, &st->acc);
            st->phase = PH_COMMAND;
            return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
        }
        return -1;
    case PH_AUTH:
        if (b0 == 0x00 || b0 == 0xff) {
            acc_start(st, SHIM_MYSQL_CMD_CONNECT);
            st->phase = PH_COMMAND;
            if (b0 == 0xff) {
                parse_err(st, &st->acc);
                return resp_done(st, ev, SHIM_MYSQL_F_ERROR);
            }
            parse_ok(st, &st->acc);
            st->acc.results = 1;
            r = resp_done(st, ev, 0);
            if (st->flags & SF_COMPRESS)
                st->state = S_ENCRYPTED;
            return r;
        }
        return (b0 == 0xfe || b0 == 0x01) ? 0 : -1;
    case PH_COMMAND:
        return be_command_packet(st, ev);
    default:
        return 0; /* PH_STREAM */
    }
}

/* ------------------------------------------------------------ payload */

/* logical_start: the first fragment of a logical packet begins. */
static void logical_start(struct shim_mysql *st)
{
    st->first_seq = st->seq;
    st->flags &= (uint8_t)~(SF_DATA | SF_QA_PARAMS | SF_FIRST_FULL);
    if (st->plen == MAXFRAG)
        st->flags |= SF_FIRST_FULL;
    st->pos = 0;
    st->npfx = 0;
    st->fpos = 0;
    st->field = FLD_NONE;
    memset(st->pfx, 0, sizeof(st->pfx));
    if (st->mode == SHIM_MYSQL_FRONTEND) {
        if (st->phase == PH_COMMAND) {
            if (st->seq != 0)
                st->flags |= SF_DATA;
            else
                st->field = FLD_CMD;
        }
    } else if (st->phase == PH_START) {
        st->field = FLD_GREET;
        st->caps_server = 0;
        st->left = 0;
    }
}

/* field_byte: one payload byte at logical position pos for the byte-wise
 * fields (FLD_CMD, FLD_QA, FLD_GREET). */
static void field_byte(struct shim_mysql *st, uint32_t pos, uint8_t c)
{
    uint32_t v;
    switch (st->field) {
    case FLD_CMD:
        st->field = FLD_NONE;
        if (!known_cmd(c)) {
            st->state = S_BAD; /* not a command: no need to wait for the packet's end */
            break;
        }
        if (c == SHIM_MYSQL_COM_QUERY || c == SHIM_MYSQL_COM_STMT_PREPARE) {
            shim_sql_scan_init(&st->scan);
            st->fpos = 1;
            st->field = FLD_TEXT;
            if (c == SHIM_MYSQL_COM_QUERY && (st->caps_client & SHIM_MYSQL_CLIENT_QUERY_ATTRIBUTES))
                st->field = FLD_QA;
        }
        break;
    case FLD_QA:
        /* pos 1: parameter count; then the parameter set count */
        if (pos == 1) {
            if (c != 0) {
                st->flags |= SF_QA_PARAMS; /* attributes sent: op unknown */
                st->field = FLD_NONE;
            }
        } else {
            v = lenenc_size(c);
            if (v == 0) {
                st->flags |= SF_QA_PARAMS;
                st->field = FLD_NONE;
            } else {
                st->fpos = (uint8_t)(2 + v);
                st->field = FLD_TEXT;
            }
        }
        break;
    case FLD_GREET:
        /* st->left: 0 while in the version string, else 1 + its NUL's position */
        if (pos == 0) {
            if (c != 10 && c != 0xff)
                st->state = S_BAD; /* neither a greeting nor an ERR */
            else if (c == 0xff)
                st->field = FLD_NONE;
            break;
        }
        if (st->left == 0) {
            if (c == 0)
                st->left = (uint16_t)(pos + 1);
            else if (pos > 255)
                st->field = FLD_NONE; /* no caps found: 0 */
            break;
        }
        v = pos - (st->left - 1); /* offset after the NUL */
        if (v == 14)
            st->caps_server |= c;
        else if (v == 15)
            st->caps_server |= (uint32_t)c << 8;
        else if (v == 19)
            st->caps_server |= (uint32_t)c << 16;
        else if (v == 20) {
            st->caps_server |= (uint32_t)c << 24;
            st->field = FLD_NONE;
        }
        break;
    default:
        break;
    }
}

/* payload: n bytes of the current packet (n <= st->remaining). Returns n,
 * or the number of bytes before the offending one with st->state BAD. */
static size_t payload(struct shim_mysql *st, const uint8_t *p, size_t n)
{
    size_t i, k;
    if (st->npfx < SHIM_MYSQL_PREFIX) {
        k = SHIM_MYSQL_PREFIX - st->npfx;
        if (k > n)
            k = n;
        memcpy(st->pfx + st->npfx, p, k);
        st->npfx = (uint8_t)(st->npfx + k);
    }
    for (i = 0; i < n && st->field != FLD_NONE; i++) {
        uint32_t pos = st->pos + (uint32_t)i;
        if (pos < st->pos)
            break; /* overflowed the position: nothing left to read */
        if (st->field == FLD_TEXT) {
            if (pos < st->fpos)
                continue;
            if (shim_sql_scan_feed(&st->scan, p + i, n - i))
                st->field = FLD_NONE;
            break;
        }
        field_byte(st, pos, p[i]);
        if (st->state == S_BAD)
            return i;
    }
    st->pos = st->pos + (uint32_t)n < st->pos ? UINT32_MAX : st->pos + (uint32_t)n;
    return n;
}

/* packet_end: the current packet's payload is all read. */
static int packet_end(struct shim_mysql *st, struct shim_mysql_event *ev)
{
    st->state = S_HDR;
    st->hpos = 0;
    if (st->plen == MAXFRAG) {
        st->cont = 1; /* the logical packet goes on in the next one */
        return 0;
    }
    st->cont = 0;
    return st->mode == SHIM_MYSQL_FRONTEND ? fe_packet_end(st, ev) : be_packet_end(st, ev);
}

int shim_mysql_idle(const struct shim_mysql *st)
{
    if (st->state == S_BAD || st->state == S_ENCRYPTED)
        return -1;
    return st->state == S_HDR && st->hpos == 0 && !st->cont && st->rs == RS_NONE;
}

int shim_mysql_feed(struct shim_mysql *st, const uint8_t *buf, size_t len,
                    struct shim_mysql_event *ev, size_t *consumed)
{
    size_t i = 0, take, took;
    int r;

    *consumed = 0;
    if (st->state == S_BAD)
        return SHIM_MYSQL_BAD;
    if (st->state == S_ENCRYPTED)
        return SHIM_MYSQL_ENCRYPTED;
    if (st->state > S_BAD || st->npfx > SHIM_MYSQL_PREFIX || st->qhead >= SHIM_MYSQL_QUEUE_CAP ||
        st->qlen > SHIM_MYSQL_QUEUE_CAP) {
        st->state = S_BAD; /* corrupted */
        return SHIM_MYSQL_BAD;
    }
    while (i < len) {
        if (st->state == S_HDR) {
            uint8_t c = buf[i++];
            if (st->hpos < 3) {
                if (st->hpos == 0)
                    st->plen = 0;
                st->plen |= (uint32_t)c << (8 * st->hpos);
                st->hpos++;
                continue;
            }
            st->seq = c;
            st->hpos = 4;
            if (!st->cont)
                logical_start(st);
            st->remaining = st->plen;
            st->state = S_PAYLOAD;
            if (st->plen != 0)
                continue;
            /* an empty packet ends here */
        } else {
            take = len - i;
            if (take > st->remaining)
                take = st->remaining;
            took = payload(st, buf + i, take);
            if (took != take) {
                *consumed = i + took;
                return SHIM_MYSQL_BAD;
            }
            i += take;
            st->remaining -= (uint32_t)take;
            if (st->remaining != 0)
                continue;
        }
        r = packet_end(st, ev);
        if (r < 0) {
            st->state = S_BAD;
            *consumed = i - 1;
            return SHIM_MYSQL_BAD;
        }
        if (r > 0) {
            *consumed = i;
            return SHIM_MYSQL_EVENT;
        }
    }
    *consumed = len;
    return SHIM_MYSQL_NEED_MORE;
}
