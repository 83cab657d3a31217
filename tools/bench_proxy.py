#!/usr/bin/env python3
"""Benchmark (not a test): librdkafka (confluent-kafka) produce throughput with 1 KB messages and
request latency, direct to Tansu and through `kafkatape record` (capture off and on), in one run,
reported as ratios. Every target runs against the same broker, with its own topic, in rotation.

  bench_proxy.py KAFKATAPE_BIN [--messages N] [--rounds R] [--latency-samples S]
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatape_testkit import Tansu, free_port  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def start_proxy(binary, upstream_port, capture):
    port = free_port()
    args = [binary, "record", "--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{upstream_port}"]
    args += ["--out", capture] if capture else ["--no-capture"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit("proxy did not start: " + p.stderr.read())


def stop_proxy(p):
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    return out


def throughput(bootstrap, topic, n):
    value = os.urandom(1024)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "batch.num.messages": 1000,
                  "queue.buffering.max.messages": 200000, "acks": 1, "compression.type": "none"})
    p.produce(topic, value)  # metadata and connection set-up outside the timed part
    p.flush(10)
    start = time.perf_counter()
    for _ in range(n):
        while True:
            try:
                p.produce(topic, value)
                break
            except BufferError:
                p.poll(0.001)
    left = p.flush(60)
    elapsed = time.perf_counter() - start
    if left:
        raise SystemExit(f"{left} messages not delivered")
    return n / elapsed


def latency(bootstrap, topic, samples):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": 1})
    p.produce(topic, b"warm")
    p.flush(10)
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        p.produce(topic, b"x" * 1024)
        p.flush(10)
        out.append((time.perf_counter() - t) * 1e6)
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--latency-samples", type=int, default=2000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kafkatape-bench-")
    results = {"direct": [], "proxy, capture off": [], "proxy, capture on": []}
    lat = {k: [] for k in results}
    capture_bytes = 0
    with Tansu() as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        topics = [f"bench-{i}" for i in range(args.rounds * 3)]
        for f in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
            f.result(15)
        t = iter(topics)
        for r in range(args.rounds):
            for target in results:
                topic = next(t)
                proxy = None
                bootstrap = broker.bootstrap
                capture = None
                if target != "direct":
                    capture = os.path.join(work, f"r{r}.ktape") if target.endswith("on") else None
                    proxy, port = start_proxy(args.binary, broker.port, capture)
                    bootstrap = f"127.0.0.1:{port}"
                results[target].append(throughput(bootstrap, topic, args.messages))
                lat[target].append(latency(bootstrap, topic, args.latency_samples))
                if proxy:
                    stop_proxy(proxy)
                if capture:
                    capture_bytes = max(capture_bytes, os.path.getsize(capture))
    base = statistics.median(results["direct"])
    base_p50 = statistics.median(x[0] for x in lat["direct"])
    print(f"librdkafka {args.messages} x 1 KB messages per run, {args.rounds} rounds, median of rounds")
    print(f"{'target':22} {'msgs/s':>10} {'MB/s':>8} {'ratio':>6} {'p50 us':>8} {'p99 us':>8} {'+p50 us':>8}")
    report = {}
    for target, xs in results.items():
        m = statistics.median(xs)
        p50 = statistics.median(x[0] for x in lat[target])
        p99 = statistics.median(x[1] for x in lat[target])
        print(f"{target:22} {m:10.0f} {m * 1024 / 1e6:8.1f} {m / base:6.3f} {p50:8.0f} {p99:8.0f} {p50 - base_p50:8.0f}")
        report[target] = {"msgsPerSec": m, "ratio": m / base, "p50us": p50, "p99us": p99}
    print(f"largest capture written: {capture_bytes / 1e6:.1f} MB")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
