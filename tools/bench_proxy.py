#!/usr/bin/env python3
"""Benchmark (not a test): librdkafka (confluent-kafka) produce and consume throughput with 1 KB
messages and request latency, direct to Tansu, through a bare NIO relay (the floor: `kafkatape-bench
relay`), through the same relay appending every byte it forwards to a file (`relay --tee`: the floor for
capture on), through Tansu's own proxy (`tansu proxy`, the same binary as the broker: an anchor from
outside this project), and through `kafkatape record` (capture off, on, flight recorder), in one run,
reported as ratios to direct, with the relay's or proxy's CPU time per message. With
`--baseline-binary`, a second kafkatape (an older build) runs with capture off and on in the same rotation,
so a change is measured side by side with what it changes. The targets run in rotation (each round
starting one target later), each with its own topic; all but the relay share one broker (the relay
gets a second one that advertises it).

  bench_proxy.py KAFKATAPE_BIN [--bench-binary KAFKATAPE_BENCH_BIN] [--baseline-binary OLD_KAFKATAPE_BIN]
                 [--no-tansu-proxy] [--messages N] [--rounds R] [--latency-samples S] [--latency-only]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatape_testkit import Tansu, find_tansu, free_port  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def wait_listening(port, p, what):
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.05)
    p.kill()
    raise SystemExit(f"{what} did not start: " + (p.stderr.read() if p.stderr else ""))


def start_proxy(binary, upstream_port, mode, capture):
    port = free_port()
    args = [binary, "record", "--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{upstream_port}"]
    if mode == "off":
        args += ["--no-capture"]
    elif mode == "on":
        args += ["--out", capture]
    else:  # flight recorder: an 8 MB ring per connection, written out when a response carries an
        # error code (each response is decoded to look); none does here, so nothing reaches the file
        args += ["--out", capture, "--ring-bytes", str(8 << 20), "--trigger", "error-code"]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_listening(port, p, "proxy")
    return p, port


def start_tansu_proxy(origin_port):
    """Tansu's own proxy in front of the broker; it advertises itself in Metadata like kafkatape."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    p = subprocess.Popen([find_tansu(), "proxy", "--listener-url", url, "--advertised-listener-url", url,
                          "--origin-url", f"tcp://127.0.0.1:{origin_port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_listening(port, p, "tansu proxy")
    return p, port


def stop_process(p):
    p.send_signal(signal.SIGINT)
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()


def cpu_seconds(pid):
    """On-CPU time of every thread of `pid` (ns precision, from /proc/PID/task/*/schedstat)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def produce_throughput(bootstrap, topic, n, value):
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


def consume_throughput(bootstrap, topic, n):
    """Reads the topic's first n + 1 messages (the warm-up one included) from offset 0."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench", "enable.auto.commit": False,
                  "fetch.wait.max.ms": 10})
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    first = c.consume(1, 10)  # connection set-up outside the timed part
    got += sum(1 for m in first if not m.error())
    start = time.perf_counter()
    deadline = time.time() + 60
    while got < n + 1 and time.time() < deadline:
        got += sum(1 for m in c.consume(1000, 1) if not m.error())
    elapsed = time.perf_counter() - start
    c.close()
    if got < n + 1:
        raise SystemExit(f"consumed {got} of {n + 1} messages")
    return n / elapsed


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def idle_connections(binary, upstream_port, capture, count):
    """RSS of `record` (capture on) before and after `count` idle client connections (each with its
    upstream connection), and after they close."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
    proxy, port = start_proxy(binary, upstream_port, "on", capture)
    try:
        time.sleep(0.5)
        before = rss_mb(proxy.pid)
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        deadline = time.time() + 20
        # Every client connection has its upstream connection once the proxy holds 2 sockets per client.
        while time.time() < deadline and len(os.listdir(f"/proc/{proxy.pid}/fd")) < 2 * count:
            time.sleep(0.1)
        time.sleep(0.5)
        fds = len(os.listdir(f"/proc/{proxy.pid}/fd"))
        during = rss_mb(proxy.pid)
        for s in socks:
            s.close()
        time.sleep(1.0)
        after = rss_mb(proxy.pid)
    finally:
        stop_process(proxy)
    return before, during, after, fds


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


TARGETS = ["direct", "bare relay (floor)", "relay + write (floor)", "tansu proxy (anchor)",
           "proxy, capture off", "proxy, capture on",
           "proxy, flight recorder", "baseline, capture off", "baseline, capture on"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--bench-binary", help="kafkatape-bench, for the bare relay target")
    ap.add_argument("--baseline-binary", help="an older kafkatape, run with capture off and on in the same rotation")
    ap.add_argument("--no-tansu-proxy", action="store_true", help="leave out Tansu's own proxy")
    ap.add_argument("--only", help="targets to run, separated by ';' (direct always runs)")
    ap.add_argument("--latency-only", action="store_true",
                    help="only the latency samples, with the relay's or proxy's CPU time per request")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--latency-samples", type=int, default=2000)
    ap.add_argument("--idle-connections", type=int, default=1000)
    args = ap.parse_args()
    targets = [t for t in TARGETS if (args.bench_binary or "relay" not in t)
               and (args.baseline_binary or not t.startswith("baseline"))
               and not (args.no_tansu_proxy and t.startswith("tansu"))]
    if args.only:
        wanted = {w.strip() for w in args.only.split(";")}
        targets = [t for t in targets if t == "direct" or t in wanted or t.split(" (")[0] in wanted]
    work = tempfile.mkdtemp(prefix="kafkatape-bench-")
    produced = {t: [] for t in targets}
    consumed = {t: [] for t in targets}
    lat = {t: [] for t in targets}
    cpu = {t: [] for t in targets}
    capture_bytes = 0
    value = os.urandom(1024)
    relay_port = free_port()
    # The relay cannot rewrite addresses, so it gets a broker of its own that advertises the relay.
    with Tansu() as broker, Tansu(advertised_port=relay_port) as relayed:
        relay = None
        topics = [f"bench-{i}" for i in range(args.rounds * len(targets))]
        # The relayed broker advertises the relay: reachable only while a relay runs.
        if args.bench_binary:
            relay = subprocess.Popen([args.bench_binary, "relay", str(relay_port), str(relayed.port)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_listening(relay_port, relay, "relay")
        for b in (broker, relayed) if args.bench_binary else (broker,):
            admin = AdminClient({"bootstrap.servers": b.bootstrap})
            for f in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).values():
                f.result(15)
        if relay:
            relay.kill()
            relay.wait()
            relay = None
        t = iter(topics)
        try:
            for r in range(args.rounds):
                # Each round starts at the next target, so every target runs in every position once
                # in len(targets) rounds (the broker holds more data as the run goes on).
                for target in targets[r % len(targets):] + targets[:r % len(targets)]:
                    topic = next(t)
                    proxy = None
                    pid = None
                    bootstrap = broker.bootstrap
                    capture = os.path.join(work, f"r{r}-t{targets.index(target)}.ktape")
                    if target.startswith("proxy") or target.startswith("baseline"):
                        mode = {"proxy, capture off": "off", "proxy, capture on": "on",
                                "baseline, capture off": "off", "baseline, capture on": "on"}.get(target, "ring")
                        binary = args.baseline_binary if target.startswith("baseline") else args.binary
                        proxy, port = start_proxy(binary, broker.port, mode, capture)
                        bootstrap, pid = f"127.0.0.1:{port}", proxy.pid
                    elif target.startswith("tansu"):
                        proxy, port = start_tansu_proxy(broker.port)
                        bootstrap, pid = f"127.0.0.1:{port}", proxy.pid
                    elif "relay" in target:
                        # A relay of its own per round, on the port the relayed broker advertises; with
                        # "+ write" it appends every byte it forwards to a file (the floor for capture on).
                        tee = ["--tee", capture] if "write" in target else []
                        relay = subprocess.Popen([args.bench_binary, "relay", str(relay_port), str(relayed.port)] + tee,
                                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                        wait_listening(relay_port, relay, "relay")
                        bootstrap, pid = f"127.0.0.1:{relay_port}", relay.pid
                    c0 = cpu_seconds(pid) if pid else 0
                    if args.latency_only:
                        lat[target].append(latency(bootstrap, topic, args.latency_samples))
                        if pid:
                            cpu[target].append((cpu_seconds(pid) - c0) / args.latency_samples * 1e6)
                    else:
                        produced[target].append(produce_throughput(bootstrap, topic, args.messages, value))
                        consumed[target].append(consume_throughput(bootstrap, topic, args.messages))
                        if pid:
                            cpu[target].append((cpu_seconds(pid) - c0) / (2 * args.messages) * 1e6)
                        lat[target].append(latency(bootstrap, topic, args.latency_samples))
                    if proxy:
                        stop_process(proxy)
                    if relay:
                        relay.kill()
                        relay.wait()
                        relay = None
                    if target.startswith("proxy") and os.path.exists(capture):
                        capture_bytes = max(capture_bytes, os.path.getsize(capture))
            idle = idle_connections(args.binary, broker.port, os.path.join(work, "idle.ktape"), args.idle_connections) \
                if args.idle_connections else None
        finally:
            if relay:
                relay.kill()
                relay.wait()
    if args.latency_only:
        base_p50 = statistics.median(x[0] for x in lat["direct"])
        print(f"librdkafka, {args.latency_samples} produce requests (1 KB, acks=1, one at a time) per run, {args.rounds} rounds, "
              "median of rounds; cpu = the relay's or proxy's on-CPU time per request and its response")
        print(f"{'target':25} {'p50 us':>7} {'p99 us':>7} {'+p50 us':>7} {'cpu us':>7}")
        report = {}
        for target in targets:
            p50 = statistics.median(x[0] for x in lat[target])
            p99 = statistics.median(x[1] for x in lat[target])
            c = statistics.median(cpu[target]) if cpu[target] else None
            print(f"{target:25} {p50:7.0f} {p99:7.0f} {p50 - base_p50:7.0f} {('%7.1f' % c) if c is not None else '      -'}")
            report[target] = {"p50us": p50, "p99us": p99, "cpuUsPerRequest": c,
                              "rounds": {"p50": [x[0] for x in lat[target]], "cpu": cpu[target]}}
        print(json.dumps(report))
        shutil.rmtree(work, ignore_errors=True)
        return
    base_p = statistics.median(produced["direct"])
    base_c = statistics.median(consumed["direct"])
    base_p50 = statistics.median(x[0] for x in lat["direct"])
    print(f"librdkafka, {args.messages} x 1 KB messages produced then consumed per run, {args.rounds} rounds, "
          "median of rounds; cpu = the relay's or proxy's on-CPU time per message moved (produce + consume)")
    print(f"{'target':25} {'produce/s':>10} {'ratio':>6} {'consume/s':>10} {'ratio':>6} {'p50 us':>7} {'p99 us':>7} "
          f"{'+p50 us':>7} {'cpu us':>7}")
    report = {}
    for target in targets:
        pm, cm = statistics.median(produced[target]), statistics.median(consumed[target])
        p50 = statistics.median(x[0] for x in lat[target])
        p99 = statistics.median(x[1] for x in lat[target])
        c = statistics.median(cpu[target]) if cpu[target] else None
        print(f"{target:25} {pm:10.0f} {pm / base_p:6.3f} {cm:10.0f} {cm / base_c:6.3f} {p50:7.0f} {p99:7.0f} "
              f"{p50 - base_p50:7.0f} {('%7.2f' % c) if c is not None else '      -'}")
        report[target] = {"produceMsgsPerSec": pm, "produceRatio": pm / base_p, "consumeMsgsPerSec": cm,
                          "consumeRatio": cm / base_c, "p50us": p50, "p99us": p99, "cpuUsPerMessage": c,
                          "rounds": {"produce": produced[target], "consume": consumed[target], "cpu": cpu[target]}}
    print(f"largest capture written: {capture_bytes / 1e6:.1f} MB")
    if idle:
        before, during, after, fds = idle
        print(f"record (capture on) RSS: {before:.1f} MB idle, {during:.1f} MB with {args.idle_connections} idle client "
              f"connections ({fds} fds), {after:.1f} MB after they closed: "
              f"{(during - before) * 1024 / args.idle_connections:.1f} KB per connection pair")
        report["idleConnections"] = {"count": args.idle_connections, "rssBeforeMB": before, "rssDuringMB": during,
                                     "rssAfterMB": after, "fds": fds}
    print(json.dumps(report))
    # The run's captures (about 1 GB at the defaults) are not kept.
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
