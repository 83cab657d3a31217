#!/usr/bin/env python3
"""Measurement (not a test) of issue #14's memory scenarios against a `kafkatape` binary: resident
memory after 6,000 short connections, then after 8 connections each sending 60 MiB of a 64 MiB frame,
and how many of those the proxy closed (--max-buffered-bytes). Upstream: a local socket that drains.
  tools/measure_proxy_memory.py .build/debug/kafkatape
"""
import os, socket, subprocess, sys, threading, time

binary = sys.argv[1]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"): return int(line.split()[1])
    return 0

# Upstream: accepts and drains forever.
up = socket.socket(); up.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
up.bind(("127.0.0.1", 0)); up.listen(1024); up_port = up.getsockname()[1]
def drain(c):
    try:
        while c.recv(1 << 20): pass
    except OSError: pass
    c.close()
def accept_loop():
    while True:
        try: c, _ = up.accept()
        except OSError: return
        threading.Thread(target=drain, args=(c,), daemon=True).start()
threading.Thread(target=accept_loop, daemon=True).start()

listen = free_port()
proc = subprocess.Popen([binary, "record", "--upstream", f"127.0.0.1:{up_port}", "--listen", f"127.0.0.1:{listen}", "--no-capture"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
time.sleep(1.5)
base = rss_kb(proc.pid)
print(f"start: {base/1024:.0f} MB")

# 1. 6,000 short connections: connect, send 10 bytes of nothing in particular, close.
for i in range(6000):
    c = socket.create_connection(("127.0.0.1", listen))
    c.close()
    if i % 500 == 499: time.sleep(0.05)
time.sleep(3)
after_short = rss_kb(proc.pid)
print(f"after 6000 short connections: {after_short/1024:.0f} MB (+{(after_short-base)/1024:.0f} MB)")

# 2. 8 connections each sending 60 MiB of a 64 MiB frame, then holding it.
held = []
chunk = b"x" * (1 << 20)
refused = 0
for i in range(8):
    c = socket.create_connection(("127.0.0.1", listen))
    c.settimeout(10)
    try:
        c.sendall((64 << 20).to_bytes(4, "big"))
        for _ in range(60): c.sendall(chunk)
    except OSError:
        refused += 1
    held.append(c)
time.sleep(3)
after_partial = rss_kb(proc.pid)
closed = 0
for c in held:
    c.setblocking(False)
    try:
        if c.recv(1) == b"": closed += 1
    except BlockingIOError: pass
    except OSError: closed += 1
print(f"after 8 x 60 MiB partial frames: {after_partial/1024:.0f} MB (+{(after_partial-after_short)/1024:.0f} MB); "
      f"connections the proxy closed: {closed} (send failed on {refused})")
proc.terminate(); proc.wait(timeout=10)
err = proc.stderr.read().decode()
print("stderr lines:", len(err.splitlines()))
