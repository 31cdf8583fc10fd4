"""The embedded MongoDB: a SecantusDB server run as a child process (GPL, so never imported)."""

import atexit
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymongo


class EmbeddedDatabaseError(RuntimeError):
    """The embedded database server could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent():
    """In the child: ask Linux to kill us when the parent dies, even by SIGKILL."""
    # SIGKILL, not SIGTERM: Linux repeats the signal as each of the parent's threads exits (a web
    # process has a thousand), and SecantusDB's TERM handler deadlocks when re-entered. A clean
    # stop goes through stop_server() (atexit) instead.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def server_command() -> str:
    """Path of secantusd-py: beside this interpreter first (a venv), then on PATH."""
    beside = Path(sys.executable).parent / "secantusd-py"
    found = str(beside) if beside.exists() else shutil.which("secantusd-py")
    if not found:
        raise EmbeddedDatabaseError(
            "secantusd-py not found: install the embedded requirements "
            "(pip install -r requirements-dev.txt) or set MONGODB_URI"
        )
    return found


def start_server(
    storage: str, port: int | None = None, timeout: float = 30.0, log_path: Path | None = None
) -> tuple[subprocess.Popen, str]:
    """Start secantusd-py on a free port; return the process and its mongodb:// URI once it answers."""
    port = port or free_port()
    if storage != ":memory:":
        Path(storage).mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [
            server_command(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--storage-path",
            storage,
            "--standalone",
            "--log-level",
            "WARNING",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise EmbeddedDatabaseError(
                f"secantusd-py exited with status {proc.returncode} at start"
                + (f"; see {log_path}" if log_path else "")
            )
        try:
            with pymongo.MongoClient(uri, serverSelectionTimeoutMS=300) as probe:
                probe.admin.command("ping")
            return proc, uri
        except pymongo.errors.PyMongoError:
            if time.monotonic() > deadline:
                stop_server(proc)
                raise EmbeddedDatabaseError(
                    f"secantusd-py did not answer on port {port} within {timeout:.0f} s"
                ) from None
            time.sleep(0.1)


def stop_server(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop the server politely, then firmly."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_embedded(data_dir: Path) -> str:
    """Start the embedded database for this process (data in DATA_DIR/db); return its URI."""
    data_dir.mkdir(parents=True, exist_ok=True)
    proc, uri = start_server(str(data_dir / "db"), log_path=data_dir / "secantusd.log")
    atexit.register(stop_server, proc)
    return uri.replace("/?", "/chat?")
