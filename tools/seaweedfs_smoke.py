#!/usr/bin/env python3
"""Real Kafka clients against SeaweedFS's Kafka gateway, across a graceful restart and a crash.

    .venv/bin/python3 tools/seaweedfs_smoke.py [--version 4.48|4.30] [--port 9093] [--skip-confluent]

Starts a cluster with kafkatape_testkit.SeaweedFS on --port (default 9093: the gateway advertises
127.0.0.1:9093 in Metadata whatever its port, so plain clients only work when it listens there),
then with kafka-python creates topic t1 (1 partition), produces 5 records and reads them back; with
confluent-kafka (librdkafka) does the same on t2 and also reads t1. Then `restart()` (graceful) and
`restart(graceful=False)` (SIGKILL), reading both topics again after each. Prints what each client
saw (offsets, keys, values, timestamps, errors) and the timings; exit 0 when every read returned the
5 records, 1 otherwise. Every client call has a timeout (reads give up after 15 s). --settle
seconds pass before each restart (default 10: the mq broker flushes to the filer every 5 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatape_testkit import SeaweedFS, port_is_free  # noqa: E402

N = 5
READ_SECONDS = 15


def log(msg: str) -> None:
    print(msg, flush=True)


def kp_create_and_produce(bootstrap: str, topic: str) -> None:
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000, client_id="smoke-admin")
    try:
        t0 = time.monotonic()
        res = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], timeout_ms=15000)
        log(f"  kafka-python CreateTopics {topic}: {getattr(res, 'topic_errors', res)} "
            f"({(time.monotonic() - t0) * 1000:.0f} ms)")
    finally:
        admin.close()
    prod = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0, request_timeout_ms=15000,
                         max_block_ms=15000, retries=2)
    try:
        t0 = time.monotonic()
        futs = [prod.send(topic, key=f"k{i}".encode(), value=f"value-{i}".encode()) for i in range(N)]
        for f in futs:
            md = f.get(timeout=20)
            log(f"  kafka-python produced {topic}[{md.partition}]@{md.offset} ts={md.timestamp}")
        log(f"  kafka-python produce of {N}: {(time.monotonic() - t0) * 1000:.0f} ms")
    finally:
        prod.close(timeout=5)


def kp_read(bootstrap: str, topic: str) -> list[tuple]:
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", request_timeout_ms=30000, fetch_max_wait_ms=500,
                      consumer_timeout_ms=1000)
    try:
        parts = c.partitions_for_topic(topic) or {0}
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        first = sorted((t.partition, o) for t, o in c.beginning_offsets(tps).items())
        end = sorted((t.partition, o) for t, o in c.end_offsets(tps).items())
        log(f"  kafka-python {topic}: beginning offsets {first}, end offsets {end}")
        c.assign(tps)
        c.seek_to_beginning(*tps)
        got: list[tuple] = []
        deadline = time.monotonic() + READ_SECONDS
        while len(got) < N and time.monotonic() < deadline:
            for _tp, msgs in c.poll(timeout_ms=1000).items():
                got += [(m.partition, m.offset, m.key, m.value, m.timestamp, m.timestamp_type) for m in msgs]
        return got
    finally:
        c.close()


def ck_produce(bootstrap: str, topic: str) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    fs = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], request_timeout=15)
    for t, f in fs.items():
        try:
            f.result(timeout=20)
            log(f"  confluent-kafka CreateTopics {t}: ok")
        except Exception as e:  # noqa: BLE001
            log(f"  confluent-kafka CreateTopics {t}: {e}")
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0, "message.timeout.ms": 20000})
    reports: list[str] = []

    def dr(err, msg):
        reports.append(f"err={err}" if err else f"{msg.topic()}[{msg.partition()}]@{msg.offset()} ts={msg.timestamp()}")

    for i in range(N):
        p.produce(topic, key=f"k{i}".encode(), value=f"value-{i}".encode(), on_delivery=dr)
    left = p.flush(25)
    for r in reports:
        log(f"  confluent-kafka produced {r}")
    if left:
        log(f"  confluent-kafka: {left} message(s) not delivered after 25 s")


def ck_read(bootstrap: str, topic: str) -> list[tuple]:
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"smoke-{time.time_ns()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        md = c.list_topics(topic, timeout=15).topics.get(topic)
        parts = sorted(md.partitions) if md is not None and md.partitions else [0]
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        got: list[tuple] = []
        deadline = time.monotonic() + READ_SECONDS
        while len(got) < N and time.monotonic() < deadline:
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                log(f"  confluent-kafka {topic}: {m.error()}")
                continue
            got.append((m.partition(), m.offset(), m.key(), m.value(), m.timestamp()))
        return got
    finally:
        c.close()


def check(label: str, got: list[tuple]) -> bool:
    values = sorted(g[3] for g in got)
    ok = values == [f"value-{i}".encode() for i in range(N)]
    log(f"  {label}: {len(got)} record(s) {'OK' if ok else 'MISMATCH'}")
    for g in got:
        log(f"      {g}")
    return ok


def read_all(bootstrap: str, confluent: bool) -> bool:
    ok = True
    for label, fn, topic in [("kafka-python t1", kp_read, "t1")] + \
            ([("confluent-kafka t1", ck_read, "t1"), ("confluent-kafka t2", ck_read, "t2")] if confluent else []):
        t0 = time.monotonic()
        try:
            got = fn(bootstrap, topic)
        except Exception:  # noqa: BLE001
            log(f"  {label}: FAILED\n" + traceback.format_exc())
            ok = False
            continue
        ok = check(f"{label} ({(time.monotonic() - t0):.1f}s)", got) and ok
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", default="4.48")
    ap.add_argument("--port", type=int, default=9093)
    ap.add_argument("--skip-confluent", action="store_true")
    ap.add_argument("--settle", type=float, default=10.0,
                    help="seconds to wait after producing and before each restart (the mq broker flushes "
                    "its in-memory log to the filer every 5 s; default 10)")
    args = ap.parse_args()
    if not port_is_free(args.port):
        log(f"127.0.0.1:{args.port} is in use")
        return 2
    confluent = not args.skip_confluent
    ok = True
    with SeaweedFS(version=args.version, port=args.port, verbose=True) as sw:
        log(f"SeaweedFS {args.version} on {sw.bootstrap} (netns={sw.netns}): start {sw.timings['start']:.1f}s, "
            f"advertises {sw.advertised}")
        try:
            kp_create_and_produce(sw.bootstrap, "t1")
        except Exception:  # noqa: BLE001
            log("  kafka-python produce FAILED\n" + traceback.format_exc())
            ok = False
        if confluent:
            try:
                ck_produce(sw.bootstrap, "t2")
            except Exception:  # noqa: BLE001
                log("  confluent-kafka produce FAILED\n" + traceback.format_exc())
                ok = False
        log("read back:")
        ok = read_all(sw.bootstrap, confluent) and ok
        for graceful in (True, False):
            time.sleep(args.settle)
            sw.restart(graceful=graceful)
            log(f"after {'graceful restart' if graceful else 'crash (SIGKILL)'} "
                f"({sw.timings['restart']:.1f}s, {sw.gateway_attempts} gateway launch(es)):")
            ok = read_all(sw.bootstrap, confluent) and ok
        log("registry requests:\n" + open(sw.log_path("registry")).read())
        t0 = time.monotonic()
    log(f"stop: {time.monotonic() - t0:.1f}s")
    log("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
