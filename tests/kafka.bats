#!/usr/bin/env bats
# Kafka: messages published and consumed per topic, publish latency,
# consumer lag per partition and dead-letter traffic, from the wire of
# librdkafka clients talking to librdkafka's mock cluster (the real
# protocol on real loopback sockets; no broker is packaged in Debian 12).

load 'helpers/common'

setup() {
    common_setup
    [[ -x "$REPO/build/kafka/kafka_client" ]] || skip "no build/kafka/kafka_client (librdkafka-dev missing at build time)"
}
teardown() { common_teardown; }

# run_client CODEC: 10 records to orders (2 partitions), 3 to orders.dlq,
# a consumer hands 7 to the program and commits them
run_client() {
    TF="$BATS_TEST_TMPDIR/k-$1.prom"
    tf_env "$TF"
    run "${TF_ENV[@]}" "$REPO/build/kafka/kafka_client" "$1" 10 3 7
    assert_success
    assert_line 'produced orders 10'
    assert_line 'consumed 7'
    TEXT=$(read_textfile "$TF")
    read -r _ C0 C1 <<<"$(grep '^committed ' <<<"$output")"
}

check_counts() {
    assert_metric_exact "$TEXT" messaging_client_sent_messages_total \
        'messaging_system="kafka",messaging_destination_name="orders"' 10
    assert_metric_exact "$TEXT" messaging_client_sent_messages_total \
        'messaging_system="kafka",messaging_destination_name="orders.dlq"' 3
    assert_metric_exact "$TEXT" messaging_dead_letter_messages_total 'messaging_destination_name="orders.dlq"' 3
    # librdkafka fetches whole batches ahead of the program: every record produced to orders came over the wire
    assert_metric_exact "$TEXT" messaging_client_consumed_messages_total \
        'messaging_system="kafka",messaging_destination_name="orders"' 10
    # lag: high watermark (5 per partition) minus the committed offset
    assert_metric_exact "$TEXT" messaging_kafka_consumer_lag 'messaging_destination_name="orders",partition="0"' $((5 - C0))
    assert_metric_exact "$TEXT" messaging_kafka_consumer_lag 'messaging_destination_name="orders",partition="1"' $((5 - C1))
    assert_metric "$TEXT" messaging_client_operation_duration_seconds_count \
        'messaging_operation_name="publish",messaging_destination_name="orders",error_type=""' \
        "$(metric_sum "$TEXT" messaging_client_operation_duration_seconds_count 'messaging_operation_name="publish",messaging_destination_name="orders"')"
    [[ "$(metric_sum "$TEXT" messaging_client_operation_duration_seconds_count 'messaging_operation_name="publish"')" -ge 2 ]]
    [[ "$(metric_sum "$TEXT" messaging_client_operation_duration_seconds_count 'messaging_operation_name="commit",messaging_destination_name="orders"')" -ge 1 ]]
    assert_metric "$TEXT" promshim_parse_errors_total '' 0
}

@test "kafka, plain batches: sent, consumed, dead-letter and lag per partition, exact" {
    run_client none
    check_counts
}

@test "kafka, lz4 batches (the record count is in the batch header)" {
    run_client lz4
    check_counts
}

@test "kafka, zstd batches" {
    run_client zstd
    check_counts
}

@test "kcat, an unmodified client, produces and consumes through the mock cluster" {
    command -v kcat >/dev/null || skip "kcat is not installed"
    start_bg mock "$REPO/build/kafka/kafka_client" serve
    wait_until 10 file_has "$BATS_TEST_TMPDIR/mock.out" ':'
    bootstrap=$(head -1 "$BATS_TEST_TMPDIR/mock.out")
    tf="$BATS_TEST_TMPDIR/kcat-p.prom"
    tf_env "$tf"
    run bash -c "seq 1 12 | $(printf '%q ' "${TF_ENV[@]}") kcat -b $bootstrap -t events -P"
    assert_success
    assert_metric_exact "$(read_textfile "$tf")" messaging_client_sent_messages_total \
        'messaging_system="kafka",messaging_destination_name="events"' 12
    tf="$BATS_TEST_TMPDIR/kcat-c.prom"
    tf_env "$tf"
    run "${TF_ENV[@]}" kcat -b "$bootstrap" -t events -C -o beginning -e -q
    assert_success
    assert_equal "$(wc -l <<<"$output")" 12
    assert_metric_exact "$(read_textfile "$tf")" messaging_client_consumed_messages_total \
        'messaging_system="kafka",messaging_destination_name="events"' 12
}

@test "a connection that is not Kafka at all, on a Kafka-looking frame, passes through" {
    port=$(free_port)
    start_echo "$port"
    tf="$BATS_TEST_TMPDIR/junk.prom"
    tf_env "$tf"
    # a size-prefixed frame that claims an ApiVersions request, then garbage
    run "${TF_ENV[@]}" "$PY" -c "
import socket, struct
s = socket.create_connection(('127.0.0.1', $port))
s.sendall(struct.pack('>ihhih', 20, 18, 3, 1, 7) + b'rdkafka' + b'\xff' * 60)
print(len(s.recv(10000)) > 0)"
    assert_success
    text=$(read_textfile "$tf")
    assert_metric "$text" promshim_parse_errors_total 'protocol="kafka"' 1
}
