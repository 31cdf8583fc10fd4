"""Browser-test helpers: the app on a real HTTP server in a thread, Debian's Chromium, page actions."""

import socket
import struct
import threading
import zlib

import waitress
from playwright.sync_api import Page, expect

from chat import server_options
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless, touching nothing outside the test (playwright cannot download browsers here).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


class LiveServer:
    """The app served by waitress on a free port from a background thread."""

    def __init__(self, app, settings):
        self.app = app
        options = server_options(settings)
        self.server = waitress.create_server(app, host="127.0.0.1", port=0, **options)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)
        self.thread.start()

    def close(self):
        self.server.close()
        self.server.task_dispatcher.shutdown(timeout=5)
        self.thread.join(timeout=5)


def register(page: Page, email: str) -> None:
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#whoami")).to_have_attribute("data-user", email)


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in with the keyboard only: type, Tab, type, Enter."""
    page.get_by_label("Password", exact=True).fill("")
    page.get_by_label("Email", exact=True).fill("")
    page.get_by_label("Email", exact=True).focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def create_room(page: Page, name: str) -> None:
    page.get_by_label("New room").fill(name)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#room-title")).to_have_text(name)
    expect(page.locator("#my-rooms .room-item", has_text=name)).to_be_visible()


def join_room(page: Page, name: str) -> None:
    page.locator("#other-rooms .room-item", has_text=name).click()
    expect(page.locator("#room-title")).to_have_text(name)


def open_room(page: Page, name: str) -> None:
    page.locator("#my-rooms .room-item", has_text=name).click()
    expect(page.locator("#room-title")).to_have_text(name)


def members_panel(page: Page):
    """Open the room's member list (if closed) and return it."""
    panel = page.locator("#members-panel")
    if panel.is_hidden():
        page.locator("#members-button").click()
    expect(panel).to_be_visible()
    return panel


def member(page: Page, name: str):
    return page.locator("#members .member", has_text=name)


def create_private_room(page: Page, name: str) -> None:
    page.get_by_label("New room").fill(name)
    page.get_by_label("Private: only people you invite").check()
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#room-title")).to_have_text(name)
    expect(page.locator("#my-rooms .room-item", has_text=name)).to_contain_text("Private")


def send(page: Page, text: str) -> None:
    """Type a message and press Enter; wait until the server has accepted it."""
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator("#message-input")).to_have_value("")
    expect(page.locator("#pending-list .message")).to_have_count(0)


def bodies(page: Page):
    """The conversation's message bodies, in order, as a locator."""
    return page.locator("#message-list .message .body")


def png(width: int = 48, height: int = 32, rgb: tuple = (69, 72, 214)) -> bytes:
    """A real PNG image of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = (b"\x00" + bytes(rgb) * width) * height
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


class FlakyLink:
    """A TCP proxy in front of a server that can cut every connection at once, as a network drop does."""

    def __init__(self, target: LiveServer):
        self.target_port = target.server.effective_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.up = True
        self.sockets = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, name="flaky-link", daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(source, sink)

    def _drop(self, *sockets):
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
            with self.lock:
                self.sockets.discard(sock)

    def cut(self):
        """Drop every open connection and refuse new ones until restore()."""
        self.up = False
        with self.lock:
            open_sockets = list(self.sockets)
        self._drop(*open_sockets)

    def restore(self):
        self.up = True

    def close(self):
        self.listener.close()
        self.cut()
