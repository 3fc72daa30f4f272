/*
 * messaging.h - Kafka sessions: the events of a connection's two Kafka
 * parsers (shim/proto/kafka.c) become messaging metrics: operation
 * durations by topic, messages sent and consumed, consumer lag per
 * partition, dead-letter traffic.
 */
#ifndef SHIM_MESSAGING_H
#define SHIM_MESSAGING_H

#include <stddef.h>
#include <stdint.h>

#include "shim/conn.h"
#include "shim/proto/kafka.h"

#define SHIM_KAFKA_SESS_INFLIGHT 16 /* requests followed per connection */
#define SHIM_KAFKA_SESS_TOPIC 48    /* topic bytes kept per request */

struct shim_kafka_req {
    int32_t corr;       /* correlation id; 0 with t0 == 0: free */
    int16_t api;
    uint8_t topic_len;
    uint8_t used;
    uint64_t t0;
    char topic[SHIM_KAFKA_SESS_TOPIC];
};

struct shim_kafka_sess {
    struct shim_kafka req, resp;
    uint8_t clock;
    struct shim_kafka_req q[SHIM_KAFKA_SESS_INFLIGHT];
    /* the fetch offset of the last Fetch request per (topic, partition), for
     * the lag when a response brings no complete batch */
    struct {
        uint32_t topic_hash;
        int32_t partition;
        int64_t offset;
    } fetch[8];
};

int shim_kafka_start(struct shim_fd *e, struct shim_kafka_sess *s);
/* 0, or -EPROTO (not Kafka after all) */
int shim_kafka_data(struct shim_fd *e, struct shim_kafka_sess *s, enum shim_dir dir, const uint8_t *buf, size_t n);
void shim_kafka_end(struct shim_fd *e, struct shim_kafka_sess *s, int dir, int err);
int shim_kafka_inflight(const struct shim_kafka_sess *s);

/* dead-letter topic patterns (observability.kafka.dead_letter_patterns) */
void shim_kafka_config(const char *patterns);

#endif
