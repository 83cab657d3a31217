#!/usr/bin/env python3
"""A short confluent-kafka (librdkafka) session for replay/serve tests: create a topic (1 partition),
produce N records with an idempotent producer, consume them with a consumer group, commit, close.

Usage: ck_session.py BOOTSTRAP TOPIC [--records N] [--group G] [--no-create]

The records go out in one Produce request (a long linger, ended by the flush), so every run batches
alike, whatever the timing of the producer's threads.

Prints one JSON object on stdout with what the client observed, so two runs can be compared.
"""
import argparse
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ap = argparse.ArgumentParser()
ap.add_argument("bootstrap")
ap.add_argument("topic")
ap.add_argument("--records", type=int, default=5)
ap.add_argument("--group", default="kt-ck-group")
ap.add_argument("--no-create", action="store_true")
args = ap.parse_args()

common = {"bootstrap.servers": args.bootstrap, "broker.address.family": "v4"}
result = {"client": "confluent-kafka"}
ok = True

if not args.no_create:
    admin = AdminClient(dict(common, **{"client.id": "kt-ck-admin"}))
    futures = admin.create_topics([NewTopic(args.topic, num_partitions=1, replication_factor=1)])
    try:
        futures[args.topic].result(10)
        result["created"] = args.topic
    except Exception as e:  # noqa: BLE001
        result["created"] = "error: " + str(e.args[0].name() if e.args else type(e).__name__)

produced = []


def delivered(err, msg):
    produced.append("error: " + err.name() if err else [msg.partition(), msg.offset()])


producer = Producer(dict(common, **{"client.id": "kt-ck-producer", "enable.idempotence": True, "linger.ms": 1000,
                               "allow.auto.create.topics": False}))
for i in range(args.records):
    producer.produce(args.topic, key=f"k{i}", value=f"v{i}", partition=0, headers=[("n", str(i))],
                     timestamp=1_700_000_000_000 + i, on_delivery=delivered)
producer.flush(15)
result["produced"] = produced
ok = ok and len(produced) == args.records and all(isinstance(p, list) for p in produced)

consumer = Consumer(dict(common, **{
    "client.id": "kt-ck-consumer", "group.id": args.group, "auto.offset.reset": "earliest",
    "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
    "fetch.wait.max.ms": 200}))
consumer.subscribe([args.topic])
consumed = []
deadline = time.monotonic() + 20
while len(consumed) < args.records and time.monotonic() < deadline:
    m = consumer.poll(0.5)
    if m is None or m.error():
        continue
    consumed.append([m.partition(), m.offset(), m.timestamp()[1], m.key().decode(), m.value().decode(),
                     [[k, v.decode()] for k, v in (m.headers() or [])]])
if consumed:
    consumer.commit(asynchronous=False)
committed = consumer.committed([TopicPartition(args.topic, 0)], timeout=10)
result["consumed"] = consumed
result["committed"] = committed[0].offset if committed else None
consumer.close()
ok = ok and len(consumed) == args.records

print(json.dumps(result, sort_keys=True))
sys.exit(0 if ok else 1)
