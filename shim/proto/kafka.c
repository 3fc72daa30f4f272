/*
 * kafka.c - incremental Kafka wire-protocol parser (see kafka.h).
 *
 * Structure: a frame-level step machine (size, header, header tags, body,
 * top-level tags, rest, done) around a small interpreter. A message body
 * is described by a table of ops (fixed ints, uuid, string, bytes, records,
 * array begin/end, primitive arrays), each with the range of versions it
 * exists in; the interpreter walks the table against the bytes as they
 * come, with a stack of SHIM_KAFKA_DEPTH arrays (elements left, first op).
 * Values are read a byte at a time into one accumulator, so any split of
 * the input reaches the same decisions at the same stream offsets: every
 * decision is taken when the byte that settles it is consumed, or, for the
 * steps that need no byte (array end, event emission, frame end), before
 * the next byte is asked for.
 *
 * The op tables follow the message JSON schemas of Apache Kafka
 * (clients/src/main/resources/common/message/<Name>.json): field order,
 * "versions" and "flexibleVersions". Tagged fields are never interpreted.
 */
#include "shim/proto/kafka.h"

#include <string.h>

/* ---------------------------------------------------------------- tables */

/* flexibleVersions of each api key (requests; responses likewise, except
 * that ApiVersions always answers with response header v0). NEVER: no
 * flexible version. Keys past the table: 0 (every api added since KIP-482
 * is flexible from its first version). */
#define NEVER 255
static const uint8_t flex_min[] = {
    /*  0 Produce */ 9, /* Fetch */ 12, /* ListOffsets */ 6, /* Metadata */ 9,
    /*  4 LeaderAndIsr */ 4, /* StopReplica */ 2, /* UpdateMetadata */ 6, /* ControlledShutdown */ 3,
    /*  8 OffsetCommit */ 8, /* OffsetFetch */ 6, /* FindCoordinator */ 3, /* JoinGroup */ 6,
    /* 12 Heartbeat */ 4, /* LeaveGroup */ 4, /* SyncGroup */ 4, /* DescribeGroups */ 5,
    /* 16 ListGroups */ 3, /* SaslHandshake */ NEVER, /* ApiVersions */ 3, /* CreateTopics */ 5,
    /* 20 DeleteTopics */ 4, /* DeleteRecords */ 2, /* InitProducerId */ 2, /* OffsetForLeaderEpoch */ 4,
    /* 24 AddPartitionsToTxn */ 3, /* AddOffsetsToTxn */ 3, /* EndTxn */ 3, /* WriteTxnMarkers */ 1,
    /* 28 TxnOffsetCommit */ 3, /* DescribeAcls */ 2, /* CreateAcls */ 2, /* DeleteAcls */ 2,
    /* 32 DescribeConfigs */ 4, /* AlterConfigs */ 2, /* AlterReplicaLogDirs */ 2, /* DescribeLogDirs */ 2,
    /* 36 SaslAuthenticate */ 2, /* CreatePartitions */ 2, /* CreateDelegationToken */ 2,
    /* 39 RenewDelegationToken */ 2, /* ExpireDelegationToken */ 2, /* DescribeDelegationToken */ 2,
    /* 42 DeleteGroups */ 2, /* ElectLeaders */ 2, /* IncrementalAlterConfigs */ 1,
    /* 45 AlterPartitionReassignments */ 0, /* ListPartitionReassignments */ 0, /* OffsetDelete */ NEVER,
    /* 48 DescribeClientQuotas */ 1, /* AlterClientQuotas */ 1, /* DescribeUserScramCredentials */ 0,
    /* 51 AlterUserScramCredentials */ 0, /* Vote */ 0, /* BeginQuorumEpoch */ 1, /* EndQuorumEpoch */ 1,
};

static int flexible(int key, int ver)
{
    if (key < 0)
        return 0;
    if ((size_t)key >= sizeof(flex_min))
        return 1;
    return ver >= flex_min[key];
}

/* Op kinds. */
enum {
    K_STOP = 0, /* end of the program */
    K_I8,       /* int8 / bool */
    K_I16,
    K_I32,
    K_I64,
    K_UUID,     /* 16 bytes */
    K_STR,      /* (nullable) string: int16 length / compact */
    K_BYTES,    /* (nullable) bytes: int32 length / compact */
    K_RECORDS,  /* records: like bytes, walked batch by batch */
    K_ARR,      /* array of structs: int32 count / compact; the element's ops follow, up to K_END */
    K_PARR,     /* array of fixed-size primitives: arg = element size */
    K_END       /* end of an array element: tagged fields (flexible), arg = event to emit */
};

/* Where a value goes (arg of K_I*, K_UUID, K_STR). */
enum { R_NONE = 0, R_PART, R_ERR, R_TOPERR, R_OFFSET, R_HW, R_LSO, R_LSTART, R_TS, R_ACKS, R_NAME, R_ID };

/* Array flags (arg of K_ARR). */
#define A_TOPIC 1 /* each element is a topic: reset topic and partition registers */
#define A_PART 2  /* each element is a partition: reset partition registers */
#define A_COUNT 4 /* the count goes to `records` (Metadata: partitions of the topic) */

struct kop {
    uint8_t kind, vmin, vmax, arg;
};

#define X 255 /* "and every later version" */
#define EV(t) SHIM_KAFKA_EV_##t

static const struct kop prog_produce_req[] = {
    {K_STR, 3, X, R_NONE},             /* TransactionalId */
    {K_I16, 0, X, R_ACKS},             /* Acks */
    {K_I32, 0, X, R_NONE},             /* TimeoutMs */
    {K_ARR, 0, X, A_TOPIC},            /* TopicData */
    {K_STR, 0, 12, R_NAME},            /*   Name */
    {K_UUID, 13, X, R_ID},             /*   TopicId */
    {K_ARR, 0, X, A_PART},             /*   PartitionData */
    {K_I32, 0, X, R_PART},             /*     Index */
    {K_RECORDS, 0, X, 0},              /*     Records */
    {K_END, 0, X, EV(PRODUCE_RECORDS)},
    {K_END, 0, X, 0},
    {K_STOP, 0, X, 0},
};

static const struct kop prog_fetch_req[] = {
    {K_I32, 0, 14, R_NONE},            /* ReplicaId (15+: tagged ReplicaState) */
    {K_I32, 0, X, R_NONE},             /* MaxWaitMs */
    {K_I32, 0, X, R_NONE},             /* MinBytes */
    {K_I32, 3, X, R_NONE},             /* MaxBytes */
    {K_I8, 4, X, R_NONE},              /* IsolationLevel */
    {K_I32, 7, X, R_NONE},             /* SessionId */
    {K_I32, 7, X, R_NONE},             /* SessionEpoch */
    {K_ARR, 0, X, A_TOPIC},            /* Topics */
    {K_STR, 0, 12, R_NAME},            /*   Topic */
    {K_UUID, 13, X, R_ID},             /*   TopicId */
    {K_ARR, 0, X, A_PART},             /*   Partitions */
    {K_I32, 0, X, R_PART},             /*     Partition */
    {K_I32, 9, X, R_NONE},             /*     CurrentLeaderEpoch */
    {K_I64, 0, X, R_OFFSET},           /*     FetchOffset */
    {K_I32, 12, X, R_NONE},            /*     LastFetchedEpoch */
    {K_I64, 5, X, R_LSTART},           /*     LogStartOffset */
    {K_I32, 0, X, R_NONE},             /*     PartitionMaxBytes */
    {K_END, 0, X, EV(FETCH_OFFSET)},
    {K_END, 0, X, 0},
    {K_ARR, 7, X, 0},                  /* ForgottenTopicsData */
    {K_STR, 7, 12, R_NONE},            /*   Topic */
    {K_UUID, 13, X, R_NONE},           /*   TopicId */
    {K_PARR, 7, X, 4},                 /*   Partitions */
    {K_END, 7, X, 0},
    {K_STR, 11, X, R_NONE},            /* RackId */
    {K_STOP, 0, X, 0},
};

static const struct kop prog_commit_req[] = {
    {K_STR, 0, X, R_NONE},             /* GroupId */
    {K_I32, 1, X, R_NONE},             /* GenerationIdOrMemberEpoch */
    {K_STR, 1, X, R_NONE},             /* MemberId */
    {K_STR, 7, X, R_NONE},             /* GroupInstanceId */
    {K_I64, 2, 4, R_NONE},             /* RetentionTimeMs */
    {K_ARR, 0, X, A_TOPIC},            /* Topics */
    {K_STR, 0, 9, R_NAME},             /*   Name */
    {K_UUID, 10, X, R_ID},             /*   TopicId */
    {K_ARR, 0, X, A_PART},             /*   Partitions */
    {K_I32, 0, X, R_PART},             /*     PartitionIndex */
    {K_I64, 0, X, R_OFFSET},           /*     CommittedOffset */
    {K_I32, 6, X, R_NONE},             /*     CommittedLeaderEpoch */
    {K_I64, 1, 1, R_TS},               /*     CommitTimestamp */
    {K_STR, 0, X, R_NONE},             /*     CommittedMetadata */
    {K_END, 0, X, EV(COMMIT)},
    {K_END, 0, X, 0},
    {K_STOP, 0, X, 0},
};

static const struct kop prog_produce_resp[] = {
    {K_ARR, 0, X, A_TOPIC},            /* Responses */
    {K_STR, 0, 12, R_NAME},            /*   Name */
    {K_UUID, 13, X, R_ID},             /*   TopicId */
    {K_ARR, 0, X, A_PART},             /*   PartitionResponses */
    {K_I32, 0, X, R_PART},             /*     Index */
    {K_I16, 0, X, R_ERR},              /*     ErrorCode */
    {K_I64, 0, X, R_OFFSET},           /*     BaseOffset */
    {K_I64, 2, X, R_TS},               /*     LogAppendTimeMs */
    {K_I64, 5, X, R_LSTART},           /*     LogStartOffset */
    {K_ARR, 8, X, 0},                  /*     RecordErrors */
    {K_I32, 8, X, R_NONE},             /*       BatchIndex */
    {K_STR, 8, X, R_NONE},             /*       BatchIndexErrorMessage */
    {K_END, 8, X, 0},
    {K_STR, 8, X, R_NONE},             /*     ErrorMessage */
    {K_END, 0, X, EV(PRODUCE_ACK)},
    {K_END, 0, X, 0},
    {K_I32, 1, X, R_NONE},             /* ThrottleTimeMs */
    {K_STOP, 0, X, 0},
};

static const struct kop prog_fetch_resp[] = {
    {K_I32, 1, X, R_NONE},             /* ThrottleTimeMs */
    {K_I16, 7, X, R_TOPERR},           /* ErrorCode */
    {K_I32, 7, X, R_NONE},             /* SessionId */
    {K_ARR, 0, X, A_TOPIC},            /* Responses */
    {K_STR, 0, 12, R_NAME},            /*   Topic */
    {K_UUID, 13, X, R_ID},             /*   TopicId */
    {K_ARR, 0, X, A_PART},             /*   Partitions */
    {K_I32, 0, X, R_PART},             /*     PartitionIndex */
    {K_I16, 0, X, R_ERR},              /*     ErrorCode */
    {K_I64, 0, X, R_HW},               /*     HighWatermark */
    {K_I64, 4, X, R_LSO},              /*     LastStableOffset */
    {K_I64, 5, X, R_LSTART},           /*     LogStartOffset */
    {K_ARR, 4, X, 0},                  /*     AbortedTransactions */
    {K_I64, 4, X, R_NONE},             /*       ProducerId */
    {K_I64, 4, X, R_NONE},             /*       FirstOffset */
    {K_END, 4, X, 0},
    {K_I32, 11, X, R_NONE},            /*     PreferredReadReplica */
    {K_RECORDS, 0, X, 0},              /*     Records */
    {K_END, 0, X, EV(FETCH_RECORDS)},
    {K_END, 0, X, 0},
    {K_STOP, 0, X, 0},
};

static const struct kop prog_list_offsets_resp[] = {
    {K_I32, 2, X, R_NONE},             /* ThrottleTimeMs */
    {K_ARR, 0, X, A_TOPIC},            /* Topics */
    {K_STR, 0, X, R_NAME},             /*   Name */
    {K_ARR, 0, X, A_PART},             /*   Partitions */
    {K_I32, 0, X, R_PART},             /*     PartitionIndex */
    {K_I16, 0, X, R_ERR},              /*     ErrorCode */
    {K_PARR, 0, 0, 8},                 /*     OldStyleOffsets */
    {K_I64, 1, X, R_TS},               /*     Timestamp */
    {K_I64, 1, X, R_OFFSET},           /*     Offset */
    {K_I32, 4, X, R_NONE},             /*     LeaderEpoch */
    {K_END, 0, X, EV(LIST_OFFSET)},
    {K_END, 0, X, 0},
    {K_STOP, 0, X, 0},
};

static const struct kop prog_metadata_resp[] = {
    {K_I32, 3, X, R_NONE},             /* ThrottleTimeMs */
    {K_ARR, 0, X, 0},                  /* Brokers */
    {K_I32, 0, X, R_NONE},             /*   NodeId */
    {K_STR, 0, X, R_NONE},             /*   Host */
    {K_I32, 0, X, R_NONE},             /*   Port */
    {K_STR, 1, X, R_NONE},             /*   Rack */
    {K_END, 0, X, 0},
    {K_STR, 2, X, R_NONE},             /* ClusterId */
    {K_I32, 1, X, R_NONE},             /* ControllerId */
    {K_ARR, 0, X, A_TOPIC},            /* Topics */
    {K_I16, 0, X, R_ERR},              /*   ErrorCode */
    {K_STR, 0, X, R_NAME},             /*   Name */
    {K_UUID, 10, X, R_ID},             /*   TopicId */
    {K_I8, 1, X, R_NONE},              /*   IsInternal */
    {K_ARR, 0, X, A_COUNT},            /*   Partitions */
    {K_I16, 0, X, R_NONE},             /*     ErrorCode (per replica state: not a failure) */
    {K_I32, 0, X, R_NONE},             /*     PartitionIndex */
    {K_I32, 0, X, R_NONE},             /*     LeaderId */
    {K_I32, 7, X, R_NONE},             /*     LeaderEpoch */
    {K_PARR, 0, X, 4},                 /*     ReplicaNodes */
    {K_PARR, 0, X, 4},                 /*     IsrNodes */
    {K_PARR, 5, X, 4},                 /*     OfflineReplicas */
    {K_END, 0, X, 0},
    {K_I32, 8, X, R_NONE},             /*   TopicAuthorizedOperations */
    {K_END, 0, X, EV(TOPIC)},
    {K_I32, 8, 10, R_NONE},            /* ClusterAuthorizedOperations */
    {K_I16, 13, X, R_TOPERR},          /* ErrorCode */
    {K_STOP, 0, X, 0},
};

static const struct kop prog_commit_resp[] = {
    {K_I32, 3, X, R_NONE},             /* ThrottleTimeMs */
    {K_ARR, 0, X, A_TOPIC},            /* Topics */
    {K_STR, 0, 9, R_NAME},             /*   Name */
    {K_UUID, 10, X, R_ID},             /*   TopicId */
    {K_ARR, 0, X, A_PART},             /*   Partitions */
    {K_I32, 0, X, R_PART},             /*     PartitionIndex */
    {K_I16, 0, X, R_ERR},              /*     ErrorCode */
    {K_END, 0, X, EV(COMMIT_ACK)},
    {K_END, 0, X, 0},
    {K_STOP, 0, X, 0},
};

static const struct kop prog_offset_fetch_resp[] = {
    {K_I32, 3, X, R_NONE},             /* ThrottleTimeMs */
    {K_ARR, 0, 7, A_TOPIC},            /* Topics (v0-7) */
    {K_STR, 0, 7, R_NAME},             /*   Name */
    {K_ARR, 0, 7, A_PART},             /*   Partitions */
    {K_I32, 0, 7, R_PART},             /*     PartitionIndex */
    {K_I64, 0, 7, R_OFFSET},           /*     CommittedOffset */
    {K_I32, 5, 7, R_NONE},             /*     CommittedLeaderEpoch */
    {K_STR, 0, 7, R_NONE},             /*     Metadata */
    {K_I16, 0, 7, R_ERR},              /*     ErrorCode */
    {K_END, 0, 7, EV(COMMITTED)},
    {K_END, 0, 7, 0},
    {K_I16, 2, 7, R_TOPERR},           /* ErrorCode (v2-7) */
    {K_ARR, 8, X, 0},                  /* Groups (v8+) */
    {K_STR, 8, X, R_NONE},             /*   GroupId */
    {K_ARR, 8, X, A_TOPIC},            /*   Topics */
    {K_STR, 8, 9, R_NAME},             /*     Name */
    {K_UUID, 10, X, R_ID},             /*     TopicId */
    {K_ARR, 8, X, A_PART},             /*     Partitions */
    {K_I32, 8, X, R_PART},             /*       PartitionIndex */
    {K_I64, 8, X, R_OFFSET},           /*       CommittedOffset */
    {K_I32, 8, X, R_NONE},             /*       CommittedLeaderEpoch */
    {K_STR, 8, X, R_NONE},             /*       Metadata */
    {K_I16, 8, X, R_ERR},              /*       ErrorCode */
    {K_END, 8, X, EV(COMMITTED)},
    {K_END, 8, X, 0},
    {K_I16, 8, X, R_TOPERR},           /*   ErrorCode */
    {K_END, 8, X, 0},
    {K_STOP, 0, X, 0},
};

/* Responses whose error code sits at a fixed place at the start. */
static const struct kop prog_err_at0[] = {
    {K_I16, 0, X, R_TOPERR},
    {K_STOP, 0, X, 0},
};
static const struct kop prog_err_at4[] = {
    {K_I32, 0, X, R_NONE},             /* ThrottleTimeMs */
    {K_I16, 0, X, R_TOPERR},
    {K_STOP, 0, X, 0},
};
static const struct kop prog_err_v1[] = {
    {K_I32, 1, X, R_NONE},             /* ThrottleTimeMs from v1 */
    {K_I16, 0, X, R_TOPERR},
    {K_STOP, 0, X, 0},
};
static const struct kop prog_err_v2[] = {
    {K_I32, 2, X, R_NONE},             /* ThrottleTimeMs from v2 */
    {K_I16, 0, X, R_TOPERR},
    {K_STOP, 0, X, 0},
};

#undef X
#undef EV

struct kprog {
    const struct kop *ops;
    uint8_t prefix; /* only the start of the body is described: no top-level tags, rest skipped */
};

enum {
    PG_NONE = 0,
    PG_PRODUCE_REQ, PG_FETCH_REQ, PG_COMMIT_REQ,
    PG_PRODUCE_RESP, PG_FETCH_RESP, PG_LIST_OFFSETS_RESP, PG_METADATA_RESP, PG_COMMIT_RESP,
    PG_OFFSET_FETCH_RESP, PG_ERR_AT0, PG_ERR_AT4, PG_ERR_V1, PG_ERR_V2,
    PG_COUNT
};

static const struct kprog progs[PG_COUNT] = {
    [PG_PRODUCE_REQ] = {prog_produce_req, 0},
    [PG_FETCH_REQ] = {prog_fetch_req, 0},
    [PG_COMMIT_REQ] = {prog_commit_req, 0},
    [PG_PRODUCE_RESP] = {prog_produce_resp, 0},
    [PG_FETCH_RESP] = {prog_fetch_resp, 0},
    [PG_LIST_OFFSETS_RESP] = {prog_list_offsets_resp, 0},
    [PG_METADATA_RESP] = {prog_metadata_resp, 0},
    [PG_COMMIT_RESP] = {prog_commit_resp, 0},
    [PG_OFFSET_FETCH_RESP] = {prog_offset_fetch_resp, 0},
    [PG_ERR_AT0] = {prog_err_at0, 1},
    [PG_ERR_AT4] = {prog_err_at4, 1},
    [PG_ERR_V1] = {prog_err_v1, 1},
    [PG_ERR_V2] = {prog_err_v2, 1},
};

/* req_prog / resp_prog: the program for a message, PG_NONE when its body is
 * skipped (unknown api key, or a version past the last one described). */
static int req_prog(int key, int ver)
{
    switch (key) {
    case 0: return ver <= 13 ? PG_PRODUCE_REQ : PG_NONE;
    case 1: return ver <= 18 ? PG_FETCH_REQ : PG_NONE;
    case 8: return ver <= 10 ? PG_COMMIT_REQ : PG_NONE;
    default: return PG_NONE;
    }
}

static int resp_prog(int key, int ver)
{
    switch (key) {
    case 0: return ver <= 13 ? PG_PRODUCE_RESP : PG_NONE;
    case 1: return ver <= 18 ? PG_FETCH_RESP : PG_NONE;
    case 2: return ver <= 10 ? PG_LIST_OFFSETS_RESP : PG_NONE;
    case 3: return ver <= 13 ? PG_METADATA_RESP : PG_NONE;
    case 8: return ver <= 10 ? PG_COMMIT_RESP : PG_NONE;
    case 9: return ver <= 10 ? PG_OFFSET_FETCH_RESP : PG_NONE;
    case 10: return ver <= 3 ? PG_ERR_V1 : PG_NONE;  /* FindCoordinator (4+: per-key array) */
    case 11: return ver <= 9 ? PG_ERR_V2 : PG_NONE;  /* JoinGroup */
    case 12: return ver <= 4 ? PG_ERR_V1 : PG_NONE;  /* Heartbeat */
    case 13: return ver <= 5 ? PG_ERR_V1 : PG_NONE;  /* LeaveGroup */
    case 14: return ver <= 5 ? PG_ERR_V1 : PG_NONE;  /* SyncGroup */
    case 16: return ver <= 5 ? PG_ERR_V1 : PG_NONE;  /* ListGroups */
    case 17: return ver <= 1 ? PG_ERR_AT0 : PG_NONE; /* SaslHandshake */
    case 18: return PG_ERR_AT0;                      /* ApiVersions: error first in every version */
    case 22: return ver <= 5 ? PG_ERR_AT4 : PG_NONE; /* InitProducerId */
    case 25: return ver <= 4 ? PG_ERR_AT4 : PG_NONE; /* AddOffsetsToTxn */
    case 26: return ver <= 5 ? PG_ERR_AT4 : PG_NONE; /* EndTxn */
    case 29: return ver <= 3 ? PG_ERR_AT4 : PG_NONE; /* DescribeAcls */
    case 36: return ver <= 2 ? PG_ERR_AT0 : PG_NONE; /* SaslAuthenticate */
    case 60: return ver <= 2 ? PG_ERR_AT4 : PG_NONE; /* DescribeCluster */
    case 68: return ver <= 1 ? PG_ERR_AT4 : PG_NONE; /* ConsumerGroupHeartbeat */
    default: return PG_NONE;
    }
}

/* ---------------------------------------------------------------- state */

/* Frame-level steps (st->phase). */
enum {
    P_SIZE = 0,  /* the 4-byte size of the next frame */
    P_HDR,       /* request: api key, version, correlation id; response: correlation id */
    P_CLIENT,    /* request: client id (length, then skipped) */
    P_HEAD_EV,   /* REQ / RESP event */
    P_HDR_TAGS,  /* header tagged fields */
    P_BODY,      /* the body program */
    P_TOP_TAGS,  /* top-level tagged fields */
    P_REST,      /* what is left of the frame */
    P_DONE_EV,   /* REQ_DONE / RESP_DONE event */
    P_CLOSED     /* BAD */
};

/* Step results inside a frame. */
#define R_BAD (-1)
#define R_MORE 0
#define R_DONE 1
#define R_EVENT 2

static void reset_part(struct shim_kafka *st)
{
    st->partition = -1;
    st->err = 0;
    st->pflags = 0;
    st->codec = 0;
    st->batches = 0;
    st->records = 0;
    st->u2.offset = -1;
    st->hw = -1;
    st->lso = -1;
    st->lstart = -1;
    st->u3.ts = -1;
}

static void reset_topic(struct shim_kafka *st)
{
    st->name_len = 0;
    st->tflags = 0;
    memset(st->topic_id, 0, sizeof(st->topic_id));
    reset_part(st);
}

/* begin_frame: the per-frame state, before the header. */
static void begin_frame(struct shim_kafka *st, uint32_t size)
{
    st->frame_size = size;
    st->frame_left = size;
    st->prog = PG_NONE;
    st->pc = 0;
    st->sub = 0;
    st->depth = 0;
    st->rd = 0;
    st->tphase = 0;
    st->rphase = 0;
    st->fflags = 0;
    st->key = -1;
    st->ver = -1;
    st->corr = 0;
    st->nerr = 0;
    st->first_err = 0;
    st->skip = 0;
    reset_topic(st);
}

void shim_kafka_init(struct shim_kafka *st, enum shim_kafka_mode mode)
{
    memset(st, 0, sizeof(*st));
    st->mode = (uint8_t)mode;
}

int shim_kafka_expect(struct shim_kafka *resp, int32_t correlation_id, int16_t api_key,
                      int16_t api_version)
{
    unsigned k, slot = SHIM_KAFKA_INFLIGHT;
    int evicted = 0;
    if (api_key < 0 || api_key > SHIM_KAFKA_MAX_API_KEY || api_version < 0 ||
        api_version > SHIM_KAFKA_MAX_API_VERSION)
        return -1;
    for (k = 0; k < SHIM_KAFKA_INFLIGHT; k++)
        if ((resp->exp_used >> k & 1u) && resp->exp_corr[k] == correlation_id) {
            slot = k;
            break;
        }
    if (slot == SHIM_KAFKA_INFLIGHT)
        for (k = 0; k < SHIM_KAFKA_INFLIGHT; k++)
            if (!(resp->exp_used >> k & 1u)) {
                slot = k;
                break;
            }
    if (slot == SHIM_KAFKA_INFLIGHT) {
        slot = resp->exp_clock % SHIM_KAFKA_INFLIGHT;
        resp->exp_clock = (uint8_t)((slot + 1) % SHIM_KAFKA_INFLIGHT);
        evicted = 1;
    }
    resp->exp_used |= 1u << slot;
    resp->exp_corr[slot] = correlation_id;
    resp->exp_key[slot] = (uint8_t)api_key;
    resp->exp_ver[slot] = (uint8_t)api_version;
    return evicted;
}

/* match: take the expectation of the current response's correlation id. */
static void match(struct shim_kafka *st)
{
    unsigned k;
    for (k = 0; k < SHIM_KAFKA_INFLIGHT; k++)
        if ((st->exp_used >> k & 1u) && st->exp_corr[k] == st->corr) {
            st->exp_used &= ~(1u << k);
            st->key = st->exp_key[k];
            st->ver = st->exp_ver[k];
            return;
        }
    st->key = -1;
    st->ver = -1;
    st->fflags |= SHIM_KAFKA_F_UNMATCHED;
}

/* ---------------------------------------------------------------- readers */

/* rd_fixed: n big-endian bytes into st->acc (st->rd counts them across
 * calls). R_DONE when complete, R_MORE when the input ran out, R_BAD when
 * the frame ended first. */
static int rd_fixed(struct shim_kafka *st, const uint8_t *b, size_t len, size_t *i, unsigned n)
{
    if (st->rd == 0) {
        st->acc = 0;
        /* fast path: the whole value is here */
        if (len - *i >= n && st->frame_left >= n) {
            unsigned k;
            for (k = 0; k < n; k++)
                st->acc = st->acc << 8 | b[*i + k];
            *i += n;
            st->frame_left -= n;
            return R_DONE;
        }
    }
    while (st->rd < n) {
        if (st->frame_left == 0)
            return R_BAD;
        if (*i == len)
            return R_MORE;
        st->acc = st->acc << 8 | b[(*i)++];
        st->frame_left--;
        st->rd++;
    }
    st->rd = 0;
    return R_DONE;
}

/* rd_uvar: unsigned varint (at most maxb bytes) into st->acc. */
static int rd_uvar(struct shim_kafka *st, const uint8_t *b, size_t len, size_t *i, unsigned maxb)
{
    if (st->rd == 0)
        st->acc = 0;
    for (;;) {
        uint8_t c;
        if (st->frame_left == 0)
            return R_BAD;
        if (*i == len)
            return R_MORE;
        c = b[(*i)++];
        st->frame_left--;
        st->acc |= (uint64_t)(c & 0x7f) << (7 * st->rd);
        st->rd++;
        if (!(c & 0x80)) {
            st->rd = 0;
            return R_DONE;
        }
        if (st->rd >= maxb)
            return R_BAD;
    }
}

/* rd_len: a length or count: compact (uvarint N+1, 0 = null) in flexible
 * versions, else a big-endian int16 (width 2) or int32 (width 4) with -1 =
 * null. *out = the length, -1 for null. Anything below -1 is BAD, and so
 * is a length that cannot fit in what is left of the frame. */
static int rd_len(struct shim_kafka *st, const uint8_t *b, size_t len, size_t *i, unsigned width,
                  int64_t *out)
{
    int r;
    if (st->fflags & SHIM_KAFKA_F_FLEXIBLE) {
        r = rd_uvar(st, b, len, i, 5);
        if (r != R_DONE)
            return r;
        if (st->acc > 0x80000000ull)
            return R_BAD;
        *out = (int64_t)st->acc - 1;
    } else {
        r = rd_fixed(st, b, len, i, width);
        if (r != R_DONE)
            return r;
        *out = width == 2 ? (int64_t)(int16_t)(uint16_t)st->acc : (int64_t)(int32_t)(uint32_t)st->acc;
        if (*out < -1)
            return R_BAD;
    }
    if (*out > (int64_t)st->frame_left)
        return R_BAD;
    return R_DONE;
}

/* do_skip: consume up to st->skip bytes (never more than the frame holds:
 * every skip is checked against frame_left when it is set). */
static int do_skip(struct shim_kafka *st, size_t len, size_t *i)
{
    size_t n = len - *i;
    if (n > st->skip)
        n = st->skip;
    *i += n;
    st->skip -= (uint32_t)n;
    st->frame_left -= (uint32_t)n;
    return st->skip ? R_MORE : R_DONE;
}

/* skip_field: the rest of a field being skipped (do_skip), then the next
 * op. */
static int skip_field(struct shim_kafka *st, size_t len, size_t *i)
{
    int r = do_skip(st, len, i);
    if (r != R_DONE)
        return r;
    st->sub = 0;
    st->pc++;
    return R_DONE;
}

/* run_tags: a tagged-field section (start with st->tphase = 1): count,
 * then (tag, size, bytes) each, all skipped. */
static int run_tags(struct shim_kafka *st, const uint8_t *b, size_t len, size_t *i)
{
    int r;
    for (;;) {
        switch (st->tphase) {
        case 1:
            r = rd_uvar(st, b, len, i, 5);
            if (r != R_DONE)
                return r;
            if (st->acc > st->frame_left)
                return R_BAD;
            st->u1.tags_left = (uint32_t)st->acc;
            st->tphase = 2;
            break;
        case 2:
            if (st->u1.tags_left == 0) {
                st->tphase = 0;
                return R_DONE;
            }
            r = rd_uvar(st, b, len, i, 5); /* tag */
            if (r != R_DONE)
                return r;
            if (st->acc > 0xffffffffull)
                return R_BAD;
            st->tphase = 3;
            break;
        case 3:
            r = rd_uvar(st, b, len, i, 5); /* size */
            if (r != R_DONE)
                return r;
            if (st->acc > st->frame_left)
                return R_BAD;
            st->skip = (uint32_t)st->acc;
            st->u1.tags_left--;
            st->tphase = 4;
            break;
        case 4:
            r = do_skip(st, len, i);
            if (r != R_DONE)
                return r;
            st->tphase = 2;
            break;
        default:
            return R_BAD;
        }
    }
}

/* ---------------------------------------------------------------- records */

/*
 * batch_header: the header of one batch, a byte at a time (positions in
 * st->bpos). Each decision is taken as the byte that settles it is
 * consumed. On R_DONE st->skip holds the rest of the batch (or of the
 * records field, for a partial batch), already taken off st->u1.rec_left.
 */
static int batch_header(struct shim_kafka *st, const uint8_t *b, size_t len, size_t *i)
{
    for (;;) {
        unsigned p;
        uint8_t c;
        if (*i == len)
            return R_MORE;
        if (st->frame_left == 0 || st->u1.rec_left == 0)
            return R_BAD; /* cannot happen: rec_left <= frame_left and >= 12 at start */
        c = b[(*i)++];
        st->frame_left--;
        st->u1.rec_left--;
        p = st->bpos++;
        if (p == 0 || p == 8 || p == 21 || p == 23 || p == 57)
            st->acc = c;
        else
            st->acc = st->acc << 8 | c;
        switch (p) {
        case 7:
            st->u3.base = (int64_t)st->acc;
            break;
        case 11:
            st->blen = (int32_t)(uint32_t)st->acc;
            if (st->blen < 0)
                return R_BAD;
            if ((uint32_t)st->blen > st->u1.rec_left) {
                /* does not fit in the records field: a partial batch */
                st->pflags |= SHIM_KAFKA_F_PARTIAL;
                st->skip = st->u1.rec_left;
                st->u1.rec_left = 0;
                return R_DONE;
            }
            break;
        case 16:
            st->bmagic = c;
            if (c > 2 || (c < 2 && st->blen < 14) || (c == 2 && st->blen < 49))
                return R_BAD;
            break;
        case 17:
            if (st->bmagic < 2) {
                /* old message set entry: offset, size, crc, magic, attributes, ... */
                st->codec = c & 7;
                st->records++;
                st->batches++;
                st->pflags |= SHIM_KAFKA_F_LEGACY;
                if (st->u2.next < 0 || (int64_t)((uint64_t)st->u3.base + 1) > st->u2.next)
                    st->u2.next = (int64_t)((uint64_t)st->u3.base + 1);
                st->skip = (uint32_t)st->blen - 6;
                st->u1.rec_left -= st->skip;
                return R_DONE;
            }
            break;
        case 22:
            st->battr = (int16_t)(uint16_t)st->acc;
            break;
        case 26:
            st->blod = (int32_t)(uint32_t)st->acc;
            break;
        case 60: {
            int32_t count = (int32_t)(uint32_t)st->acc;
            if (count < 0)
                return R_BAD;
            if ((st->battr & 7) == 0 && (int64_t)count * 7 > (int64_t)st->blen - 49)
                return R_BAD; /* uncompressed: each record takes at least 7 bytes */
            st->batches++;
            if (st->battr & 0x20) {
                st->pflags |= SHIM_KAFKA_F_CONTROL;
            } else {
                st->records += count;
                st->codec = (uint8_t)(st->battr & 7);
            }
            if (st->battr & 0x10)
                st->pflags |= SHIM_KAFKA_F_TRANSACTIONAL;
            if (st->blod >= 0) {
                int64_t n = (int64_t)((uint64_t)st->u3.base + (uint64_t)st->blod + 1);
                if (st->u2.next < 0 || n > st->u2.next)
                    st->u2.next = n;
            }
            st->skip = (uint32_t)st->blen - 49;
            st->u1.rec_left -= st->skip;
            return R_DONE;
        }
        default:
            break;
        }
    }
}

/* run_records: the records field: length, then batches until it is used up. */
static int run_records(struct shim_kafka *st, const uint8_t *b, size_t len, size_t *i)
{
    int r;
    for (;;) {
        switch (st->rphase) {
        case 0: {
            int64_t n;
            r = rd_len(st, b, len, i, 4, &n);
            if (r != R_DONE)
                return r;
            st->u1.rec_left = n < 0 ? 0 : (uint32_t)n;
            st->rphase = 1;
            break;
        }
        case 1:
            if (st->u1.rec_left == 0) {
                st->rphase = 0;
                return R_DONE;
            }
            if (st->u1.rec_left < 12) {
                st->pflags |= SHIM_KAFKA_F_PARTIAL;
                st->skip = st->u1.rec_left;
                st->u1.rec_left = 0;
                st->rphase = 3;
                break;
            }
            st->bpos = 0;
            st->rphase = 2;
            break;
        case 2:
            r = batch_header(st, b, len, i);
            if (r != R_DONE)
                return r;
            st->rphase = 3;
            break;
        case 3:
            r = do_skip(st, len, i);
            if (r != R_DONE)
                return r;
            st->rphase = 1;
            break;
        default:
            return R_BAD;
        }
    }
}

/* ---------------------------------------------------------------- events */

static void fill(const struct shim_kafka *st, struct shim_kafka_event *ev, int type)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = (uint8_t)type;
    ev->api_key = st->key;
    ev->api_version = st->ver;
    ev->correlation_id = st->corr;
    ev->frame_size = st->frame_size;
    ev->flags = st->fflags;
    ev->partition = -1;
    ev->offset = -1;
    ev->high_watermark = -1;
    ev->last_stable_offset = -1;
    ev->log_start_offset = -1;
    ev->timestamp = -1;
    ev->topic = st->name;
    switch (type) {
    case SHIM_KAFKA_EV_REQ:
    case SHIM_KAFKA_EV_RESP:
        break;
    case SHIM_KAFKA_EV_REQ_DONE:
    case SHIM_KAFKA_EV_RESP_DONE:
        ev->error_code = st->first_err;
        ev->records = st->nerr;
        if (st->nerr)
            ev->flags |= SHIM_KAFKA_F_ERROR;
        break;
    default:
        ev->flags |= st->tflags | st->pflags;
        ev->topic_len = st->name_len;
        memcpy(ev->topic_id, st->topic_id, sizeof(ev->topic_id));
        ev->partition = st->partition;
        ev->error_code = st->err;
        ev->records = st->records;
        ev->batches = st->batches;
        ev->codec = st->codec;
        ev->offset = st->u2.offset; /* FETCH_RECORDS: u2.next */
        ev->high_watermark = st->hw;
        ev->last_stable_offset = st->lso;
        ev->log_start_offset = st->lstart;
        ev->timestamp = st->u3.ts;
        if (type == SHIM_KAFKA_EV_PRODUCE_RECORDS || type == SHIM_KAFKA_EV_FETCH_RECORDS) {
            ev->timestamp = -1; /* u3 held the batches' baseOffset */
            if (type == SHIM_KAFKA_EV_PRODUCE_RECORDS)
                ev->offset = -1;
        }
        break;
    }
}

/* ---------------------------------------------------------------- interpreter */

static void note_error(struct shim_kafka *st, int16_t e)
{
    if (e) {
        st->nerr++;
        if (!st->first_err)
            st->first_err = e;
    }
}

static void store(struct shim_kafka *st, unsigned reg, int64_t v)
{
    switch (reg) {
    case R_PART: st->partition = (int32_t)v; break;
    case R_ERR:
        st->err = (int16_t)v;
        note_error(st, (int16_t)v);
        break;
    case R_TOPERR: note_error(st, (int16_t)v); break;
    case R_OFFSET: st->u2.offset = v; break;
    case R_HW: st->hw = v; break;
    case R_LSO: st->lso = v; break;
    case R_LSTART: st->lstart = v; break;
    case R_TS: st->u3.ts = v; break;
    case R_ACKS:
        if (v == 0)
            st->fflags |= SHIM_KAFKA_F_NO_RESPONSE;
        break;
    default: break;
    }
}

/* skip_arr: the op after the K_END matching the K_ARR at pc. */
static uint8_t skip_arr(const struct kop *ops, unsigned pc)
{
    unsigned level = 0;
    for (;; pc++) {
        if (ops[pc].kind == K_ARR)
            level++;
        else if (ops[pc].kind == K_END && --level == 0)
            return (uint8_t)(pc + 1);
        else if (ops[pc].kind == K_STOP)
            return (uint8_t)pc; /* cannot happen: tables are balanced */
    }
}

static void elem_reset(struct shim_kafka *st, unsigned arg)
{
    if (arg & A_TOPIC)
        reset_topic(st);
    else if (arg & A_PART)
        reset_part(st);
}

static const uint8_t fixed_width[] = {[K_I8] = 1, [K_I16] = 2, [K_I32] = 4, [K_I64] = 8};

/* run_body: the current program from st->pc on. R_DONE at its end,
 * R_EVENT with *ev filled, R_MORE, R_BAD. */
static int run_body(struct shim_kafka *st, const uint8_t *b, size_t len, size_t *i,
                    struct shim_kafka_event *ev)
{
    const struct kop *ops = progs[st->prog].ops;
    for (;;) {
        const struct kop *op = &ops[st->pc];
        int64_t n;
        int r;
        unsigned d;

        if (op->kind == K_STOP)
            return R_DONE;
        if (st->sub == 0 && st->rd == 0 && (st->ver < op->vmin || st->ver > op->vmax)) {
            st->pc = op->kind == K_ARR ? skip_arr(ops, st->pc) : (uint8_t)(st->pc + 1);
            continue;
        }
        switch (op->kind) {
        case K_I8:
        case K_I16:
        case K_I32:
        case K_I64: {
            unsigned w = fixed_width[op->kind];
            r = rd_fixed(st, b, len, i, w);
            if (r != R_DONE)
                return r;
            n = w == 1 ? (int8_t)(uint8_t)st->acc
                : w == 2 ? (int16_t)(uint16_t)st->acc
                : w == 4 ? (int32_t)(uint32_t)st->acc
                : (int64_t)st->acc;
            store(st, op->arg, n);
            st->pc++;
            break;
        }
        case K_UUID:
            while (st->rd < 16) {
                if (st->frame_left == 0)
                    return R_BAD;
                if (*i == len)
                    return R_MORE;
                if (op->arg == R_ID)
                    st->topic_id[st->rd] = b[*i];
                (*i)++;
                st->frame_left--;
                st->rd++;
            }
            st->rd = 0;
            if (op->arg == R_ID)
                st->tflags |= SHIM_KAFKA_F_TOPIC_ID;
            st->pc++;
            break;
        case K_STR:
            if (st->sub == 0) {
                r = rd_len(st, b, len, i, 2, &n);
                if (r != R_DONE)
                    return r;
                if (op->arg == R_NAME) {
                    st->name_len = 0;
                    if (n < 0)
                        st->tflags |= SHIM_KAFKA_F_TOPIC_NULL;
                }
                if (n <= 0) {
                    st->pc++;
                    break;
                }
                st->skip = (uint32_t)n;
                st->sub = op->arg == R_NAME ? 1 : 2;
                break;
            }
            if (st->sub == 1) {
                while (st->skip && st->name_len < SHIM_KAFKA_NAME_CAP) {
                    if (*i == len)
                        return R_MORE;
                    st->name[st->name_len++] = b[(*i)++];
                    st->skip--;
                    st->frame_left--;
                }
                if (!st->skip) {
                    st->sub = 0;
                    st->pc++;
                    break;
                }
                st->tflags |= SHIM_KAFKA_F_TOPIC_TRUNC;
                st->sub = 2;
            }
            r = skip_field(st, len, i);
            if (r != R_DONE)
                return r;
            break;
        case K_BYTES:
        case K_PARR:
            if (st->sub == 0) {
                r = rd_len(st, b, len, i, 4, &n);
                if (r != R_DONE)
                    return r;
                if (op->kind == K_PARR && n > 0) {
                    n *= op->arg;
                    if (n > (int64_t)st->frame_left)
                        return R_BAD;
                }
                if (n <= 0) {
                    st->pc++;
                    break;
                }
                st->skip = (uint32_t)n;
                st->sub = 1;
            }
            r = skip_field(st, len, i);
            if (r != R_DONE)
                return r;
            break;
        case K_RECORDS:
            r = run_records(st, b, len, i);
            if (r != R_DONE)
                return r;
            st->pc++;
            break;
        case K_ARR:
            r = rd_len(st, b, len, i, 4, &n);
            if (r != R_DONE)
                return r;
            if (op->arg & A_COUNT)
                st->records = n < 0 ? 0 : n;
            if (n <= 0) {
                st->pc = skip_arr(ops, st->pc);
                break;
            }
            if (st->depth >= SHIM_KAFKA_DEPTH)
                return R_BAD; /* cannot happen: tables nest at most 3 deep */
            d = st->depth++;
            st->stk_left[d] = (uint32_t)(n - 1);
            st->stk_pc[d] = (uint8_t)(st->pc + 1);
            st->stk_mark[d] = st->frame_left;
            elem_reset(st, op->arg);
            st->pc++;
            break;
        case K_END:
            if (st->depth == 0)
                return R_BAD; /* cannot happen */
            d = st->depth - 1u;
            if (st->sub == 0) {
                if (st->fflags & SHIM_KAFKA_F_FLEXIBLE) {
                    st->tphase = 1;
                    st->sub = 1;
                } else {
                    st->sub = 2;
                }
            }
            if (st->sub == 1) {
                r = run_tags(st, b, len, i);
                if (r != R_DONE)
                    return r;
                st->sub = 2;
            }
            if (st->sub == 2) {
                /* an element that took no byte could repeat 2^31 times */
                if (st->frame_left == st->stk_mark[d])
                    return R_BAD;
                st->sub = 3;
                if (op->arg) {
                    fill(st, ev, op->arg);
                    return R_EVENT;
                }
            }
            st->sub = 0;
            if (st->stk_left[d]) {
                st->stk_left[d]--;
                st->stk_mark[d] = st->frame_left;
                st->pc = st->stk_pc[d];
                elem_reset(st, ops[st->pc - 1].arg);
            } else {
                st->depth--;
                st->pc++;
            }
            break;
        default:
            return R_BAD;
        }
    }
}

/* ---------------------------------------------------------------- feed */

int shim_kafka_feed(struct shim_kafka *st, const uint8_t *buf, size_t len,
                    struct shim_kafka_event *ev, size_t *consumed)
{
    size_t i = 0;
    int r = R_BAD;

    if (!buf)
        len = 0;
    for (;;) {
        switch (st->phase) {
        case P_SIZE: {
            uint32_t size;
            if (st->rd == 0)
                st->acc = 0;
            while (st->rd < 4) {
                if (i == len) {
                    *consumed = i;
                    return SHIM_KAFKA_NEED_MORE;
                }
                st->acc = st->acc << 8 | buf[i++];
                st->rd++;
            }
            st->rd = 0;
            size = (uint32_t)st->acc;
            if (size > SHIM_KAFKA_MAX_FRAME || size < (st->mode == SHIM_KAFKA_REQUEST ? 8u : 4u))
                goto bad;
            begin_frame(st, size);
            st->phase = P_HDR;
            break;
        }
        case P_HDR:
            if (st->mode == SHIM_KAFKA_REQUEST) {
                r = rd_fixed(st, buf, len, &i, 8);
                if (r != R_DONE)
                    goto step;
                st->key = (int16_t)(uint16_t)(st->acc >> 48);
                st->ver = (int16_t)(uint16_t)(st->acc >> 32);
                st->corr = (int32_t)(uint32_t)st->acc;
                if (st->key < 0 || st->key > SHIM_KAFKA_MAX_API_KEY || st->ver < 0 ||
                    st->ver > SHIM_KAFKA_MAX_API_VERSION)
                    goto bad;
                /* request header v0 (no client id): ControlledShutdown v0 only */
                st->phase = (st->key == 7 && st->ver == 0) ? P_HEAD_EV : P_CLIENT;
            } else {
                r = rd_fixed(st, buf, len, &i, 4);
                if (r != R_DONE)
                    goto step;
                st->corr = (int32_t)(uint32_t)st->acc;
                match(st);
                st->phase = P_HEAD_EV;
            }
            break;
        case P_CLIENT:
            if (st->sub == 0) {
                uint16_t f = st->fflags;
                int64_t n;
                st->fflags &= (uint16_t)~SHIM_KAFKA_F_FLEXIBLE; /* a plain int16 length always */
                r = rd_len(st, buf, len, &i, 2, &n);
                st->fflags = f;
                if (r != R_DONE)
                    goto step;
                st->skip = n < 0 ? 0 : (uint32_t)n;
                st->sub = 1;
            }
            r = do_skip(st, len, &i);
            if (r != R_DONE)
                goto step;
            st->sub = 0;
            st->phase = P_HEAD_EV;
            break;
        case P_HEAD_EV: {
            int hdr_tags;
            if (st->key >= 0 && flexible(st->key, st->ver))
                st->fflags |= SHIM_KAFKA_F_FLEXIBLE;
            if (st->mode == SHIM_KAFKA_REQUEST) {
                st->prog = (uint8_t)req_prog(st->key, st->ver);
                hdr_tags = st->fflags & SHIM_KAFKA_F_FLEXIBLE;
            } else {
                st->prog = st->key < 0 ? PG_NONE : (uint8_t)resp_prog(st->key, st->ver);
                /* ApiVersions responses always use response header v0 */
                hdr_tags = (st->fflags & SHIM_KAFKA_F_FLEXIBLE) && st->key != SHIM_KAFKA_API_API_VERSIONS;
            }
            if (st->prog == PG_NONE)
                st->fflags |= SHIM_KAFKA_F_SKIPPED;
            fill(st, ev, st->mode == SHIM_KAFKA_REQUEST ? SHIM_KAFKA_EV_REQ : SHIM_KAFKA_EV_RESP);
            if (st->prog == PG_NONE) {
                st->phase = P_REST;
            } else if (hdr_tags) {
                st->tphase = 1;
                st->phase = P_HDR_TAGS;
            } else {
                st->phase = P_BODY;
            }
            *consumed = i;
            return SHIM_KAFKA_EVENT;
        }
        case P_HDR_TAGS:
            r = run_tags(st, buf, len, &i);
            if (r != R_DONE)
                goto step;
            st->phase = P_BODY;
            break;
        case P_BODY:
            r = run_body(st, buf, len, &i, ev);
            if (r == R_EVENT) {
                *consumed = i;
                return SHIM_KAFKA_EVENT;
            }
            if (r != R_DONE)
                goto step;
            if ((st->fflags & SHIM_KAFKA_F_FLEXIBLE) && !progs[st->prog].prefix) {
                st->tphase = 1;
                st->phase = P_TOP_TAGS;
            } else {
                st->phase = P_REST;
            }
            break;
        case P_TOP_TAGS:
            r = run_tags(st, buf, len, &i);
            if (r != R_DONE)
                goto step;
            st->phase = P_REST;
            break;
        case P_REST:
            if (st->sub == 0) {
                if (st->frame_left && st->prog != PG_NONE && !progs[st->prog].prefix)
                    st->fflags |= SHIM_KAFKA_F_TRAILING;
                st->skip = st->frame_left;
                st->sub = 1;
            }
            r = do_skip(st, len, &i);
            if (r != R_DONE)
                goto step;
            st->sub = 0;
            st->phase = P_DONE_EV;
            break;
        case P_DONE_EV:
            fill(st, ev, st->mode == SHIM_KAFKA_REQUEST ? SHIM_KAFKA_EV_REQ_DONE : SHIM_KAFKA_EV_RESP_DONE);
            st->phase = P_SIZE;
            st->rd = 0;
            *consumed = i;
            return SHIM_KAFKA_EVENT;
        default:
            *consumed = 0;
            return SHIM_KAFKA_BAD;
        }
        continue;
    step:
        /* r is R_MORE or R_BAD from a step inside the frame */
        if (r == R_MORE) {
            *consumed = i;
            return SHIM_KAFKA_NEED_MORE;
        }
    bad:
        st->phase = P_CLOSED;
        *consumed = i;
        return SHIM_KAFKA_BAD;
    }
}

int shim_kafka_idle(const struct shim_kafka *st)
{
    if (st->phase == P_CLOSED)
        return -1;
    return st->phase == P_SIZE && st->rd == 0;
}

/* ---------------------------------------------------------------- detection */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int16_t be16(const uint8_t *p)
{
    return (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]);
}

#define DETECT_MAX_KEY 92
#define DETECT_MAX_VERSION 30

int shim_kafka_detect_request(const uint8_t *buf, size_t len)
{
    uint32_t size;
    int16_t clen;
    size_t k, m;

    if (!buf)
        len = 0;
    /* size: big-endian, 10 .. 100 MiB (0x06400000) */
    if (len >= 1 && buf[0] > 0x06)
        return 0;
    if (len < 4)
        return -1;
    size = be32(buf);
    if (size < 10 || size > SHIM_KAFKA_MAX_FRAME)
        return 0;
    /* api key 0..92, version 0..30: their high bytes are 0 */
    if (len >= 5 && buf[4] != 0)
        return 0;
    if (len >= 6 && buf[5] > DETECT_MAX_KEY)
        return 0;
    if (len >= 7 && buf[6] != 0)
        return 0;
    if (len >= 8 && buf[7] > DETECT_MAX_VERSION)
        return 0;
    /* correlation id >= 0 */
    if (len >= 9 && (buf[8] & 0x80))
        return 0;
    if (len < 14)
        return -1;
    clen = be16(buf + 12);
    if (clen < -1 || (uint32_t)(clen + 10) > size)
        return 0;
    m = clen > 16 ? 16 : (size_t)(clen < 0 ? 0 : clen);
    for (k = 0; k < m; k++) {
        if (14 + k >= len)
            return -1;
        if (buf[14 + k] < 0x20 || buf[14 + k] > 0x7e)
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- names */

static const char *const api_names[] = {
    "Produce", "Fetch", "ListOffsets", "Metadata", "LeaderAndIsr", "StopReplica",
    "UpdateMetadata", "ControlledShutdown", "OffsetCommit", "OffsetFetch", "FindCoordinator",
    "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups",
    "SaslHandshake", "ApiVersions", "CreateTopics", "DeleteTopics", "DeleteRecords",
    "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn",
    "WriteTxnMarkers", "TxnOffsetCommit", "DescribeAcls", "CreateAcls", "DeleteAcls",
    "DescribeConfigs", "AlterConfigs", "AlterReplicaLogDirs", "DescribeLogDirs",
    "SaslAuthenticate", "CreatePartitions", "CreateDelegationToken", "RenewDelegationToken",
    "ExpireDelegationToken", "DescribeDelegationToken", "DeleteGroups", "ElectLeaders",
    "IncrementalAlterConfigs", "AlterPartitionReassignments", "ListPartitionReassignments",
    "OffsetDelete", "DescribeClientQuotas", "AlterClientQuotas", "DescribeUserScramCredentials",
    "AlterUserScramCredentials", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch", "DescribeQuorum",
    "AlterPartition", "UpdateFeatures", "Envelope", "FetchSnapshot", "DescribeCluster",
    "DescribeProducers", "BrokerRegistration", "BrokerHeartbeat", "UnregisterBroker",
    "DescribeTransactions", "ListTransactions", "AllocateProducerIds", "ConsumerGroupHeartbeat",
    "ConsumerGroupDescribe", "ControllerRegistration", "GetTelemetrySubscriptions",
    "PushTelemetry", "AssignReplicasToDirs", "ListConfigResources", "DescribeTopicPartitions",
    "ShareGroupHeartbeat", "ShareGroupDescribe", "ShareFetch", "ShareAcknowledge",
    "AddRaftVoter", "RemoveRaftVoter", "UpdateRaftVoter", "InitializeShareGroupState",
    "ReadShareGroupState", "WriteShareGroupState", "DeleteShareGroupState",
    "ReadShareGroupStateSummary", "StreamsGroupHeartbeat", "StreamsGroupDescribe",
    "DescribeShareGroupOffsets", "AlterShareGroupOffsets", "DeleteShareGroupOffsets",
};

const char *shim_kafka_api_name(int key)
{
    if (key < 0 || (size_t)key >= sizeof(api_names) / sizeof(api_names[0]))
        return "Unknown";
    return api_names[key];
}

/* Error codes -1 .. 113 (index code + 1). */
static const char *const error_names[] = {
    "UNKNOWN_SERVER_ERROR", "NONE", "OFFSET_OUT_OF_RANGE", "CORRUPT_MESSAGE",
    "UNKNOWN_TOPIC_OR_PARTITION", "INVALID_FETCH_SIZE", "LEADER_NOT_AVAILABLE",
    "NOT_LEADER_OR_FOLLOWER", "REQUEST_TIMED_OUT", "BROKER_NOT_AVAILABLE",
    "REPLICA_NOT_AVAILABLE", "MESSAGE_TOO_LARGE", "STALE_CONTROLLER_EPOCH",
    "OFFSET_METADATA_TOO_LARGE", "NETWORK_EXCEPTION", "COORDINATOR_LOAD_IN_PROGRESS",
    "COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR", "INVALID_TOPIC_EXCEPTION",
    "RECORD_LIST_TOO_LARGE", "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
    "INVALID_REQUIRED_ACKS", "ILLEGAL_GENERATION", "INCONSISTENT_GROUP_PROTOCOL",
    "INVALID_GROUP_ID", "UNKNOWN_MEMBER_ID", "INVALID_SESSION_TIMEOUT", "REBALANCE_IN_PROGRESS",
    "INVALID_COMMIT_OFFSET_SIZE", "TOPIC_AUTHORIZATION_FAILED", "GROUP_AUTHORIZATION_FAILED",
    "CLUSTER_AUTHORIZATION_FAILED", "INVALID_TIMESTAMP", "UNSUPPORTED_SASL_MECHANISM",
    "ILLEGAL_SASL_STATE", "UNSUPPORTED_VERSION", "TOPIC_ALREADY_EXISTS", "INVALID_PARTITIONS",
    "INVALID_REPLICATION_FACTOR", "INVALID_REPLICA_ASSIGNMENT", "INVALID_CONFIG",
    "NOT_CONTROLLER", "INVALID_REQUEST", "UNSUPPORTED_FOR_MESSAGE_FORMAT", "POLICY_VIOLATION",
    "OUT_OF_ORDER_SEQUENCE_NUMBER", "DUPLICATE_SEQUENCE_NUMBER", "INVALID_PRODUCER_EPOCH",
    "INVALID_TXN_STATE", "INVALID_PRODUCER_ID_MAPPING", "INVALID_TRANSACTION_TIMEOUT",
    "CONCURRENT_TRANSACTIONS", "TRANSACTION_COORDINATOR_FENCED",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "SECURITY_DISABLED", "OPERATION_NOT_ATTEMPTED",
    "KAFKA_STORAGE_ERROR", "LOG_DIR_NOT_FOUND", "SASL_AUTHENTICATION_FAILED",
    "UNKNOWN_PRODUCER_ID", "REASSIGNMENT_IN_PROGRESS", "DELEGATION_TOKEN_AUTH_DISABLED",
    "DELEGATION_TOKEN_NOT_FOUND", "DELEGATION_TOKEN_OWNER_MISMATCH",
    "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", "DELEGATION_TOKEN_AUTHORIZATION_FAILED",
    "DELEGATION_TOKEN_EXPIRED", "INVALID_PRINCIPAL_TYPE", "NON_EMPTY_GROUP", "GROUP_ID_NOT_FOUND",
    "FETCH_SESSION_ID_NOT_FOUND", "INVALID_FETCH_SESSION_EPOCH", "LISTENER_NOT_FOUND",
    "TOPIC_DELETION_DISABLED", "FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH",
    "UNSUPPORTED_COMPRESSION_TYPE", "STALE_BROKER_EPOCH", "OFFSET_NOT_AVAILABLE",
    "MEMBER_ID_REQUIRED", "PREFERRED_LEADER_NOT_AVAILABLE", "GROUP_MAX_SIZE_REACHED",
    "FENCED_INSTANCE_ID", "ELIGIBLE_LEADERS_NOT_AVAILABLE", "ELECTION_NOT_NEEDED",
    "NO_REASSIGNMENT_IN_PROGRESS", "GROUP_SUBSCRIBED_TO_TOPIC", "INVALID_RECORD",
    "UNSTABLE_OFFSET_COMMIT", "THROTTLING_QUOTA_EXCEEDED", "PRODUCER_FENCED",
    "RESOURCE_NOT_FOUND", "DUPLICATE_RESOURCE", "UNACCEPTABLE_CREDENTIAL",
    "INCONSISTENT_VOTER_SET", "INVALID_UPDATE_VERSION", "FEATURE_UPDATE_FAILED",
    "PRINCIPAL_DESERIALIZATION_FAILURE", "SNAPSHOT_NOT_FOUND", "POSITION_OUT_OF_RANGE",
    "UNKNOWN_TOPIC_ID", "DUPLICATE_BROKER_REGISTRATION", "BROKER_ID_NOT_REGISTERED",
    "INCONSISTENT_TOPIC_ID", "INCONSISTENT_CLUSTER_ID", "TRANSACTIONAL_ID_NOT_FOUND",
    "FETCH_SESSION_TOPIC_ID_ERROR", "INELIGIBLE_REPLICA", "NEW_LEADER_ELECTED",
    "OFFSET_MOVED_TO_TIERED_STORAGE", "FENCED_MEMBER_EPOCH", "UNRELEASED_INSTANCE_ID",
    "UNSUPPORTED_ASSIGNOR", "STALE_MEMBER_EPOCH",
};

/* "E100" .. "E999": built at compile time, no formatting, no writable state. */
#define E3_(a, b, c) "E" #a #b #c
#define E10_(a, b) E3_(a, b, 0), E3_(a, b, 1), E3_(a, b, 2), E3_(a, b, 3), E3_(a, b, 4), \
    E3_(a, b, 5), E3_(a, b, 6), E3_(a, b, 7), E3_(a, b, 8), E3_(a, b, 9)
#define E100_(a) E10_(a, 0), E10_(a, 1), E10_(a, 2), E10_(a, 3), E10_(a, 4), E10_(a, 5), \
    E10_(a, 6), E10_(a, 7), E10_(a, 8), E10_(a, 9)
static const char error_numbers[900][5] = {
    E100_(1), E100_(2), E100_(3), E100_(4), E100_(5), E100_(6), E100_(7), E100_(8), E100_(9),
};

const char *shim_kafka_error_name(int16_t code)
{
    int k = code + 1;
    if (k >= 0 && (size_t)k < sizeof(error_names) / sizeof(error_names[0]))
        return error_names[k];
    if (code >= 100 && code <= 999)
        return error_numbers[code - 100];
    return "E_OTHER";
}

const char *shim_kafka_ev_name(int type)
{
    static const char *const names[SHIM_KAFKA_EV_COUNT] = {
        "NONE", "REQ", "PRODUCE_RECORDS", "FETCH_OFFSET", "COMMIT", "REQ_DONE", "RESP",
        "PRODUCE_ACK", "FETCH_RECORDS", "LIST_OFFSET", "TOPIC", "COMMIT_ACK", "COMMITTED",
        "RESP_DONE",
    };
    if (type < 0 || type >= SHIM_KAFKA_EV_COUNT)
        return "?";
    return names[type];
}

/* ---------------------------------------------------------------- topic map */

static int id_is_zero(const uint8_t id[16])
{
    unsigned k;
    for (k = 0; k < 16; k++)
        if (id[k])
            return 0;
    return 1;
}

int shim_kafka_map_learn(struct shim_kafka_topic_map *m, const struct shim_kafka_event *ev)
{
    unsigned k, slot = SHIM_KAFKA_MAP_CAP;
    if (ev->type != SHIM_KAFKA_EV_TOPIC || !(ev->flags & SHIM_KAFKA_F_TOPIC_ID) ||
        (ev->flags & (SHIM_KAFKA_F_TOPIC_TRUNC | SHIM_KAFKA_F_TOPIC_NULL)) || ev->topic_len == 0 ||
        ev->topic_len > SHIM_KAFKA_NAME_CAP || id_is_zero(ev->topic_id))
        return 0;
    for (k = 0; k < SHIM_KAFKA_MAP_CAP; k++)
        if (m->len[k] && memcmp(m->id[k], ev->topic_id, 16) == 0) {
            if (m->len[k] == ev->topic_len && memcmp(m->name[k], ev->topic, ev->topic_len) == 0)
                return 0;
            slot = k;
            break;
        }
    if (slot == SHIM_KAFKA_MAP_CAP)
        for (k = 0; k < SHIM_KAFKA_MAP_CAP; k++)
            if (!m->len[k]) {
                slot = k;
                break;
            }
    if (slot == SHIM_KAFKA_MAP_CAP) {
        slot = m->clock % SHIM_KAFKA_MAP_CAP;
        m->clock = (uint8_t)((slot + 1) % SHIM_KAFKA_MAP_CAP);
    }
    memcpy(m->id[slot], ev->topic_id, 16);
    memcpy(m->name[slot], ev->topic, ev->topic_len);
    m->len[slot] = ev->topic_len;
    return 1;
}

int shim_kafka_map_resolve(const struct shim_kafka_topic_map *m, struct shim_kafka_event *ev)
{
    unsigned k;
    if (!(ev->flags & SHIM_KAFKA_F_TOPIC_ID) || ev->topic_len || id_is_zero(ev->topic_id))
        return 0;
    for (k = 0; k < SHIM_KAFKA_MAP_CAP; k++)
        if (m->len[k] && memcmp(m->id[k], ev->topic_id, 16) == 0) {
            ev->topic = m->name[k];
            ev->topic_len = m->len[k];
            return 1;
        }
    return 0;
}
