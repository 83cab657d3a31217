#!/usr/bin/env python3
"""Short real client sessions for the pcap tests and fixtures.

Usage: sessions.py SESSION BOOTSTRAP        (SESSION: kafka-python | librdkafka | both)

kafka-python: admin creates topic `pcap-kp` (1 partition), a producer sends 5 records, an
`assign`ed consumer (no group) reads them back from offset 0.
librdkafka (confluent-kafka): AdminClient creates `pcap-rk` (1 partition), a producer with lz4
sends 5 records, an `assign`ed consumer reads them back.
Exits 0 when every record came back.
"""
import sys
import time


def kafka_python(bootstrap):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import KafkaAdminClient, NewTopic
    topic = "pcap-kp"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="pcap-kp-admin", request_timeout_ms=10000)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)], timeout_ms=10000)
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="pcap-kp-producer", acks="all",
                             request_timeout_ms=10000, max_block_ms=10000)
    for i in range(5):
        producer.send(topic, key=f"kp-key-{i}".encode(), value=(f"kp-value-{i}-" * 40).encode(), partition=0)
    producer.flush(timeout=10)
    producer.close(timeout=5)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="pcap-kp-consumer", group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=200,
                             request_timeout_ms=10000)
    got = 0
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + 15
        while got < 5 and time.monotonic() < deadline:
            for msgs in consumer.poll(timeout_ms=300).values():
                got += len(msgs)
    finally:
        consumer.close()
    return got == 5


def librdkafka(bootstrap):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = "pcap-rk"
    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "pcap-rk-admin"})
    for f in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)],
                                 operation_timeout=10, request_timeout=10).values():
        f.result(15)
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": "pcap-rk-producer", "acks": "all",
                         "linger.ms": 20, "compression.type": "lz4", "message.timeout.ms": 15000})
    for i in range(5):
        producer.produce(topic, key=f"rk-key-{i}".encode(), value=(f"rk-value-{i}-" * 40).encode(), partition=0)
    if producer.flush(15):
        return False
    consumer = Consumer({"bootstrap.servers": bootstrap, "client.id": "pcap-rk-consumer", "group.id": "pcap-rk-unused",
                         "enable.auto.commit": False, "enable.auto.offset.store": False,
                         "auto.offset.reset": "earliest", "fetch.wait.max.ms": 200})
    got = 0
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        deadline = time.monotonic() + 15
        while got < 5 and time.monotonic() < deadline:
            m = consumer.poll(0.3)
            if m is not None and not m.error():
                got += 1
    finally:
        consumer.close()
    return got == 5


def main():
    session, bootstrap = sys.argv[1], sys.argv[2]
    ok = True
    if session in ("kafka-python", "both"):
        ok = kafka_python(bootstrap) and ok
    if session in ("librdkafka", "both"):
        ok = librdkafka(bootstrap) and ok
    print(f"session {session}: {'ok' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
