"""What the HTTP benches share: starting the service and other waitress apps, a logged-in user with a room, wrk."""

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from chat import server_options
from scripts.servers import ROOT, service_env, wait_for_port
from settings import Settings

USER = "bench@example.com"
POST_SCRIPT = (
    'wrk.method = "POST"\nwrk.body = \'{"m": "hello from wrk"}\'\nwrk.headers["Content-Type"] = "application/json"\n'
)


def wrk(url: str, seconds: int, connections: int, cookie: str, script: str | None = None) -> float:
    """Requests per second from `wrk -t1` (one client thread: this 2-core machine also runs the servers)."""
    return wrk_run(url, seconds, connections, cookie, script)[0]


def wrk_run(url: str, seconds: int, connections: int, cookie: str, script: str | None = None) -> tuple[float, int]:
    """(requests per second, requests answered) from `wrk -t1`."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-H", f"Cookie: {cookie}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx answers for {url}", file=sys.stderr)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, int(re.search(r"(\d+) requests in", out).group(1))


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def post_script(folder: Path) -> str:
    """A wrk script that POSTs one JSON message per request; its path."""
    path = folder / "post.lua"
    path.write_text(POST_SCRIPT)
    return str(path)


def call(port: int, path: str, body: dict, cookie: str = "") -> tuple[dict, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie},
    )
    with urllib.request.urlopen(request, timeout=10) as res:
        set_cookie = res.headers.get("Set-Cookie") or ""
        return json.loads(res.read()), set_cookie.split(";")[0] or cookie


def start(cmd: list[str], env: dict, port: int, what: str, root: Path = ROOT) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, what, timeout=60)
    return proc


def start_chat(settings: Settings, port: int, root: Path = ROOT) -> subprocess.Popen:
    """The service as `python chat.py` runs it (from `root`: another checkout), no message rate limit in the way."""
    env = {**service_env(settings), "PORT": str(port), "RATE_MESSAGES": "100000000/10", "PYTHONPATH": str(root)}
    return start([sys.executable, "chat.py"], env, port, "chat", root)


def checkout(rev: str, folder: Path) -> Path:
    """The service's files as of a git revision, in `folder` (to measure an older version in the same run)."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def start_waitress(settings: Settings, port: int, app: str, env: dict | None = None) -> subprocess.Popen:
    """Another WSGI app (`module:app`, or `--call module:factory`) under the service's own waitress settings."""
    options = server_options(settings)
    cmd = [
        str(Path(sys.executable).parent / "waitress-serve"),
        f"--port={port}",
        f"--threads={options['threads']}",
        f"--connection-limit={options['connection_limit']}",
        "--asyncore-use-poll",
        *app.split(),
    ]
    return start(cmd, {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, port, app)


def prepare(port: int, messages: int = 200) -> tuple[str, str]:
    """Register the bench user, create a room with `messages` messages in it; return the cookie and the room."""
    _, cookie = call(port, "/auth/register", {"username": USER, "password": "long enough"})
    roomid = call(port, "/v1/room", {"userid": USER, "action": "enter", "roomid": None}, cookie)[0]["roomid"]
    for i in range(messages):
        call(port, f"/v1/logs/{roomid}", {"m": f"warm-up {i}"}, cookie)
    return cookie, roomid
