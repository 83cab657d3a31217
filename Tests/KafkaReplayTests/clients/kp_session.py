#!/usr/bin/env python3
"""A short kafka-python session for replay/serve tests: create a topic (1 partition), produce N
records with an idempotent producer, consume them with a consumer group, commit, close.

Usage: kp_session.py BOOTSTRAP TOPIC [--records N] [--group G] [--no-create] [--no-produce] [--no-consume]
                     [--flush-each]

Topics are never auto-created (allow_auto_create_topics=False): a replay against a cluster without
the topic must see UNKNOWN_TOPIC_OR_PARTITION, not a fresh topic. The records go out in one Produce
request (a long linger, ended by the flush), so every run batches alike: with no linger, how many
records the sender thread found queued depended on timing, and a serve run under load could send a
batch the recording never had. --flush-each sends one Produce request per record (for throughput
measurements).

Prints one JSON object on stdout with what the client observed (produced offsets, consumed records,
committed offset), so two runs can be compared byte for byte. Exit status 0 when every step worked.
"""
import argparse
import json
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

ap = argparse.ArgumentParser()
ap.add_argument("bootstrap")
ap.add_argument("topic")
ap.add_argument("--records", type=int, default=5)
ap.add_argument("--group", default="kt-kp-group")
ap.add_argument("--no-create", action="store_true")
ap.add_argument("--no-produce", action="store_true")
ap.add_argument("--no-consume", action="store_true")
ap.add_argument("--flush-each", action="store_true")
args = ap.parse_args()

result = {"client": "kafka-python"}
ok = True

if not args.no_create:
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap, client_id="kt-kp-admin")
    try:
        admin.create_topics([NewTopic(args.topic, num_partitions=1, replication_factor=1)])
        result["created"] = args.topic
    except Exception as e:  # noqa: BLE001 - report what the client saw
        result["created"] = "error: " + type(e).__name__
    admin.close()

if not args.no_produce:
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap, client_id="kt-kp-producer", enable_idempotence=True, acks="all",
        linger_ms=1000, allow_auto_create_topics=False)
    futures = []
    for i in range(args.records):
        futures.append(producer.send(args.topic, partition=0, key=f"k{i}".encode(), value=f"v{i}".encode(),
                                     headers=[("n", str(i).encode())], timestamp_ms=1_700_000_000_000 + i))
        if args.flush_each:
            producer.flush()
    producer.flush()
    produced = []
    for f in futures:
        try:
            md = f.get(timeout=10)
            produced.append([md.partition, md.offset])
        except Exception as e:  # noqa: BLE001
            produced.append("error: " + type(e).__name__)
            ok = False
    producer.close()
    result["produced"] = produced

if not args.no_consume:
    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap, group_id=args.group, client_id="kt-kp-consumer",
        auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=6000,
        heartbeat_interval_ms=1000, consumer_timeout_ms=8000, fetch_max_wait_ms=200, allow_auto_create_topics=False)
    consumer.subscribe([args.topic])
    consumed = []
    for m in consumer:
        consumed.append([m.partition, m.offset, m.timestamp, m.key.decode(), m.value.decode(),
                         [[k, v.decode()] for k, v in m.headers]])
        if len(consumed) == args.records:
            break
    consumer.commit()
    result["consumed"] = consumed
    result["committed"] = consumer.committed(TopicPartition(args.topic, 0))
    consumer.close()
    ok = ok and len(consumed) == args.records

print(json.dumps(result, sort_keys=True))
sys.exit(0 if ok else 1)
