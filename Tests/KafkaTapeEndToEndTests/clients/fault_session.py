#!/usr/bin/env python3
"""Client sessions that make staged gateway bugs visible. Prints one JSON object on stdout.

  fault_session.py two-rounds BOOTSTRAP TOPIC    produce 5, consume, produce 5 more, consume: {"offsets": [...]}
  fault_session.py first-record BOOTSTRAP TOPIC  produce 5, time the consumer's first record: {"offsets": [...], "firstRecordSeconds": s}
  fault_session.py values BOOTSTRAP TOPIC        produce 5 known values, consume: {"values": [...]}
  fault_session.py schemas BOOTSTRAP TOPIC       a Schema-Registry-like session: register 10 schemas, read back from 0, commit
"""
import json
import os
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

mode, bootstrap, topic = sys.argv[1:4]
# TLS to the bootstrap when KAFKATAPE_SSL_CAFILE names the CA (hostname checked against the certificate).
SSL = {"security_protocol": "SSL", "ssl_cafile": os.environ["KAFKATAPE_SSL_CAFILE"], "ssl_check_hostname": True} \
    if os.environ.get("KAFKATAPE_SSL_CAFILE") else {}


def create_topic():
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="fault-admin", **SSL)
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    admin.close()


def produce(values, keys=None):
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id="fault-producer", **SSL)
    for i, v in enumerate(values):
        p.send(topic, key=(keys[i] if keys else None), value=v)
    p.flush()
    p.close()


def consumer(group=None, **extra):
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="fault-consumer", group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, fetch_max_wait_ms=200, session_timeout_ms=6000, heartbeat_interval_ms=1000,
                      **SSL, **extra)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    if group is None:
        c.seek_to_beginning(tp)
    return c, tp


def poll_until(c, records, want, timeout):
    deadline = time.time() + timeout
    while len(records) < want and time.time() < deadline:
        for batch in c.poll(timeout_ms=200).values():
            records.extend(batch)
    return records


create_topic()
if mode == "two-rounds":
    produce([f"first-{i}".encode() for i in range(5)])
    c, tp = consumer()
    got = poll_until(c, [], 5, 10)
    produce([f"second-{i}".encode() for i in range(5)])
    got = poll_until(c, got, 10, 6)
    c.close()
    print(json.dumps({"offsets": [m.offset for m in got]}))
elif mode == "first-record":
    produce([f"v-{i}".encode() for i in range(5)])
    c, tp = consumer()
    start = time.time()
    got = poll_until(c, [], 1, 15)
    first = time.time() - start
    got = poll_until(c, got, 5, 2)
    c.close()
    print(json.dumps({"offsets": [m.offset for m in got], "firstRecordSeconds": first}))
elif mode == "values":
    produce([f"value-{i}".encode() for i in range(5)])
    c, tp = consumer()
    got = poll_until(c, [], 5, 10)
    c.close()
    print(json.dumps({"values": [None if m.value is None else m.value.decode() for m in got]}))
elif mode == "highwater":
    produce([f"v-{i}".encode() for i in range(5)])
    c, tp = consumer()
    got = poll_until(c, [], 5, 10)
    hw = c.highwater(tp)
    c.close()
    print(json.dumps({"offsets": [m.offset for m in got], "highwater": hw}))
elif mode == "pipelined":
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id="fault-producer", linger_ms=0, batch_size=1,
                      max_in_flight_requests_per_connection=5, retries=0, request_timeout_ms=5000)
    futures = [p.send(topic, value=f"p-{i}".encode()) for i in range(40)]
    p.flush(timeout=20)
    errors = 0
    for f in futures:
        try:
            f.get(timeout=1)
        except Exception:
            errors += 1
    p.close(timeout=5)
    print(json.dumps({"sent": len(futures), "errors": errors}))
elif mode == "schemas":
    schemas = [json.dumps({"subject": f"subject-{i}-value", "version": 1, "id": i + 1,
                           "schema": json.dumps({"type": "record", "name": f"R{i}", "fields": [{"name": "f", "type": "string"}]})}).encode()
               for i in range(10)]
    keys = [json.dumps({"keytype": "SCHEMA", "subject": f"subject-{i}-value", "version": 1, "magic": 1}).encode() for i in range(10)]
    # Like a schema registry: each registration is its own synchronous write; the registry reads the
    # topic back from offset 0 after the first five, then reads its own later writes.
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id="schema-registry-producer")
    for key, value in list(zip(keys, schemas))[:5]:
        p.send(topic, key=key, value=value).get(timeout=10)
    c, tp = consumer(group="schema-registry")
    got = poll_until(c, [], 5, 4)
    for key, value in list(zip(keys, schemas))[5:]:
        p.send(topic, key=key, value=value).get(timeout=10)
    p.close()
    got = poll_until(c, got, 10, 1)
    if got:
        c.commit()
    c.close()
    print(json.dumps({"values": [None if m.value is None else m.value.decode() for m in got]}))
else:
    raise SystemExit(f"unknown mode {mode}")
