"""Install, start, probe and stop the benchmarked servers (Rivulet, dynalite, moto) and wrk."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / ".peers"
DYNALITE_CLI = PEERS_DIR / "node_modules" / "dynalite" / "cli.js"
SERVER_NAMES = ("rivulet", "dynalite", "moto")


class BenchError(RuntimeError):
    """A failure that aborts the benchmark with a readable message."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _run(cmd: list[str]) -> bool:
    log("$ " + " ".join(cmd))
    return subprocess.run(cmd, check=False).returncode == 0


def ensure_wrk() -> str:
    """Return the wrk binary, installing it with apt-get when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if not _run(install) and not (_run(["apt-get", "update", "-q"]) and _run(install)):
        raise BenchError("could not install wrk with apt-get; install it and retry")
    found = shutil.which("wrk")
    if not found:
        raise BenchError("wrk installed but not on PATH")
    return found


def ensure_dynalite() -> None:
    if DYNALITE_CLI.exists():
        return
    if not shutil.which("npm"):
        raise BenchError("npm not found: needed to install dynalite")
    if not _run(
        ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(PEERS_DIR), "dynalite"]
    ):
        raise BenchError("npm install dynalite failed")


def ensure_moto() -> None:
    probe = [sys.executable, "-c", "import moto.server"]
    if subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return
    if not _run([sys.executable, "-m", "pip", "install", "-q", "moto[server]"]):
        raise BenchError("pip install 'moto[server]' failed")


REPO_DIR = BENCH_DIR.parent


def rivulet_command() -> list[str]:
    # Prefer the console script next to this interpreter: pyenv shims would add a hop.
    local = Path(sys.executable).parent / "rivulet"
    exe = str(local) if local.exists() else shutil.which("rivulet")
    if exe is not None:
        return [exe]
    if (REPO_DIR / "rivulet" / "__main__.py").exists():
        # Not installed: run the checkout's package (server_env puts it on PYTHONPATH).
        return [sys.executable, "-m", "rivulet"]
    raise BenchError("rivulet is not installed (pip install -e . in the repo)")


def server_env() -> dict[str, str]:
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{REPO_DIR}{os.pathsep}{path}" if path else str(REPO_DIR)
    return env


_SERVE_HELP: list[str] = []


def rivulet_serve_help() -> str:
    """`rivulet serve --help`, run once: tells which optional flags this build has."""
    if not _SERVE_HELP:
        probe = subprocess.run(
            [*rivulet_command(), "serve", "--help"],
            check=False,
            capture_output=True,
            text=True,
            env=server_env(),
        )
        if probe.returncode != 0:
            raise BenchError(f"`rivulet serve --help` failed:\n{probe.stderr.strip()[-2000:]}")
        _SERVE_HELP.append(probe.stdout)
    return _SERVE_HELP[0]


def rivulet_has_streams() -> bool:
    return "--stream-shards" in rivulet_serve_help()


def ensure_rivulet() -> None:
    rivulet_serve_help()


ENSURE: dict[str, Callable[[], None]] = {
    "rivulet": ensure_rivulet,
    "dynalite": ensure_dynalite,
    "moto": ensure_moto,
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(
    name: str, port: int, data_dir: Path, extra: list[str], streams_port: int | None = None
) -> list[str]:
    if name == "rivulet":
        # The dedicated streams listener defaults to 8001, which may be taken: always pick one.
        streams = ["--streams-port", str(streams_port)] if streams_port is not None else []
        return [
            *rivulet_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *streams,
            *extra,
        ]
    if name == "dynalite":
        # In-memory store; tables become ACTIVE at once so setup does not wait.
        node = shutil.which("node") or "node"
        return [
            node,
            str(DYNALITE_CLI),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--createTableMs",
            "0",
        ]
    if name == "moto":
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    raise BenchError(f"unknown server {name!r}")


@dataclass
class Server:
    """A running server process and where it listens."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    workdir: Path
    log_file: BinaryIO
    streams_port: int | None = None  # Rivulet's dedicated streams listener, when it has one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        return process_tree_cpu_seconds(self.proc.pid)

    def wait_idle(self, timeout: float = 60.0, window: float = 0.25) -> None:
        """Wait until the server stops burning CPU (under 5% of a core over `window`).

        wrk abandons its in-flight requests when a run ends; a slow server keeps working
        on them, which would steal CPU from the next measured phase.
        """
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(window)
            now = self.cpu_seconds()
            if now - before < 0.05 * window:
                return
            before = now
        log(f"{self.name} still busy after {timeout:.0f}s; measuring anyway")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_server(
    name: str, extra_args: list[str] | None = None, ready_timeout: float = 60.0
) -> Server:
    workdir = Path(tempfile.mkdtemp(prefix=f"rivulet-bench-{name}-"))
    data_dir = workdir / "data"
    data_dir.mkdir()
    port = free_port()
    streams_port = None
    if name == "rivulet" and "--streams-port" in rivulet_serve_help():
        streams_port = free_port()
        while streams_port == port:
            streams_port = free_port()
    log_path = workdir / "server.log"
    log_file = log_path.open("wb")
    cmd = server_command(name, port, data_dir, extra_args or [], streams_port)
    log(f"starting {name}: {' '.join(cmd)}")
    env = server_env()
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=workdir,
    )
    server = Server(name, port, proc, log_path, workdir, log_file, streams_port)
    try:
        wait_until_answers(server, ready_timeout)
    except BaseException:
        tail = server.log_tail()
        server.stop()
        if tail:
            log(f"{name} log tail:\n{tail}")
        raise
    log(f"{name} ready on port {port} (pid {proc.pid})")
    return server


def wait_until_answers(server: Server, timeout: float) -> None:
    """Poll `GET /` until the server returns any HTTP response."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise BenchError(
                f"{server.name} exited with code {server.proc.returncode} during startup"
            )
        try:
            with urllib.request.urlopen(server.url + "/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any status means the HTTP server is up
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.1)
    raise BenchError(f"{server.name} did not answer GET / within {timeout:.0f}s")


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int, tid: int | None = None) -> list[str] | None:
    """The fields of /proc/<pid>/stat (or of one thread's, /proc/<pid>/task/<tid>/stat) after
    the command name: fields[11] and [12] are user and system time in clock ticks."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        raw = Path(path).read_text()
    except OSError:
        return None
    # The command name (field 2) is parenthesised and may hold spaces; split after it.
    return raw[raw.rindex(")") + 2 :].split()


def _children(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, stack = [], [root]
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(parents.get(pid, []))
    return tree


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """User+system CPU seconds of each live thread of a process, by thread id (Linux)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        fields = _stat_fields(pid, int(tid))
        if fields is not None:  # else the thread ended meanwhile
            out[int(tid)] = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
    return out


def process_tree_cpu_seconds(root: int) -> float:
    """User+system CPU seconds of a process and all its live descendants (workers included)."""
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            parent = psutil.Process(root)
            procs = [parent, *parent.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += float(times.user + times.system)
            except psutil.Error:
                continue
        return total
    ticks = 0
    for pid in _children(root):
        fields = _stat_fields(pid)
        if fields is not None:
            # After the ")" split, utime and stime (fields 14 and 15) sit at indexes 11 and 12.
            ticks += int(fields[11]) + int(fields[12])
    return ticks / _CLOCK_TICKS
