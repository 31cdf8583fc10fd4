"""The embedded MongoDB: a SecantusDB server run as a child process (GPL, so never imported)."""

import atexit
import ctypes
import errno
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymongo


class EmbeddedDatabaseError(RuntimeError):
    """The embedded database server could not be started; the message says why and what to do, in one line."""


# SecantusDB's words when another server already has the storage folder open.
_STORAGE_IN_USE = "already being managed by another process"


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
            "(pip install -r requirements-run.txt) or set MONGODB_URI"
        )
    return found


def _log_since(log_path: Path | None, offset: int) -> list[str]:
    """The non-blank lines the server wrote to its log after `offset`."""
    if not log_path:
        return []
    with open(log_path, "rb") as log:
        log.seek(offset)
        return [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]


def _exit_reason(storage: str, status: int, lines: list[str], log_path: Path | None) -> str:
    """One line saying why the server stopped at start: its log's last meaningful line, or the known case."""
    if any(_STORAGE_IN_USE in line for line in lines):
        return f"another process is already using the database folder {storage} (stop it, or use another folder)"
    said = next((line for line in reversed(lines) if not line.startswith(("Traceback", "File ", "^", "~"))), None)
    where = f" (log: {log_path})" if log_path else ""
    return f"the database server (secantusd-py) stopped at start with status {status}: {said or 'no message'}{where}"


def start_server(
    storage: str,
    port: int | None = None,
    timeout: float = 30.0,
    log_path: Path | None = None,
    durable: bool | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start secantusd-py on a free port; return the process and its mongodb:// URI once it answers.

    `durable` (the default for on-disk storage) fsyncs the log on every commit, so an acknowledged
    write survives a crash; a `:memory:` server has nothing to sync.
    """
    port = port or free_port()
    if durable is None:
        durable = storage != ":memory:"
    if storage != ":memory:":
        Path(storage).mkdir(parents=True, exist_ok=True)
    offset = log_path.stat().st_size if log_path and log_path.exists() else 0
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    command = [server_command(), "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage]
    command += ["--standalone", "--log-level", "WARNING"] + (["--sync-on-commit"] if durable else [])
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise EmbeddedDatabaseError(_exit_reason(storage, proc.returncode, _log_since(log_path, offset), log_path))
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


_held_locks = []  # lock files held for the life of the process (closing one would release it)


def claim_data_dir(data_dir: Path) -> None:
    """Make DATA_DIR (if needed) and hold DATA_DIR/chat.lock until this process ends: one chat per folder."""
    where = f"DATA_DIR={data_dir}"
    if data_dir.exists() and not data_dir.is_dir():
        raise EmbeddedDatabaseError(f"{where} is a file, not a folder: set DATA_DIR to a folder")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = open(data_dir / "chat.lock", "a+")  # held open for the life of the process
    except OSError as exc:
        reason = exc.strerror or str(exc)
        message = f"{where} cannot be used ({reason}): set DATA_DIR to a folder chat may write"
        raise EmbeddedDatabaseError(message) from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        lock.close()
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            raise EmbeddedDatabaseError(
                f"another chat is already using {where} (stop it, or set DATA_DIR to another folder)"
            ) from None
        raise
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    _held_locks.append(lock)


def start_embedded(data_dir: Path) -> str:
    """Start the embedded database for this process (data in DATA_DIR/db, durable commits); return its URI."""
    claim_data_dir(data_dir)
    proc, uri = start_server(str(data_dir / "db"), log_path=data_dir / "secantusd.log", durable=True)
    atexit.register(stop_server, proc)
    return uri.replace("/?", "/chat?")
