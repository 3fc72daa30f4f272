/*
 * kafka.h - incremental Kafka wire-protocol parser, one direction of one
 * client<->broker connection, in the picohttpparser spirit (same shape as
 * http1.h, redis.h, postgres.h).
 *
 * Contract:
 * - A parser instance follows ONE direction: requests (client->broker
 *   bytes, mode SHIM_KAFKA_REQUEST, the zero value) or responses
 *   (broker->client bytes, mode SHIM_KAFKA_RESPONSE). A zero-filled struct
 *   shim_kafka is a request parser ready for the connection's first byte;
 *   shim_kafka_init() sets the mode.
 * - The state is plain data: fixed size (sizeof(struct shim_kafka) is all
 *   the memory the parser uses: 504 bytes on LP64), no pointers, no
 *   allocation, no globals, no I/O. It may be copied or memset; memset 0
 *   (or shim_kafka_init) recovers from any state.
 * - shim_kafka_feed() is a pure function of (state, bytes, and the
 *   shim_kafka_expect calls made on a response parser): feeding the same
 *   stream in any split gives the same events at the same stream offsets.
 *   Record data is never buffered: values are skipped by their lengths; the
 *   only bytes kept are the current topic name (up to SHIM_KAFKA_NAME_CAP)
 *   and topic id. A frame of 100 MB is walked with the same few hundred
 *   bytes of state as a frame of 10.
 *
 * Framing: every message is an int32 size (big-endian, bytes that follow)
 * and that many bytes. A size below the header's minimum (8 for a request,
 * 4 for a response) or above SHIM_KAFKA_MAX_FRAME (100 MiB, the broker's
 * socket.request.max.bytes default; responses too) is BAD, and so is a
 * negative one. Inside a frame every field is bounded by the frame: a
 * string, bytes, records or array length that runs past the frame end, or
 * a frame that ends inside a field, is BAD (the size lied). Bytes left in a
 * frame after the last field the parser knows are skipped and flagged
 * SHIM_KAFKA_F_TRAILING (newer fields, or a peer's quirk: not an error;
 * librdkafka's mock broker ends its Metadata v9+ answers with one byte too
 * many).
 *
 * Requests: header v1 (api_key int16, api_version int16, correlation_id
 * int32, client_id nullable string), v2 adds tagged fields when the
 * message's version is flexible (the table of flexibleVersions per api key
 * is in kafka.c); v0 (no client_id) for ControlledShutdown v0. api_key must
 * be 0..SHIM_KAFKA_MAX_API_KEY and api_version 0..SHIM_KAFKA_MAX_API_VERSION
 * (anything else is BAD: not Kafka, or out of step). The bodies of Produce
 * (v0-13), Fetch (v0-18) and OffsetCommit (v0-10) are walked; every other
 * request, and those at versions above these, is reported with its header
 * and skipped by size (flag SHIM_KAFKA_F_SKIPPED).
 *
 * Responses carry only the correlation id: the parser decodes a response
 * body only when the caller told it, with shim_kafka_expect, which request
 * that correlation id answers. Bodies walked: Produce (v0-13), Fetch
 * (v0-18), ListOffsets (v0-10), Metadata (v0-13), OffsetCommit (v0-10),
 * OffsetFetch (v0-10); the error code at the fixed place at the start of
 * ApiVersions, SaslHandshake, SaslAuthenticate, FindCoordinator (v0-3),
 * JoinGroup, Heartbeat, LeaveGroup, SyncGroup, ListGroups, InitProducerId,
 * AddOffsetsToTxn, EndTxn, DescribeAcls, DescribeCluster and
 * ConsumerGroupHeartbeat. The rest is skipped by size. Response header v1
 * (tagged fields) for flexible versions, except ApiVersions which always
 * answers with header v0.
 *
 * Flexible versions: compact strings/arrays/bytes (unsigned varint length+1,
 * 0 = null), tagged fields after every struct and at the end of the message
 * (all skipped by their sizes). An unsigned varint longer than 5 bytes, a
 * length or count over 2^31 - 1 and a tag number over 32 bits are BAD.
 *
 * Record batches (the records field of Produce requests and Fetch
 * responses): a sequence of batches; magic 2 (RecordBatch: baseOffset
 * int64, batchLength int32, partitionLeaderEpoch int32, magic int8, crc
 * int32, attributes int16, lastOffsetDelta int32, baseTimestamp int64,
 * maxTimestamp int64, producerId int64, producerEpoch int16, baseSequence
 * int32, records int32) contributes its header's record count (compressed
 * batches are not decompressed: the count is in the header); a control batch
 * (attributes bit 5: transaction markers) counts no records but moves the
 * next offset (flag F_CONTROL). Magic 0 and 1 (old message sets: offset,
 * size, crc, magic, attributes...) count 1 per message (F_LEGACY; a
 * compressed wrapper counts 1). A batch that does not fit in what is left of
 * the records field is partial (a broker cuts the last batch of a Fetch
 * response at its size limit): it is not counted and the rest of the field
 * is skipped (flag F_PARTIAL). A batch whose own header is inconsistent is
 * BAD: batchLength below its header (49 for magic 2, 14 for magic 0/1) or
 * negative, another magic, a negative record count, or an uncompressed
 * batch claiming more records than its bytes can hold (a record is at least
 * 7 bytes); a compressed batch's count cannot be checked without
 * decompressing and is taken as it is.
 *
 * How a caller uses it, per connection (client side shown; on a broker the
 * directions swap roles, the rules are the same):
 *
 *   1. One request parser on the bytes the client writes, one response
 *      parser (shim_kafka_init(..., SHIM_KAFKA_RESPONSE)) on the bytes it
 *      reads. shim_kafka_detect_request() on the first bytes written tells
 *      whether the connection speaks Kafka.
 *   2. Request events: REQ after the header (timestamp the request here),
 *      then the body's events (PRODUCE_RECORDS, FETCH_OFFSET, COMMIT), then
 *      REQ_DONE at the frame's last byte. At REQ_DONE call
 *      shim_kafka_expect(&resp, ev.correlation_id, ev.api_key,
 *      ev.api_version) unless REQ_DONE has SHIM_KAFKA_F_NO_RESPONSE (a
 *      Produce with acks=0 gets no answer). A request is always written
 *      before its answer can be read, so the expectation is in place in
 *      time. The response parser keeps SHIM_KAFKA_INFLIGHT of them, matched
 *      by correlation id (Kafka answers in order per connection, but the
 *      match does not rely on it); when full, the oldest slot is reused
 *      (shim_kafka_expect returns 1).
 *   3. Response events: RESP after the correlation id (api_key and
 *      api_version of the matched request, or -1 and F_UNMATCHED: the body
 *      is skipped), then the body's events (PRODUCE_ACK, FETCH_RECORDS,
 *      LIST_OFFSET, TOPIC, COMMIT_ACK, COMMITTED), then RESP_DONE at the
 *      frame's last byte: error_code = the first non-zero error code met in
 *      the response (top level, topic or partition), F_ERROR when there was
 *      one, `records` = how many non-zero error codes (Metadata's
 *      per-partition codes, replica states, are not counted). The
 *      request's duration ends there. Consumer lag of a partition:
 *      FETCH_RECORDS high_watermark - offset (the next offset to fetch);
 *      when it is -1 (no complete batch came), high_watermark minus the
 *      request's FETCH_OFFSET offset for that partition.
 *   4. Topic ids: Fetch v13+, Produce v13+, OffsetCommit/OffsetFetch v10+
 *      name topics by a 16-byte id only (F_TOPIC_ID, topic_len 0). Metadata
 *      responses (v10+) give id and name together in TOPIC events: feed
 *      them to a struct shim_kafka_topic_map (shim_kafka_map_learn) and
 *      resolve ids with shim_kafka_map_resolve. The map is separate from the
 *      parser so that it can be shared by the connections of a process
 *      (Metadata and Fetch often go to different brokers) and so the parser
 *      stays small.
 *   5. BAD (sticky): stop parsing the connection (pass-through). eof inside
 *      a frame (shim_kafka_idle() == 0): the request in flight got no
 *      response.
 *
 * Not seen: TLS (SSL listeners) is encrypted; after SaslHandshake v0 (very
 * old clients) the SASL tokens travel without Kafka headers and the
 * request parser goes BAD on them (v1 wraps them in SaslAuthenticate, which
 * is parsed like any request).
 */
#ifndef SHIM_PROTO_KAFKA_H
#define SHIM_PROTO_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#define SHIM_KAFKA_NAME_CAP 128        /* topic name bytes kept; longer ones are cut (F_TOPIC_TRUNC) */
#define SHIM_KAFKA_INFLIGHT 32         /* expectations a response parser keeps */
#define SHIM_KAFKA_MAX_FRAME (100u << 20) /* largest frame accepted (104857600) */
#define SHIM_KAFKA_MAX_API_KEY 255     /* request api_key above: BAD */
#define SHIM_KAFKA_MAX_API_VERSION 127 /* request api_version above: BAD */
#define SHIM_KAFKA_DEPTH 4             /* nesting of arrays walked */
#define SHIM_KAFKA_MAP_CAP 16          /* topic id -> name entries of a shim_kafka_topic_map */

/* Which direction a parser follows (struct shim_kafka.mode). */
enum shim_kafka_mode { SHIM_KAFKA_REQUEST = 0, SHIM_KAFKA_RESPONSE = 1 };

/* Return values of shim_kafka_feed(). */
enum shim_kafka_rc {
    SHIM_KAFKA_BAD = -1,      /* not Kafka (or out of step): drop the connection to pass-through */
    SHIM_KAFKA_NEED_MORE = 0, /* all bytes used, no event */
    SHIM_KAFKA_EVENT = 1      /* *ev filled; call again with the rest (even if empty) */
};

/* A few api keys (struct shim_kafka_event.api_key). */
enum shim_kafka_api {
    SHIM_KAFKA_API_PRODUCE = 0,
    SHIM_KAFKA_API_FETCH = 1,
    SHIM_KAFKA_API_LIST_OFFSETS = 2,
    SHIM_KAFKA_API_METADATA = 3,
    SHIM_KAFKA_API_OFFSET_COMMIT = 8,
    SHIM_KAFKA_API_OFFSET_FETCH = 9,
    SHIM_KAFKA_API_FIND_COORDINATOR = 10,
    SHIM_KAFKA_API_JOIN_GROUP = 11,
    SHIM_KAFKA_API_HEARTBEAT = 12,
    SHIM_KAFKA_API_LEAVE_GROUP = 13,
    SHIM_KAFKA_API_SYNC_GROUP = 14,
    SHIM_KAFKA_API_SASL_HANDSHAKE = 17,
    SHIM_KAFKA_API_API_VERSIONS = 18
};

/* Event types (struct shim_kafka_event.type). */
enum shim_kafka_ev_type {
    SHIM_KAFKA_EV_NONE = 0,
    /* request parser */
    SHIM_KAFKA_EV_REQ,             /* header read: api_key, api_version, correlation_id, frame_size */
    SHIM_KAFKA_EV_PRODUCE_RECORDS, /* Produce: per (topic, partition): records, batches, codec */
    SHIM_KAFKA_EV_FETCH_OFFSET,    /* Fetch: per (topic, partition): offset = the fetch offset */
    SHIM_KAFKA_EV_COMMIT,          /* OffsetCommit: per (topic, partition): offset = committed offset */
    SHIM_KAFKA_EV_REQ_DONE,        /* last byte of the request: call shim_kafka_expect (see above) */
    /* response parser */
    SHIM_KAFKA_EV_RESP,            /* correlation id read: api_key/version of the match, or -1 */
    SHIM_KAFKA_EV_PRODUCE_ACK,     /* Produce: per partition: error_code, offset = base offset,
                                      log_start_offset */
    SHIM_KAFKA_EV_FETCH_RECORDS,   /* Fetch: per partition: error_code, high_watermark,
                                      last_stable_offset, log_start_offset, records, batches,
                                      codec, offset = next offset to fetch (last complete
                                      batch's baseOffset + lastOffsetDelta + 1; -1: none) */
    SHIM_KAFKA_EV_LIST_OFFSET,     /* ListOffsets: per partition: error_code, timestamp, offset
                                      (a request for timestamp -1, latest, gets timestamp -1
                                      and the high watermark; -2, earliest: the log start) */
    SHIM_KAFKA_EV_TOPIC,           /* Metadata: per topic: error_code, name, id, records =
                                      number of partitions */
    SHIM_KAFKA_EV_COMMIT_ACK,      /* OffsetCommit: per partition: error_code */
    SHIM_KAFKA_EV_COMMITTED,       /* OffsetFetch: per partition: error_code, offset = committed
                                      offset (-1: none) */
    SHIM_KAFKA_EV_RESP_DONE,       /* last byte of the response: error summary */
    SHIM_KAFKA_EV_COUNT
};

/* Event flags (struct shim_kafka_event.flags). */
#define SHIM_KAFKA_F_FLEXIBLE    0x0001u /* the message's version is flexible (compact, tagged) */
#define SHIM_KAFKA_F_SKIPPED     0x0002u /* body not walked (api key / version not parsed) */
#define SHIM_KAFKA_F_NO_RESPONSE 0x0004u /* REQ_DONE: Produce with acks=0: no response comes */
#define SHIM_KAFKA_F_UNMATCHED   0x0008u /* RESP / RESP_DONE: no expectation had this correlation id */
#define SHIM_KAFKA_F_ERROR       0x0010u /* RESP_DONE: some error code was non-zero */
#define SHIM_KAFKA_F_TRAILING    0x0020u /* *_DONE: bytes after the known fields were skipped */
#define SHIM_KAFKA_F_TOPIC_ID    0x0040u /* topic_id holds the topic's id (Metadata v10+, and the
                                            versions that name topics by id) */
#define SHIM_KAFKA_F_TOPIC_TRUNC 0x0080u /* topic name longer than SHIM_KAFKA_NAME_CAP: cut */
#define SHIM_KAFKA_F_TOPIC_NULL  0x0100u /* the topic name was null (Metadata v12+ by id) */
#define SHIM_KAFKA_F_PARTIAL     0x0200u /* records: a partial batch at the end, not counted */
#define SHIM_KAFKA_F_CONTROL     0x0400u /* records: control batch(es), not counted */
#define SHIM_KAFKA_F_LEGACY      0x0800u /* records: magic 0/1 messages (1 record each) */
#define SHIM_KAFKA_F_TRANSACTIONAL 0x1000u /* records: transactional batch(es) */

/*
 * One event. Every field is filled for every event from what is known so
 * far; fields not meaningful for a type are 0 (offsets and timestamps -1).
 * api_key, api_version, correlation_id and frame_size are the current
 * frame's in every event (api_key -1 for an unmatched response).
 * `topic` points into the parser state (never NUL-terminated): valid until
 * the next call on the same parser; copy it if it must live longer.
 * RESP_DONE: error_code = first non-zero error code, records = number of
 * non-zero error codes, F_ERROR when > 0.
 */
struct shim_kafka_event {
    uint8_t type;            /* enum shim_kafka_ev_type */
    uint8_t codec;           /* records: compression of the last batch (0 none, 1 gzip,
                                2 snappy, 3 lz4, 4 zstd) */
    uint8_t topic_len;       /* bytes at topic, <= SHIM_KAFKA_NAME_CAP */
    uint8_t pad;
    uint16_t flags;          /* SHIM_KAFKA_F_* */
    int16_t api_key;
    int16_t api_version;
    int16_t error_code;
    int32_t correlation_id;
    int32_t partition;       /* -1 when not per partition */
    uint32_t frame_size;     /* the frame's size field */
    uint32_t batches;        /* records: complete batches counted (control ones included) */
    const uint8_t *topic;    /* topic name bytes */
    int64_t records;         /* records counted; TOPIC: partitions; RESP_DONE: errors */
    int64_t offset;          /* see the event types; -1 when unknown */
    int64_t high_watermark;
    int64_t last_stable_offset;
    int64_t log_start_offset;
    int64_t timestamp;
    uint8_t topic_id[16];    /* with F_TOPIC_ID */
};

/*
 * Parser state. Set `mode` (or use shim_kafka_init) before the first byte;
 * every other field is private to kafka.c.
 */
struct shim_kafka {
    uint8_t mode;          /* enum shim_kafka_mode */
    /* private */
    uint8_t phase;         /* frame-level step */
    uint8_t prog;          /* body program being run (0: none) */
    uint8_t pc;            /* its current op */
    uint8_t sub;           /* step inside the op */
    uint8_t depth;         /* open arrays */
    uint8_t rd;            /* bytes of the value being read */
    uint8_t tphase;        /* tagged fields: step */
    uint8_t rphase;        /* records: step */
    uint8_t bpos;          /* records: byte of the batch header */
    uint8_t bmagic;
    uint8_t codec;
    uint8_t name_len;
    uint8_t exp_clock;     /* response: next slot to reuse when full */
    uint16_t tflags;       /* flags of the topic element */
    uint16_t pflags;       /* flags of the partition element */
    uint16_t fflags;       /* flags of the frame */
    int16_t key;
    int16_t ver;
    int16_t err;
    int16_t first_err;
    int16_t battr;
    int32_t corr;
    int32_t partition;
    int32_t blen;
    int32_t blod;
    uint32_t frame_size;
    uint32_t frame_left;   /* bytes of the frame not consumed yet */
    uint32_t skip;         /* bytes to skip */
    union {
        uint32_t tags_left; /* tagged fields left (never inside a records field) */
        uint32_t rec_left;  /* records: bytes of the field not consumed yet */
    } u1;
    uint32_t nerr;
    uint32_t batches;
    uint32_t exp_used;     /* response: bitmask of live expectations */
    uint32_t stk_left[SHIM_KAFKA_DEPTH]; /* elements left after the current one */
    uint32_t stk_mark[SHIM_KAFKA_DEPTH]; /* frame_left at the current element's start */
    uint8_t stk_pc[SHIM_KAFKA_DEPTH];    /* first op of the element */
    uint64_t acc;          /* value being read */
    union {
        int64_t offset;    /* offset field of the element */
        int64_t next;      /* records (no offset field beside them): next offset */
    } u2;
    union {
        int64_t ts;        /* timestamp field of the element */
        int64_t base;      /* records (no timestamp field beside them): baseOffset */
    } u3;
    int64_t hw;
    int64_t lso;
    int64_t lstart;
    int64_t records;
    uint8_t topic_id[16];
    uint8_t name[SHIM_KAFKA_NAME_CAP];
    int32_t exp_corr[SHIM_KAFKA_INFLIGHT]; /* response: expectations */
    uint8_t exp_key[SHIM_KAFKA_INFLIGHT];
    uint8_t exp_ver[SHIM_KAFKA_INFLIGHT];
};

/* shim_kafka_init: zero *st and set its mode. */
void shim_kafka_init(struct shim_kafka *st, enum shim_kafka_mode mode);

/*
 * shim_kafka_expect: response parser only: the request with this
 * correlation id (api_key, api_version) was sent; decode its answer.
 * Returns 0, or 1 if a live expectation had to be dropped because
 * SHIM_KAFKA_INFLIGHT were pending (that response will be UNMATCHED), or -1
 * if api_key / api_version are out of range (ignored). Expecting a
 * correlation id that is already pending replaces that entry.
 */
int shim_kafka_expect(struct shim_kafka *resp, int32_t correlation_id, int16_t api_key,
                      int16_t api_version);

/*
 * shim_kafka_feed: parse up to len bytes of buf (buf may be NULL when len
 * is 0). The caller owns buf and *ev; nothing points into buf after the
 * call. Returns:
 *   SHIM_KAFKA_NEED_MORE  every byte used, no event; *consumed = len.
 *   SHIM_KAFKA_EVENT      *ev filled; *consumed = the bytes used up to and
 *                         including the event's last byte (0 when the event
 *                         follows another at the same offset, e.g. the
 *                         events ending a frame). Call again with
 *                         buf + *consumed even when nothing is left: loop
 *                         until NEED_MORE.
 *   SHIM_KAFKA_BAD        invalid stream; *consumed = the bytes used up to
 *                         the point where the stream was found invalid (a
 *                         length is judged once its last byte is read: that
 *                         stream offset is the same in every split); sticky
 *                         until the state is reset.
 * One event per call.
 */
int shim_kafka_feed(struct shim_kafka *st, const uint8_t *buf, size_t len,
                    struct shim_kafka_event *ev, size_t *consumed);

/* shim_kafka_idle: 1 between frames (an end of stream here lost nothing),
 * 0 inside a frame, -1 when BAD. */
int shim_kafka_idle(const struct shim_kafka *st);

/*
 * shim_kafka_detect_request: cheap sniff of the first bytes a client sends.
 * Returns 1 if buf begins with a plausible request frame: size 10..
 * SHIM_KAFKA_MAX_FRAME, a known api key (0..92) at a version 0..30, a
 * non-negative correlation id and a client id (null, or a length that fits
 * the frame, whose first bytes, up to 16, are printable ASCII); -1 if the
 * len bytes are a proper prefix of such a beginning (need more); 0 if not.
 * (ApiVersions, key 18, is what librdkafka and the Java client send
 * first.)
 */
int shim_kafka_detect_request(const uint8_t *buf, size_t len);

/* shim_kafka_api_name: "Produce", "Fetch", ... for the api keys 0..92,
 * "Unknown" otherwise. Static storage. */
const char *shim_kafka_api_name(int key);

/* shim_kafka_error_name: "NONE", "OFFSET_OUT_OF_RANGE", ... for the error
 * codes -1..113; "E114" .. "E999" for other codes in that range and
 * "E_OTHER" for anything else. Static storage. */
const char *shim_kafka_error_name(int16_t code);

/* shim_kafka_ev_name: "REQ", "PRODUCE_RECORDS", ... for logs and tests. */
const char *shim_kafka_ev_name(int type);

/*
 * Topic id -> name map, learnt from Metadata responses. Plain data, fixed
 * size (2.4 KB), zero-filled is empty; the caller decides where it lives
 * (per connection or per process, under the caller's lock if shared).
 */
struct shim_kafka_topic_map {
    uint8_t clock;                              /* next entry to reuse */
    uint8_t len[SHIM_KAFKA_MAP_CAP];            /* 0: free */
    uint8_t id[SHIM_KAFKA_MAP_CAP][16];
    uint8_t name[SHIM_KAFKA_MAP_CAP][SHIM_KAFKA_NAME_CAP];
};

/* shim_kafka_map_learn: from a TOPIC event with F_TOPIC_ID and a name (not
 * truncated, not null, id not all zero): remember id -> name (replacing the
 * entry of the same id, else the oldest). Other events are ignored. Returns
 * 1 if the map changed. */
int shim_kafka_map_learn(struct shim_kafka_topic_map *m, const struct shim_kafka_event *ev);

/* shim_kafka_map_resolve: if ev names its topic by id only (F_TOPIC_ID,
 * topic_len 0) and the map knows the id, point ev->topic / topic_len at the
 * map's copy of the name (valid until the map changes) and return 1; else
 * 0. */
int shim_kafka_map_resolve(const struct shim_kafka_topic_map *m, struct shim_kafka_event *ev);

#endif
