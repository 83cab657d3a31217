#!/usr/bin/env python3
"""Real client sessions for KafkaTape's end-to-end tests. Prints one JSON object on stdout:
{"consumed": [[offset, key, value, headers], ...], "produced": N}.

  session.py kafka-python BOOTSTRAP TOPIC CODEC assign|group
  session.py librdkafka   BOOTSTRAP TOPIC CODEC assign|group [idempotent]
"""
import json
import sys

N = 20


def records():
    for i in range(N):
        key = None if i == 3 else f"key-{i}".encode()
        value = None if i == 5 else (b"" if i == 6 else (f"value-{i}-" * 8).encode())
        yield key, value, [("h", f"{i}".encode())]


def kafka_python(bootstrap, topic, codec, mode):
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="e2e-admin")
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="e2e-producer",
                             compression_type=None if codec == "none" else codec, linger_ms=20)
    for key, value, headers in records():
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    producer.close()
    common = dict(bootstrap_servers=bootstrap, client_id="e2e-consumer", auto_offset_reset="earliest",
                  enable_auto_commit=False, consumer_timeout_ms=10000)
    if mode == "group":
        consumer = KafkaConsumer(topic, group_id="e2e-group", session_timeout_ms=6000, heartbeat_interval_ms=1000, **common)
    else:
        consumer = KafkaConsumer(**common)
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
    out = []
    for m in consumer:
        out.append([m.offset, m.key.decode() if m.key is not None else None,
                    m.value.decode() if m.value is not None else None,
                    [[k, v.decode()] for k, v in (m.headers or [])]])
        if len(out) == N:
            break
    if mode == "group":
        consumer.commit()
    consumer.close()
    return out


def librdkafka(bootstrap, topic, codec, mode, idempotent):
    from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "e2e-admin"})
    for f in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
        f.result(15)
    # A long linger: nothing goes out before flush(), which sends all 20 records as one batch. Batches
    # cut by a timer would differ run to run, and a served run must send what the recording has. The
    # topic's metadata is fetched first, so no record waits in librdkafka's queue for unknown partitions
    # (records moved from there while flush() runs went out as a second batch in a loaded CI run).
    producer = Producer({"bootstrap.servers": bootstrap, "client.id": "e2e-producer", "compression.type": codec,
                         "linger.ms": 5000, "enable.idempotence": idempotent})
    if topic not in producer.list_topics(topic, timeout=15).topics:
        raise SystemExit(f"producer: no metadata for {topic}")
    for key, value, headers in records():
        producer.produce(topic, key=key, value=value, headers=headers)
    if producer.flush(15) != 0:
        raise SystemExit("producer did not flush")
    conf = {"bootstrap.servers": bootstrap, "client.id": "e2e-consumer", "group.id": "e2e-group",
            "auto.offset.reset": "earliest", "enable.auto.commit": False, "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 1000}
    consumer = Consumer(conf)
    if mode == "group":
        consumer.subscribe([topic])
    else:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    out = []
    import time
    # Ends as soon as all N arrive; the margin is for a served capture whose recorded Fetch waits are
    # replayed (serve --latency fetch) on a loaded machine: 20 s once ran out in a full-suite run.
    deadline = time.time() + 45
    while len(out) < N and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None or m.error():
            continue
        out.append([m.offset(), m.key().decode() if m.key() is not None else None,
                    m.value().decode() if m.value() is not None else None,
                    [[k, v.decode()] for k, v in (m.headers() or [])]])
    if mode == "group" and out:
        consumer.commit(asynchronous=False)
    consumer.close()
    return out


def main():
    lib, bootstrap, topic, codec, mode = sys.argv[1:6]
    idempotent = len(sys.argv) > 6 and sys.argv[6] == "idempotent"
    if lib == "kafka-python":
        out = kafka_python(bootstrap, topic, codec, mode)
    else:
        out = librdkafka(bootstrap, topic, codec, mode, idempotent)
    print(json.dumps({"consumed": out, "produced": N}))


if __name__ == "__main__":
    main()
