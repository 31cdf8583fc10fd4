"""What several test modules share: the test password and database, room actions, the database check,
S3 helpers, real web processes with users and event streams, and a real SMTP server with the reset links."""

import http.client
import itertools
import json
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from email import message_from_bytes, policy
from pathlib import Path

import boto3
import pymongo
import requests
from botocore.config import Config
from pymongo import monitoring

from scripts.servers import ROOT, service_env, wait_for_port
from settings import Settings
from store.embedded import free_port

TEST_DB = "chat_test"
PASSWORD = "correct horse battery"


def create(client, name=None, status=200) -> str:
    body = {"userid": client.user, "action": "enter", "roomid": None}
    if name is not None:
        body["name"] = name
    return client.post_json("/v1/room", body, status=status).json["roomid"]


def act(client, action, roomid, status=200):
    return client.post_json("/v1/room", {"userid": client.user, "action": action, "roomid": roomid}, status=status)


def assert_clean(db) -> None:
    """No operator keys and no NUL anywhere in the database (walked iteratively: documents may nest deep)."""
    for name in db.list_collection_names():
        for doc in db[name].find():
            pending = [doc]
            while pending:
                item = pending.pop()
                if isinstance(item, dict):
                    assert not any(key.startswith("$") or "\x00" in key for key in item), (name, doc)
                    pending.extend(item.values())
                elif isinstance(item, list):
                    pending.extend(item)
                else:
                    assert not (isinstance(item, str) and "\x00" in item), (name, doc)


BUCKET = "chat-images"


def s3_client(url: str):
    return boto3.client("s3", endpoint_url=url, config=Config(s3={"addressing_style": "path"}))


def with_s3(settings, endpoint_url: str, public_url: str):
    return replace(settings, s3_bucket=BUCKET, s3_endpoint_url=endpoint_url, s3_public_url=f"{public_url}/{BUCKET}")


def upload(client, data: bytes, filename: str = "photo.png", key: str | None = None, status: int = 200):
    fields = [("key", key)] if key is not None else []
    return client.post("/v1/image", fields, upload_files=[("file", filename, data)], status=status)


class StallingS3:
    """A TCP proxy in front of S3 that holds every PUT until released, then drops it: S3 stalling mid-upload."""

    def __init__(self, port: int):
        self.port = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stalled, self.released = threading.Event(), threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, sink, requests: bool):
        try:
            while chunk := source.recv(65536):
                if requests and chunk.startswith(b"PUT ") and not self.released.is_set():
                    self.stalled.set()
                    self.released.wait()
                    return
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            source.close()
            sink.close()

    def close(self):
        self.released.set()
        self.listener.close()


QUICK = {"HEARTBEAT_SECONDS": "1", "STREAM_MAX_SECONDS": "60", "STREAMS_PER_USER": "5"}


def live_settings(mongo_server, redis_server, name: str, data_dir: Path) -> Settings:
    """Settings on a fresh database `name` of the session's MongoDB, with its Redis: for tests of web processes."""
    uri = mongo_server.uri(name)
    with pymongo.MongoClient(uri) as client:
        client.drop_database(name)
    return Settings(mongodb_uri=uri, redis_url=redis_server.url, data_dir=data_dir)


_emails = itertools.count(1)


class Web:
    """A real `python chat.py` process (waitress), like one web dyno."""

    def __init__(self, settings: Settings, log_dir: Path, **env: str):
        self.port = free_port()
        environ = {
            **service_env(settings),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "WEB_THREADS": "128",
            "RATE_REGISTER": "100000/3600",
            "RATE_MESSAGES": "100000/10",
            **env,
        }
        self.log = open(log_dir / f"web-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "chat.py"], cwd=ROOT, env=environ, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_for_port(self.port, self.proc, "chat.py")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(20)
        self.log.close()


class User:
    """A registered user talking JSON over HTTP (the session cookie works on every process)."""

    def __init__(self, web):
        self.user = f"rt{next(_emails)}-{secrets.token_hex(3)}@example.com"
        self.http = requests.Session()
        self.call(web, "post", "/auth/register", {"username": self.user, "password": PASSWORD}, 201)
        self.cookie = self.http.cookies["session"]

    def call(self, web, method, path, body=None, status=200):
        answer = self.http.request(method, web.url + path, json=body, timeout=10)
        assert answer.status_code == status, answer.text
        return answer.json()

    def create(self, web) -> str:
        return self.call(web, "post", "/v1/room", {"userid": self.user, "action": "enter", "roomid": None})["roomid"]

    def act(self, web, action, roomid):
        return self.call(web, "post", "/v1/room", {"userid": self.user, "action": action, "roomid": roomid})

    def say(self, web, roomid, text):
        return self.call(web, "post", f"/v1/logs/{roomid}", {"m": text}, 201)


class Stream:
    """A raw SSE client: each read gives one block of fields (an event, the retry hint, or a comment)."""

    def __init__(self, web, roomid, cookie=None, query="", headers=None, timeout=10.0):
        """A room's stream, or with roomid None the user's (GET /v1/events)."""
        self.conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=timeout)
        sent = {"Accept": "text/event-stream", **({"Cookie": f"session={cookie}"} if cookie else {}), **(headers or {})}
        path = "/v1/events" if roomid is None else f"/v1/events/{roomid}"
        self.conn.request("GET", f"{path}{query}", headers=sent)
        self.response = self.conn.getresponse()
        self.status = self.response.status

    def json(self):
        return json.loads(self.response.read())

    def block(self) -> dict | None:
        """The next block: {"comment": ...} or SSE fields (data parsed as JSON); None when the stream ended."""
        fields = {}
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if fields:
                    return fields
                continue
            name, _, value = line.partition(":")
            fields[name or "comment"] = value[1:] if value.startswith(" ") else value
            if name == "data":
                fields["data"] = json.loads(fields["data"])

    def events_until(self, done, limit=500) -> list[dict]:
        """Blocks up to and including the first for which done(block) holds."""
        seen = []
        for _ in range(limit):
            block = self.block()
            assert block is not None, f"stream ended after {seen}"
            seen.append(block)
            if done(block):
                return seen
        raise AssertionError(f"gave up after {limit} blocks")

    def message_ids_through(self, last_id: int, quiet_pings: int = 2) -> list[int]:
        """Ids of the message events until `last_id` is seen, then until `quiet_pings` heartbeats pass."""
        blocks = self.events_until(lambda b: b.get("event") == "message" and int(b["id"]) >= last_id)
        pings = 0
        while pings < quiet_pings:
            block = self.block()
            assert block is not None
            blocks.append(block)
            pings += "comment" in block
        return [int(b["id"]) for b in blocks if b.get("event") == "message"]

    def rest(self) -> list[dict]:
        """Every block until the server ends the stream."""
        blocks = []
        while (block := self.block()) is not None:
            blocks.append(block)
        return blocks

    def close(self):
        self.response.close()  # the response holds the socket open past conn.close()
        self.conn.close()


def is_message(block) -> bool:
    return block.get("event") == "message"


class Inbox:
    """A real SMTP server (aiosmtpd) on a port: the letters it received."""

    def __init__(self, port: int | None = None):
        from aiosmtpd.controller import Controller

        self.letters = []
        self.arrived = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=port or free_port())
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.controller.port}"

    async def handle_DATA(self, server, session, envelope):
        self.letters.append(message_from_bytes(envelope.content, policy=policy.default))
        self.arrived.set()
        return "250 OK"

    def wait(self, count: int = 1, seconds: float = 30) -> list:
        deadline = time.monotonic() + seconds
        while len(self.letters) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.letters) >= count, f"{len(self.letters)} letters after {seconds} s"
        return self.letters

    def stop(self):
        self.controller.stop()


def reset_token(letter) -> str:
    """The token of the reset link in a letter (or its text)."""
    text = letter.get_content() if hasattr(letter, "get_content") else letter
    found = re.search(r"https?://\S+/#reset=([A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


def outbox_letters(data_dir) -> list:
    """The letters kept in DATA_DIR/outbox (no SMTP_URL), oldest first."""
    folder = data_dir / "outbox"
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


class Commands(monitoring.CommandListener):
    """The commands sent, as (name, collection) pairs; `commitTransaction` has no collection."""

    def __init__(self):
        self._lock = threading.Lock()
        self.sent = []

    def started(self, event):
        target = event.command.get(event.command_name)
        with self._lock:
            self.sent.append((event.command_name, target if isinstance(target, str) else None))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass

    def during(self, action) -> list[tuple]:
        with self._lock:
            self.sent.clear()
        action()
        with self._lock:
            return list(self.sent)
