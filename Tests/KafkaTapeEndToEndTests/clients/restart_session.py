#!/usr/bin/env python3
"""The seed scenario across a gateway restart, with kafka-python. Prints one JSON object per line on stdout.

  restart_session.py BOOTSTRAP TOPIC COUNT [AFTER_SECONDS]

1. Creates TOPIC (one partition), produces COUNT known values ("seed-<i>") and waits for each ack.
2. Reads them back from offset 0: {"phase": "before", "offsets": [...], "values": [...]}.
3. Prints {"phase": "restart-now"} and waits for a line on stdin: the caller restarts the gateway.
4. With the same producer and consumer (they reconnect), reads from offset 0 again for up to AFTER_SECONDS
   (default 15):
   {"phase": "after", "offsets": [...], "values": [...]}; values are strings, null for a null value.
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
after_seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 15.0


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def read_from_start(consumer, tp, want, timeout):
    consumer.seek(tp, 0)
    got = []
    deadline = time.time() + timeout
    while len(got) < want and time.time() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            got.extend(records)
    return {"offsets": [r.offset for r in got],
            "values": [None if r.value is None else r.value.decode("utf-8", "replace") for r in got]}


admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="seed-admin")
admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
admin.close()

producer = KafkaProducer(bootstrap_servers=bootstrap, client_id="seed-producer", reconnect_backoff_max_ms=500)
for i in range(count):
    producer.send(topic, key=b"seed-%d" % i, value=b"seed-%d" % i, partition=0).get(timeout=10)
producer.flush()

consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="seed-reader", enable_auto_commit=False,
                         fetch_max_wait_ms=200, reconnect_backoff_max_ms=500)
tp = TopicPartition(topic, 0)
consumer.assign([tp])
say(dict(phase="before", **read_from_start(consumer, tp, count, 15)))

say({"phase": "restart-now"})
sys.stdin.readline()

say(dict(phase="after", **read_from_start(consumer, tp, count, after_seconds)))
consumer.close()
producer.close()
