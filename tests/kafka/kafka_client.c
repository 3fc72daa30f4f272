/*
 * kafka_client CODEC N_ORDERS N_DLQ CONSUME - a producer and a consumer
 * against librdkafka's mock cluster (real protocol, real loopback sockets,
 * in this process): creates "orders" (2 partitions) and "orders.dlq",
 * produces N_ORDERS records to orders (alternating partitions) and N_DLQ to
 * orders.dlq with compression CODEC (none, lz4, zstd), then a consumer
 * assigned to orders reads CONSUME records, commits, and closes. Prints
 * what it did, for the test to compare with promshim's metrics:
 *   produced orders N / produced orders.dlq M / consumed K / committed P O
 *
 * kafka_client serve - only the mock cluster (topic "events"), for kcat:
 * prints the bootstrap address and lives until killed.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what, const char *why)
{
    fprintf(stderr, "kafka_client: %s: %s\n", what, why);
    exit(1);
}

static rd_kafka_conf_t *conf(const char *bootstrap)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (bootstrap && rd_kafka_conf_set(c, "bootstrap.servers", bootstrap, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        die("conf", err);
    return c;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        die(k, err);
}

/* serve: only the mock cluster, for an outside client (kcat): prints its
 * bootstrap address, lives until killed */
__attribute__((noreturn)) static int serve(void)
{
    char err[256];
    rd_kafka_t *mk = rd_kafka_new(RD_KAFKA_PRODUCER, conf(NULL), err, sizeof(err));
    if (!mk)
        die("mock handle", err);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mk, 1);
    if (!mc)
        die("mock cluster", "cannot start");
    rd_kafka_mock_topic_create(mc, "events", 1, 1);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    for (;;)
        rd_kafka_poll(mk, 1000);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "serve"))
        return serve();
    if (argc != 5) {
        fprintf(stderr, "usage: %s CODEC N_ORDERS N_DLQ CONSUME\n", argv[0]);
        return 2;
    }
    const char *codec = argv[1];
    int n_orders = atoi(argv[2]), n_dlq = atoi(argv[3]), consume = atoi(argv[4]);
    char err[256];

    /* the mock cluster hangs off a handle of its own */
    rd_kafka_t *mk = rd_kafka_new(RD_KAFKA_PRODUCER, conf(NULL), err, sizeof(err));
    if (!mk)
        die("mock handle", err);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mk, 1);
    if (!mc)
        die("mock cluster", "cannot start");
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    rd_kafka_mock_topic_create(mc, "orders", 2, 1);
    rd_kafka_mock_topic_create(mc, "orders.dlq", 1, 1);

    /* producer */
    rd_kafka_conf_t *pc = conf(bootstrap);
    set(pc, "compression.codec", codec);
    set(pc, "linger.ms", "5");
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    if (!p)
        die("producer", err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n_orders + n_dlq; i++) {
        const char *topic = i < n_orders ? "orders" : "orders.dlq";
        int part = i < n_orders ? i % 2 : 0;
        char v[64];
        snprintf(v, sizeof(v), "message %d of the test, long enough to compress a bit", i);
        rd_kafka_resp_err_t e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                                  RD_KAFKA_V_VALUE(v, strlen(v)), RD_KAFKA_V_END);
        if (e)
            die("produce", rd_kafka_err2str(e));
        rd_kafka_poll(p, 0);
    }
    if (rd_kafka_flush(p, 10000))
        die("flush", "timed out");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("produced orders %d\nproduced orders.dlq %d\n", n_orders, n_dlq);
    if (getenv("KAFKA_CLIENT_TIMING")) /* for make bench: produce to end of flush */
        printf("produce_seconds %.6f\n", (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    rd_kafka_destroy(p);

    /* consumer: assigned to both partitions of orders from the start */
    rd_kafka_conf_t *cc = conf(bootstrap);
    set(cc, "group.id", "testgroup");
    set(cc, "enable.auto.commit", "false");
    set(cc, "auto.offset.reset", "earliest");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (!c)
        die("consumer", err);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(parts, "orders", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_topic_partition_list_add(parts, "orders", 1)->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(c, parts))
        die("assign", "failed");
    int got = 0, tries = 0;
    long next[2] = {0, 0};
    while (got < consume && tries++ < 200) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        if (!m->err && got < consume) {
            got++;
            next[m->partition] = (long)m->offset + 1;
        }
        rd_kafka_message_destroy(m);
    }
    /* commit exactly what was handed to the program */
    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(commit, "orders", 0)->offset = next[0];
    rd_kafka_topic_partition_list_add(commit, "orders", 1)->offset = next[1];
    rd_kafka_resp_err_t ce = rd_kafka_commit(c, commit, 0);
    printf("consumed %d\ncommitted %ld %ld\ncommit %s\n", got, next[0], next[1], rd_kafka_err2name(ce));
    rd_kafka_topic_partition_list_destroy(commit);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mk);
    return got == consume ? 0 : 1;
}
