#!/usr/bin/env python3
"""Soak benchmark (not a test): `kafkatape record` (capture on) in front of a Tansu broker, then
  1. SEQUENTIAL short connections, one after another: connect, ApiVersions v0, read the answer, close;
  2. CONCURRENT connections open at once, each asking ApiVersions, then all closed (ROUNDS times);
and the proxy's resident memory (VmRSS) after the first 1,000 connections, after all the sequential
ones, and after each concurrent round (each once the connections have closed). Target (issue #14): the
final RSS within 4 MB of the RSS after the first 1,000.

  bench_soak.py KAFKATAPE_BIN [--sequential N] [--concurrent N] [--concurrent-rounds ROUNDS]
"""
import argparse
import json
import os
import shutil
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafkatape_testkit import Tansu, free_port  # noqa: E402


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def api_versions(correlation_id):
    """An ApiVersions v0 request frame (header v1, client id "soak", empty body)."""
    body = struct.pack(">hhih", 18, 0, correlation_id, 4) + b"soak"
    return struct.pack(">i", len(body)) + body


def read_frame(s):
    def exactly(n):
        out = b""
        while len(out) < n:
            chunk = s.recv(n - len(out))
            if not chunk:
                raise SystemExit("the proxy closed a connection before answering")
            out += chunk
        return out
    size = struct.unpack(">i", exactly(4))[0]
    return exactly(size)


def ask(s, correlation_id):
    s.sendall(api_versions(correlation_id))
    answer = read_frame(s)
    if struct.unpack(">i", answer[:4])[0] != correlation_id:
        raise SystemExit("an answer with the wrong correlation id")


def settle(pid, seconds=2.0):
    """RSS once the connections just closed are gone (the proxy closes its side asynchronously)."""
    deadline = time.time() + 10
    while time.time() < deadline and len(os.listdir(f"/proc/{pid}/fd")) > 64:
        time.sleep(0.1)
    time.sleep(seconds)
    return rss_mb(pid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--sequential", type=int, default=100_000)
    ap.add_argument("--concurrent", type=int, default=1000)
    ap.add_argument("--concurrent-rounds", type=int, default=3)
    ap.add_argument("--malloc-trim", action="store_true",
                    help="at the end, make the proxy call malloc_trim(0) (through gdb) and measure again")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * args.concurrent + 256
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need), hard))
    work = tempfile.mkdtemp(prefix="kafkatape-soak-")
    capture = os.path.join(work, "soak.ktape")
    with Tansu() as broker:
        port = free_port()
        proxy = subprocess.Popen([args.binary, "record", "--listen", f"127.0.0.1:{port}",
                                  "--upstream", f"127.0.0.1:{broker.port}", "--out", capture],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.time() > deadline or proxy.poll() is not None:
                        raise SystemExit("the proxy did not start: " + proxy.stderr.read())
                    time.sleep(0.05)
            idle = rss_mb(proxy.pid)
            marks = {}
            start = time.perf_counter()
            c0 = cpu_seconds(proxy.pid)
            for i in range(args.sequential):
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    ask(s, i)
                if i + 1 == 1000:
                    marks["after1000"] = settle(proxy.pid)
                    start1000 = time.perf_counter()
                if (i + 1) % 10_000 == 0:
                    print(f"  {i + 1:,} connections, {time.perf_counter() - start:.0f} s: RSS {rss_mb(proxy.pid):.1f} MB",
                          flush=True)
            elapsed = time.perf_counter() - start
            rate = (args.sequential - 1000) / (time.perf_counter() - start1000) if args.sequential > 1000 else 0
            cpu_per_conn = (cpu_seconds(proxy.pid) - c0) / args.sequential * 1e6
            marks["afterSequential"] = settle(proxy.pid)
            # The concurrent round is repeated: memory the allocator keeps after the first round (its
            # high-water mark) shows as a step once; a leak grows with every round.
            rounds = []
            for _ in range(args.concurrent_rounds):
                socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(args.concurrent)]
                for i, s in enumerate(socks):
                    s.sendall(api_versions(i))
                for i, s in enumerate(socks):
                    answer = read_frame(s)
                    if struct.unpack(">i", answer[:4])[0] != i:
                        raise SystemExit("an answer with the wrong correlation id")
                during = rss_mb(proxy.pid)
                for s in socks:
                    s.close()
                rounds.append((during, settle(proxy.pid)))
            marks["afterConcurrent"] = rounds[0][1]
            marks["afterLastConcurrent"] = rounds[-1][1]
            if args.malloc_trim:
                # Diagnostic: memory that glibc's malloc holds free (not live objects) goes back to the
                # system with malloc_trim; what stays is in use.
                subprocess.run(["gdb", "-p", str(proxy.pid), "-batch", "-ex", "call (int) malloc_trim(0)"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
                marks["afterMallocTrim"] = settle(proxy.pid, 1.0)
        finally:
            proxy.send_signal(signal.SIGINT)
            try:
                proxy.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proxy.kill()
                proxy.communicate()
    size = os.path.getsize(capture) if os.path.exists(capture) else 0
    growth = marks["afterConcurrent"] - marks["after1000"]
    print(f"kafkatape record (capture on) in front of Tansu; {args.sequential} sequential short connections "
          f"(ApiVersions each) in {elapsed:.0f} s ({rate:.0f}/s, {cpu_per_conn:.0f} us proxy CPU each), "
          f"then {args.concurrent} concurrent")
    print(f"RSS idle {idle:.1f} MB; after the first 1,000: {marks['after1000']:.1f} MB; "
          f"after {args.sequential:,}: {marks['afterSequential']:.1f} MB")
    for n, (during, after) in enumerate(rounds):
        print(f"concurrent round {n + 1}: {during:.1f} MB with {args.concurrent} open, {after:.1f} MB after they closed")
    print(f"growth after the first 1,000 (after the first concurrent round): {growth:+.1f} MB (target: within 4 MB) -> "
          f"{'met' if abs(growth) <= 4 else 'MISSED'}; after the last round: "
          f"{marks['afterLastConcurrent'] - marks['after1000']:+.1f} MB")
    if "afterMallocTrim" in marks:
        print(f"after malloc_trim(0) in the proxy: {marks['afterMallocTrim']:.1f} MB")
    print(f"capture: {size / 1e6:.1f} MB")
    print(json.dumps({"idleMB": idle, **{k + "MB": v for k, v in marks.items()}, "concurrentRoundsMB": rounds,
                      "growthMB": growth, "sequentialPerSec": rate, "cpuUsPerConnection": cpu_per_conn,
                      "captureBytes": size}))
    # The soak's capture is not kept.
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
