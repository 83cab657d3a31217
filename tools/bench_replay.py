#!/usr/bin/env python3
"""Benchmark (not a test): `kafkatape replay --pace fast` requests/s, against `kafkatape serve` of the
same capture (KafkaTape on both ends) and against a live Tansu broker, several runs each.

  bench_replay.py KAFKATAPE_BIN [CAPTURE] [--runs N] [--requests N]

Without CAPTURE it first records one: librdkafka through `kafkatape record` to Tansu, N produce
requests of one 1 KB message each (flushed one at a time), then a consumer reading them back.
"""
import argparse
import os
import shutil
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatape_testkit import Tansu  # noqa: E402


def replay(binary, capture, port, out):
    r = subprocess.run([binary, "replay", capture, "--target", f"127.0.0.1:{port}", "--out", out],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit(f"replay exited {r.returncode}: {r.stderr[-1000:]}")
    m = re.search(r"requests: (\d+)/\d+ sent.*?elapsed: ([0-9.]+) s", r.stdout + r.stderr, re.S)
    if not m:
        raise SystemExit("no elapsed line in: " + r.stdout + r.stderr)
    return int(m.group(1)), float(m.group(2))


def serve(binary, capture):
    p = subprocess.Popen([binary, "serve", capture, "--listen", "127.0.0.1:0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        p.kill()
        raise SystemExit("serve did not start: " + line + p.stderr.read())
    return p, int(m.group(1))


def record_session(binary, path, n):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from bench_proxy import start_proxy, stop_process
    import time
    with Tansu() as broker:
        rec, port = start_proxy(binary, broker.port, "on", path)
        bootstrap = f"127.0.0.1:{port}"
        p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": 1})
        for i in range(n):
            p.produce("replay-bench", os.urandom(1024), partition=0)
            p.flush(10)
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "replay-bench", "enable.auto.commit": False})
        c.assign([TopicPartition("replay-bench", 0, 0)])
        got = 0
        deadline = time.time() + 60
        while got < n and time.time() < deadline:
            got += sum(1 for m in c.consume(100, 1) if not m.error())
        c.close()
        stop_process(rec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("capture", nargs="?")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--requests", type=int, default=2000)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kafkatape-bench-replay-")
    if not args.capture:
        args.capture = os.path.join(work, "session.ktape")
        record_session(args.binary, args.capture, args.requests)
    rates = {"serve (same capture)": [], "Tansu (live broker)": []}
    requests = 0
    for i in range(args.runs):
        p, port = serve(args.binary, args.capture)
        try:
            requests, seconds = replay(args.binary, args.capture, port, os.path.join(work, f"s{i}.ktape"))
            rates["serve (same capture)"].append(requests / seconds)
        finally:
            p.kill()
            p.wait()
        with Tansu() as broker:
            requests, seconds = replay(args.binary, args.capture, broker.port, os.path.join(work, f"t{i}.ktape"))
            rates["Tansu (live broker)"].append(requests / seconds)
    print(f"replay --pace fast of {args.capture} ({requests} requests), {args.runs} runs each, with --out")
    for target, xs in rates.items():
        print(f"  against {target:22} median {statistics.median(xs):8.0f} requests/s  (min {min(xs):.0f}, max {max(xs):.0f})")
    # The recorded session and the replays' captures are not kept (a capture given on the command line is not ours).
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
