"""pytest fixtures that run KafkaTape from Python tests: a mock broker serving a capture, and a
recording proxy in front of a live broker. They start the `kafkatape` binary with --ready-file and wait
for that file (no polling of ports, no parsing of stderr), and stop it by PID at teardown.

    def test_my_consumer(kafkatape_serve):
        bootstrap = kafkatape_serve("captures/orders.ktape")   # fails the test at teardown on any miss
        run_my_consumer(bootstrap)

Set KAFKATAPE to the binary (default: `kafkatape` on PATH).
"""
import os
import signal
import subprocess
import time

import pytest

KAFKATAPE = os.environ.get("KAFKATAPE", "kafkatape")


def _start(args, ready, timeout=20.0):
    proc = subprocess.Popen([KAFKATAPE, *args, "--ready-file", str(ready)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready.exists():
            return proc, ready.read_text().strip()
        if proc.poll() is not None:
            raise RuntimeError(f"kafkatape {args[0]} exited {proc.returncode}: {proc.stderr.read().strip()}")
        time.sleep(0.01)
    proc.kill()
    raise RuntimeError(f"kafkatape {args[0]} did not become ready within {timeout} s")


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


@pytest.fixture
def kafkatape_serve(tmp_path):
    """Serves a capture as a mock broker; returns its bootstrap address. At teardown the test fails
    when the client sent a request the recording does not have (serve exits 1)."""
    started = []

    def serve(capture, *extra):
        proc, bootstrap = _start(["serve", str(capture), "--listen", "127.0.0.1:0", "--latency", "none", *extra],
                                 tmp_path / f"serve-{len(started)}.ready")
        started.append(proc)
        return bootstrap

    yield serve
    for proc in started:
        code, out, err = _stop(proc)
        assert code == 0, f"the mock broker missed requests:\n{out}{err}"


class Recording:
    """A running `kafkatape record`: `.bootstrap` for the client; `.stop()` completes the capture."""

    def __init__(self, proc, bootstrap):
        self.proc = proc
        self.bootstrap = bootstrap

    def stop(self):
        code, out, err = _stop(self.proc)
        assert code == 0, f"kafkatape record failed: {err}"
        return out


@pytest.fixture
def kafkatape_record(tmp_path):
    """Records through a proxy in front of UPSTREAM into CAPTURE; returns a `Recording`. The capture is
    complete after `.stop()` (or after the test, at teardown)."""
    started = []

    def record(upstream, capture, *extra):
        proc, bootstrap = _start(["record", "--listen", "127.0.0.1:0", "--upstream", upstream, "--out", str(capture), *extra],
                                 tmp_path / f"record-{len(started)}.ready")
        started.append(Recording(proc, bootstrap))
        return started[-1]

    yield record
    for recording in started:
        if recording.proc.poll() is None:
            recording.stop()
