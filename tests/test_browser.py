"""The web client in a real browser: Debian's Chromium driven by playwright, the app on waitress."""

import re
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import webtest
from playwright.sync_api import expect, sync_playwright

from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    FlakyLink,
    LiveServer,
    bodies,
    create_private_room,
    create_room,
    join_room,
    log_in,
    member,
    members_panel,
    open_room,
    png,
    register,
    send,
)
from tests.conftest import PASSWORD
from tests.helpers import Inbox, outbox_letters

IMAGE_URL = re.compile(r"/media/images/[0-9a-f]{64}\.png$")
WRONG_PASSWORD = "Wrong email or password: check both and try again."


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def serve(make_app):
    """serve(settings) -> a LiveServer for an app on those settings, closed after the test."""
    servers = []

    def start(settings) -> LiveServer:
        settings = replace(settings, web_threads=96)  # waitress threads for every page's stream and requests
        servers.append(LiveServer(make_app(settings), settings))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def live(serve, settings):
    """The app on real Mongo and Redis, with a message rate that lets a test fill a room through the API."""
    return serve(replace(settings, message_rate=(1000, 10)))


class Pages:
    """Browser pages on the live app; records dialogs and script errors, which no test expects."""

    def __init__(self, browser, live):
        self.browser = browser
        self.live = live
        self.pages = []
        self.problems = []

    def open(self, viewport=DESKTOP, server=None, like=None, color_scheme="light"):
        """A page at `/`: in a fresh context (its own cookies), or beside the page `like` (same user, same room)."""
        context = (
            like.context
            if like
            else self.browser.new_context(
                viewport=viewport, base_url=(server or self.live).url, color_scheme=color_scheme
            )
        )
        page = context.new_page()
        page.on("dialog", lambda dialog: (self.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.goto(like.url if like else "/")
        self.pages.append(page)
        return page

    def close(self, screenshots: Path | None):
        for n, page in enumerate(self.pages):
            if screenshots and not page.is_closed():
                page.screenshot(path=screenshots.with_name(f"{screenshots.name}-{n}.png"))
        for context in {page.context for page in self.pages}:
            context.close()


@pytest.fixture
def pages(browser, live, request, artifacts):
    """Open pages with pages.open(); on failure each page's screenshot goes to tests/artifacts/."""
    opened = Pages(browser, live)
    yield opened
    report = getattr(request.node, "report_call", None)
    opened.close(artifacts / request.node.name if report is None or report.failed else None)
    assert opened.problems == []


def api_user(live, email: str) -> webtest.TestApp:
    """A WebTest client logged in as an existing user, talking to the live server's app."""
    client = webtest.TestApp(live.app)
    client.post_json("/auth/login", {"username": email, "password": PASSWORD}, status=200)
    return client


def new_member(live, email: str, roomid: str) -> webtest.TestApp:
    """A WebTest client for a newly registered user who has entered the room."""
    client = webtest.TestApp(live.app)
    client.post_json("/auth/register", {"username": email, "password": PASSWORD}, status=201)
    client.post_json("/v1/room", {"userid": email, "action": "enter", "roomid": roomid}, status=200)
    return client


def room_id(page) -> str:
    return page.evaluate("new URLSearchParams(location.hash.slice(1)).get('room')")


def wait_live(*page_list):
    for page in page_list:
        expect(page.locator("#connection")).to_have_text("Live")


def test_accounts_errors_reload_and_log_out(pages, artifacts):
    page = pages.open()
    expect(page.get_by_role("heading", name="Welcome to chat")).to_be_visible()
    page.screenshot(path=artifacts / "login.png")
    page.get_by_label("Email", exact=True).fill("not an email")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#auth-email-error")).to_have_text("Enter an email address, like name@example.com")
    page.screenshot(path=artifacts / "login-error.png")
    register(page, "ann@example.com")
    page.reload()
    expect(page.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")  # GET /auth/me after a reload
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_label("Email", exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_label("Email", exact=True)).to_be_visible()
    log_in(page, "ann@example.com", "wrong password")
    expect(page.locator("#auth-error")).to_have_text(WRONG_PASSWORD)
    log_in(page, "ann@example.com")
    expect(page.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")
    other = pages.open()
    register(other, "bob@example.com")
    other.get_by_role("button", name="Log out").click()
    other.get_by_label("Email", exact=True).fill("ann@example.com")
    other.get_by_label("Password", exact=True).fill(PASSWORD)
    other.get_by_role("button", name="Create account").click()
    expect(other.locator("#auth-error")).to_have_text("This email is already registered: log in instead.")


def ann_and_bob_in(pages, room: str, ann_email: str = "ann@example.com", **where):
    """Two pages: ann, who created `room`, and bob, who joined it."""
    ann = pages.open(**where)
    register(ann, ann_email)
    create_room(ann, room)
    bob = pages.open(**where)
    register(bob, "bob@example.com")
    join_room(bob, room)
    return ann, bob


def test_two_users_talk_live_and_a_reload_keeps_the_history(pages):
    ann = pages.open()
    register(ann, "ann@example.com")
    create_room(ann, "Lunch")
    bob = pages.open()
    register(bob, "bob@example.com")
    expect(bob.locator("#other-rooms .room-item", has_text="Lunch")).to_contain_text("1 member")
    join_room(bob, "Lunch")
    wait_live(ann, bob)
    expect(ann.locator("#message-list .note")).to_contain_text("bob joined the room")
    expect(ann.locator("#room-meta")).to_have_text("2 members")

    send(ann, "hello bob")
    started = time.monotonic()
    expect(bodies(bob)).to_have_text(["hello bob"], timeout=2000)
    assert time.monotonic() - started < 2
    bob.get_by_label("Message", exact=True).fill("hi ann")
    bob.get_by_label("Message", exact=True).press("Shift+Enter")
    bob.get_by_label("Message", exact=True).press_sequentially("how are you?")
    bob.get_by_label("Message", exact=True).press("Enter")
    expect(bodies(ann)).to_have_text(["hello bob", "hi ann\nhow are you?"], timeout=2000)
    expect(bodies(bob)).to_have_text(["hello bob", "hi ann\nhow are you?"])
    expect(bob.locator("#message-list .message.mine")).to_have_count(1)

    bob.reload()
    expect(bob.locator("#room-title")).to_have_text("Lunch")
    expect(bodies(bob)).to_have_text(["hello bob", "hi ann\nhow are you?"])
    wait_live(bob)
    send(ann, "after the reload")
    expect(bodies(bob)).to_have_text(["hello bob", "hi ann\nhow are you?", "after the reload"], timeout=2000)


def test_scrolling_up_loads_older_pages(pages, live):
    page = pages.open()
    register(page, "ann@example.com")
    create_room(page, "History")
    api = api_user(live, "ann@example.com")
    for n in range(1, 151):
        api.post_json(f"/v1/logs/{room_id(page)}", {"m": f"message {n}"}, status=201)
    page.reload()
    expect(bodies(page)).to_have_count(50)
    expect(bodies(page).first).to_have_text("message 101")
    expect(bodies(page).last).to_have_text("message 150")
    expect(page.locator("#history-start")).to_be_hidden()

    page.locator("#messages").evaluate("box => box.scrollTop = 0")
    expect(bodies(page)).to_have_count(100)
    # The reader keeps looking at the same message: message 101 is still in view.
    expect(page.locator('#message-list [data-id="101"]')).to_be_in_viewport()
    page.locator("#messages").evaluate("box => box.scrollTop = 0")
    expect(bodies(page)).to_have_count(150)
    expect(page.locator("#history-start")).to_be_visible()
    assert bodies(page).all_inner_texts() == [f"message {n}" for n in range(1, 151)]


@pytest.fixture
def flaky(live):
    """A link to the live server that a test can cut and restore."""
    link = FlakyLink(live)
    yield link
    link.close()


def test_resume_after_a_network_drop_has_no_gap_and_no_duplicate(pages, live, flaky):
    page = pages.open(server=flaky)
    register(page, "ann@example.com")
    create_room(page, "Flaky")
    wait_live(page)
    send(page, "before")
    api = api_user(live, "ann@example.com")
    flaky.cut()
    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    for n in range(1, 6):
        api.post_json(f"/v1/logs/{room_id(page)}", {"m": f"while away {n}"}, status=201)
    flaky.restore()
    expect(bodies(page)).to_have_text(["before"] + [f"while away {n}" for n in range(1, 6)], timeout=15000)
    wait_live(page)
    send(page, "after")
    expect(bodies(page)).to_have_text(["before"] + [f"while away {n}" for n in range(1, 6)] + ["after"])


def test_user_data_is_text_never_html(pages):
    attacker_email = "<b>ann@example.com"
    ann, bob = ann_and_bob_in(pages, "<b>bold</b><img src=x onerror=alert(2)>", ann_email=attacker_email)
    wait_live(ann, bob)
    attack = "<img src=x onerror=alert(1)>"
    send(ann, attack)
    for page in (ann, bob):
        expect(bodies(page)).to_have_text([attack], timeout=2000)
        expect(page.locator("#message-list img, #messages b, .room-item img, .room-item b")).to_have_count(0)
    # The author shows by display name (the part before "@"), still as text.
    expect(bob.locator("#message-list .author").first).to_have_text(attacker_email.split("@")[0])
    assert pages.problems == []


def test_last_member_leaving_removes_the_room_everywhere(pages):
    ann, bob = ann_and_bob_in(pages, "Doomed")
    ann_too = pages.open(like=ann)  # ann's second tab, in the room too
    expect(ann_too.locator("#room-title")).to_have_text("Doomed")
    wait_live(ann_too)

    bob.get_by_role("button", name="Leave").click()  # not the last member: no question
    expect(bob.locator("#room-notice")).to_have_text("You left “Doomed”.")
    expect(bob.locator("#other-rooms .room-item", has_text="Doomed")).to_be_visible()
    expect(ann.locator("#room-meta")).to_contain_text("Only you")

    ann.get_by_role("button", name="Leave").click()
    ann.get_by_role("dialog").get_by_role("button", name="Leave and delete").click()
    expect(ann.locator("#room-notice")).to_contain_text("it was deleted")
    expect(ann_too.locator("#room-notice")).to_have_text("“Doomed” was deleted by its last member.", timeout=2000)
    expect(ann_too.locator("#room-open")).to_be_hidden()
    # Bob is no member: his stream's feed says the public room left the list.
    expect(bob.locator(".room-item", has_text="Doomed")).to_have_count(0, timeout=2000)
    expect(ann.locator(".room-item", has_text="Doomed")).to_have_count(0)


def test_a_message_over_the_rate_waits_and_goes_out_once(pages, serve, settings):
    server = serve(replace(settings, message_rate=(2, 3)))
    page = pages.open(server=server)
    register(page, "ann@example.com")
    create_room(page, "Busy")
    for text in ("one", "two", "three"):
        page.get_by_label("Message", exact=True).fill(text)
        page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator("#pending-list .status", has_text="you are sending too fast")).to_have_count(1)
    expect(page.locator("#pending-list .message")).to_have_count(0, timeout=6000)
    assert sorted(bodies(page).all_inner_texts()) == ["one", "three", "two"]


def test_retry_after_a_lost_answer_reuses_the_cid(pages, live):
    page = pages.open()
    register(page, "ann@example.com")
    create_room(page, "Retry")

    def lose_the_answer(route):
        route.fetch()  # the server stores the message, the browser never hears back
        route.abort()

    page.route(
        "**/v1/logs/*", lambda route: lose_the_answer(route) if route.request.method == "POST" else route.fallback()
    )
    page.get_by_label("Message", exact=True).fill("only once")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator("#pending-list .status")).to_have_text("Not sent: cannot reach the server.")
    page.unroute("**/v1/logs/*")
    page.locator("#pending-list").get_by_role("button", name="Retry").click()
    expect(page.locator("#pending-list .message")).to_have_count(0)
    expect(bodies(page)).to_have_text(["only once"])
    logs = api_user(live, "ann@example.com").get(f"/v1/logs/{room_id(page)}").json["logs"]
    assert [m["m"] for m in logs] == ["only once"]


def test_a_tab_that_lost_its_membership_closes_the_room(pages):
    _, bob = ann_and_bob_in(pages, "Two tabs")
    bob_too = pages.open(like=bob)
    expect(bob_too.locator("#room-title")).to_have_text("Two tabs")
    bob.get_by_role("button", name="Leave").click()
    # The other tab's stream tells it at once.
    expect(bob_too.locator("#room-notice")).to_have_text("You left “Two tabs”.", timeout=2000)


@pytest.fixture
def embedded_live(serve, memory_settings):
    """The embedded default's way: tasks (image uploads, stats counts) run in-process, images come from /media."""
    return serve(memory_settings)


def test_images_by_button_drop_and_paste_render_for_both(pages, embedded_live):
    ann, bob = ann_and_bob_in(pages, "Pictures", server=embedded_live)
    wait_live(ann, bob)

    with ann.expect_file_chooser() as chooser:
        ann.get_by_role("button", name="Send an image").click()
    chooser.value.set_files(files=[{"name": "blue.png", "mimeType": "image/png", "buffer": png()}])
    for page in (ann, bob):
        image = page.locator("#message-list .message img")
        expect(image).to_have_count(1, timeout=10000)
        assert IMAGE_URL.search(image.get_attribute("src"))
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") == 48

    drop = ann.evaluate_handle(
        """bytes => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], "red.png", {type: "image/png"}));
        return data;
    }""",
        list(png(rgb=(214, 40, 40))),
    )
    ann.dispatch_event("#room-open", "dragover", {"dataTransfer": drop})
    expect(ann.locator("#drop-zone")).to_be_visible()
    ann.dispatch_event("#room-open", "drop", {"dataTransfer": drop})
    expect(bob.locator("#message-list .message img")).to_have_count(2, timeout=10000)
    ann.locator("#message-input").evaluate(
        """(input, bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], "green.png", {type: "image/png"}));
        input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""",
        list(png(rgb=(40, 160, 80))),
    )
    expect(bob.locator("#message-list .message img")).to_have_count(3, timeout=10000)
    sources = bob.locator("#message-list .message img").evaluate_all("images => images.map(i => i.src)")
    assert len(set(sources)) == 3

    ann.locator("#image-input").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hi"}]
    )
    expect(ann.locator("#room-error")).to_have_text("Only PNG, JPEG, GIF and WebP images can be sent.")
    # Declared a PNG, but the server judges by the bytes.
    ann.locator("#image-input").set_input_files(files=[{"name": "fake.png", "mimeType": "image/png", "buffer": b"hi"}])
    expect(ann.locator("#pending-list .status")).to_have_text(
        "Not sent: that file is not a PNG, JPEG, GIF or WebP image."
    )
    ann.locator("#pending-list").get_by_role("button", name="Discard").click()
    expect(ann.locator("#pending-list .message")).to_have_count(0)
    # A look-alike URL from elsewhere stays text.
    send(ann, "https://evil.example/images/" + "a" * 64 + ".png")
    expect(bob.locator("#message-list .message img")).to_have_count(3)


def test_stats_view_shows_counts_and_permitted_activity(pages, embedded_live, artifacts):
    ann = pages.open(server=embedded_live)
    register(ann, "ann@example.com")
    create_room(ann, "Counted")
    send(ann, "one for the chart")
    admin = pages.open(server=embedded_live)
    register(admin, "admin@example.com")
    ann.get_by_role("button", name="Stats").click()
    expect(ann.get_by_role("heading", name="Stats")).to_be_visible()
    users = ann.locator("#stats-counts .count", has_text="Users").locator("dd")
    deadline = time.monotonic() + 15
    while users.count() == 0 or users.inner_text() != "2":  # the counts are a snapshot, taken 2 s after changes
        assert time.monotonic() < deadline, "the stats snapshot never counted both users"
        ann.wait_for_timeout(500)
        ann.get_by_role("button", name="Refresh").click()
    expect(ann.locator("#stats-counts .count", has_text="Rooms created").locator("dd")).to_have_text("1")
    expect(ann.locator("#days li").last).to_contain_text("1")
    assert set(ann.locator("#activity-rows td:nth-child(2)").all_inner_texts()) == {"ann@example.com"}
    assert {"register", "create", "message"} <= set(ann.locator("#activity-rows .act").all_inner_texts())
    expect(ann.locator("#stats-scope")).to_contain_text("Your own activity")
    admin.get_by_role("button", name="Stats").click()
    expect(admin.locator("#activity-rows td:nth-child(2)", has_text="ann@example.com").first).to_be_visible()
    expect(admin.locator("#stats-scope")).to_contain_text("Everyone's activity")
    admin.screenshot(path=artifacts / "stats-admin.png")
    ann.keyboard.press("Escape")
    expect(ann.locator("#stats-pane")).to_be_hidden()
    expect(ann.locator("#room-title")).to_have_text("Counted")


def test_keyboard_only_and_phone_layout(pages):
    page = pages.open(viewport=PHONE)
    log_in(page, "nobody@example.com", PASSWORD)
    expect(page.locator("#auth-error")).to_have_text(WRONG_PASSWORD)
    register(page, "ann@example.com")
    page.get_by_label("New room").focus()
    page.keyboard.type("Pocket")
    page.keyboard.press("Enter")
    expect(page.locator("#room-title")).to_have_text("Pocket")
    expect(page.locator("#rooms-pane")).to_be_hidden()  # one pane at a time on a phone
    page.keyboard.type("typed, not clicked")  # opening a room focuses the message box
    page.keyboard.press("Enter")
    expect(bodies(page)).to_have_text(["typed, not clicked"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(page.get_by_label("Message", exact=True)).to_be_in_viewport()
    page.get_by_role("button", name="Back to the room list").click()
    expect(page.locator("#rooms-pane")).to_be_visible()
    expect(page.locator("#my-rooms .room-item", has_text="Pocket")).to_be_focused()


def test_a_busy_room_reads_well_on_desktop_and_phone(pages, embedded_live, artifacts):
    ann = pages.open(server=embedded_live)
    register(ann, "ann@example.com")
    create_room(ann, "Design review")
    roomid = room_id(ann)
    people = {}
    for email in ("bob@example.com", "carol.longname@example.com"):
        people[email] = client = webtest.TestApp(embedded_live.app)
        client.post_json("/auth/register", {"username": email, "password": PASSWORD}, status=201)
        client.post_json("/v1/room", {"userid": email, "action": "enter", "roomid": roomid}, status=200)
    bob, carol = people.values()
    image = bob.post("/v1/image", {"key": "mock.png"}, upload_files=[("file", "mock.png", png(320, 200))]).json["url"]
    script = [
        (bob, "Morning! I pushed the new header."),
        (bob, "Screenshot:"),
        (bob, image),
        (carol, "Looks good. One thing: the spacing under the title\nfeels tight on small screens."),
        (ann, "Agreed, I'll bump it to 0.75rem."),
        (carol, "Also this link is long: https://example.com/" + "very-long-path-segment/" * 6),
        (bob, "👍"),
        (ann, "Shipping it after lunch."),
    ]
    for who, text in script:
        if who is ann:
            send(ann, text)
        else:
            who.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201)
    expect(bodies(ann)).to_have_count(len(script))
    expect(ann.locator("#message-list img")).to_have_js_property("complete", True)
    box = ann.locator("#messages")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth")  # nothing overflows sideways
    expect(bodies(ann).last).to_be_in_viewport()
    ann.screenshot(path=artifacts / "busy-room-desktop.png")

    phone = pages.open(viewport=PHONE, server=embedded_live)
    log_in(phone, "carol.longname@example.com")
    expect(phone.locator("#my-rooms .room-item")).to_have_count(1)
    phone.screenshot(path=artifacts / "phone-rooms.png")
    phone.locator("#my-rooms .room-item").click()
    expect(bodies(phone)).to_have_count(len(script))
    expect(phone.locator("#message-list img")).to_have_js_property("complete", True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.locator("#messages").evaluate("b => b.scrollWidth <= b.clientWidth")
    expect(bodies(phone).last).to_be_in_viewport()
    phone.screenshot(path=artifacts / "phone-room.png")
    phone.get_by_role("button", name="Stats").click()
    expect(phone.locator("#activity-rows tr").first).to_be_visible()
    phone.screenshot(path=artifacts / "phone-stats.png")


def test_form_errors_are_checked_first_and_said_in_human_words(pages):
    page = pages.open()
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/auth/register" in request.url else None)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#auth-email-error")).to_have_text("Enter an email address")
    expect(page.locator("#auth-password-error")).to_have_text("Enter a password")
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
    expect(page.get_by_label("Email", exact=True)).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Email", exact=True).fill("ann@example")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#auth-email-error")).to_have_text("Enter an email address, like name@example.com")
    expect(page.locator("#auth-password-error")).to_have_text("At least 8 characters")
    assert asked == []  # nothing was sent that the server would refuse
    page.get_by_label("Email", exact=True).fill("ann@example.com")
    expect(page.locator("#auth-email-error")).to_be_empty()  # fixed: its error goes as you type
    expect(page.locator("#auth-password-error")).to_have_text("At least 8 characters")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")
    assert len(asked) == 1


def test_leaving_as_the_last_member_asks_first(pages, live, artifacts):
    page = pages.open()
    register(page, "ann@example.com")
    create_room(page, "Launch plan")
    api = api_user(live, "ann@example.com")
    for n in range(1, 215):
        api.post_json(f"/v1/logs/{room_id(page)}", {"m": f"plan {n}"}, status=201)
    page.reload()
    expect(bodies(page).last).to_have_text("plan 214")
    dialog = page.get_by_role("dialog")
    page.get_by_role("button", name="Leave").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("You are the last member: leaving deletes “Launch plan” and its 214 messages")
    page.screenshot(path=artifacts / "leave-last-member.png")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#room-title")).to_have_text("Launch plan")
    page.get_by_role("button", name="Leave").click()
    page.keyboard.press("Escape")  # Escape cancels too
    expect(dialog).to_be_hidden()
    expect(page.locator("#room-open")).to_be_visible()
    assert api.get(f"/v1/logs/{room_id(page)}?limit=1", status=200).json["logs"]
    page.get_by_role("button", name="Leave").click()
    dialog.get_by_role("button", name="Leave and delete").click()
    expect(page.locator("#room-notice")).to_contain_text("it was deleted")
    expect(page.locator(".room-item", has_text="Launch plan")).to_have_count(0)


def test_the_newest_message_stays_in_view_and_a_reader_who_scrolled_up_gets_a_jump(pages, live):
    page = pages.open()
    register(page, "ann@example.com")
    create_room(page, "Pinned")
    page.set_viewport_size(PHONE)
    api = new_member(live, "bob@example.com", room_id(page))
    for n in range(1, 61):
        api.post_json(f"/v1/logs/{room_id(page)}", {"m": f"line {n}"}, status=201)
    page.reload()
    expect(bodies(page).last).to_have_text("line 60")
    expect(bodies(page).last).to_be_in_viewport()
    # A phone keyboard opens: the window gets shorter, the newest message stays in view.
    page.set_viewport_size({"width": PHONE["width"], "height": 360})
    expect(bodies(page).last).to_be_in_viewport()
    page.set_viewport_size(PHONE)
    expect(bodies(page).last).to_be_in_viewport()
    jump = page.get_by_role("button", name="New messages")
    expect(jump).to_be_hidden()

    # The reader scrolls up: new messages do not move the view, the jump button says they came.
    box = page.locator("#messages")
    box.evaluate("b => b.scrollTop = b.scrollHeight / 2")
    page.wait_for_timeout(200)
    looking_at = box.evaluate("b => b.scrollTop")
    api.post_json(f"/v1/logs/{room_id(page)}", {"m": "while you read"}, status=201)
    expect(bodies(page).last).to_have_text("while you read", timeout=5000)
    expect(jump).to_be_visible()
    expect(bodies(page).last).not_to_be_in_viewport()
    page.set_viewport_size({"width": PHONE["width"], "height": 400})
    page.wait_for_timeout(200)
    assert abs(box.evaluate("b => b.scrollTop") - looking_at) < 5  # a resize does not yank the reader down
    jump.click()
    expect(bodies(page).last).to_be_in_viewport()
    expect(jump).to_be_hidden()
    api.post_json(f"/v1/logs/{room_id(page)}", {"m": "and now live"}, status=201)
    expect(bodies(page).last).to_have_text("and now live", timeout=5000)
    expect(bodies(page).last).to_be_in_viewport()
    expect(jump).to_be_hidden()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshots_light_and_dark(pages, embedded_live, artifacts, scheme, size):
    """Pictures of every view for a person to look at: tests/artifacts/look-<size>-<scheme>-*.png."""
    viewport = DESKTOP if size == "desktop" else PHONE

    def shot(page, what):
        page.screenshot(path=artifacts / f"look-{size}-{scheme}-{what}.png")

    page = pages.open(viewport=viewport, server=embedded_live, color_scheme=scheme)
    page.get_by_label("Email", exact=True).fill("ann@example")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#auth-password-error")).to_have_text("Enter a password")
    shot(page, "login-errors")
    page.get_by_label("Email", exact=True).fill("ann@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("New room").fill("Launch plan")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#room-title")).to_have_text("Launch plan")
    api = api_user(embedded_live, "ann@example.com")
    image = api.post("/v1/image", {"key": "mock.png"}, upload_files=[("file", "mock.png", png(320, 200))]).json["url"]
    for n in range(1, 40):
        api.post_json(f"/v1/logs/{room_id(page)}", {"m": f"Step {n} of the plan"}, status=201)
    api.post_json(f"/v1/logs/{room_id(page)}", {"m": image}, status=201)
    page.reload()
    expect(page.locator("#message-list img")).to_have_js_property("complete", True)
    expect(page.locator("#message-list img")).to_be_in_viewport()
    page.get_by_role("button", name="Leave").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    shot(page, "leave-dialog")
    page.get_by_role("button", name="Cancel").click()
    wait_live(page)
    page.locator("#messages").evaluate("b => b.scrollTop = 0")
    bob = new_member(embedded_live, "bob@example.com", room_id(page))
    bob.post_json(f"/v1/logs/{room_id(page)}", {"m": "A new one"}, status=201)
    expect(page.get_by_role("button", name="New messages")).to_be_visible()
    shot(page, "room-jump")
    page.get_by_role("button", name="Stats").click()
    expect(page.locator("#activity-rows .detail a", has_text="an image").first).to_be_visible()
    expect(page.locator("#activity-rows")).not_to_contain_text("/media/images/")
    deadline = time.monotonic() + 15
    while page.locator("#days li").count() == 0:  # the counts are a snapshot, taken 2 s after changes
        assert time.monotonic() < deadline, "the stats snapshot never came"
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Refresh").click()
    shot(page, "stats")
    # The pane scrolls as a whole: the activity table is never a squeezed scroll box of its own.
    assert page.locator(".table-wrap").evaluate("t => t.scrollHeight <= t.clientHeight + 1")
    page.locator("#activity-rows tr").last.scroll_into_view_if_needed()
    shot(page, "stats-scrolled")


HOSTILE_FORMATTING = [
    "<script>window.__pwned = 1</script>",
    "<img src=x onerror=window.__pwned=2>",
    "&lt;script&gt;window.__pwned=3&lt;/script&gt; &#x3C;b&#x3E;",
    "[click](javascript:window.__pwned=4)",
    "[click](data:text/html;base64,PHNjcmlwdD4=) data:text/html,<b>x</b>",
    '[x](https://ok.example/"onmouseover="window.__pwned=5)',
    "```\nunterminated <b>code",
    "`unterminated code <i>",
    "**" * 2000,
    "> " * 2000 + "deep",
    "\n".join([">"] * 3000),
    "[" * 4000,
]


def test_formatting_renders_the_safe_subset_and_nothing_hostile_runs(pages, live, artifacts):
    ann, bob = ann_and_bob_in(pages, "Formatting")
    wait_live(ann, bob)
    send(ann, "**bold** *italic* ~~gone~~ `code` and https://example.com/docs\n> a quote\n- one\n- two")
    send(ann, "```\nprint('hi')\n```")
    send(ann, "🎉🎉")
    send(ann, "thanks <@bob@example.com>")
    expect(bob.locator("#message-list .body .mention")).to_have_text("@bob")  # the current name, not the email
    body = bob.locator("#message-list .message .body").first
    expect(body.locator("strong")).to_have_text("bold")
    expect(body.locator("em")).to_have_text("italic")
    expect(body.locator("del")).to_have_text("gone")
    expect(body.locator("code")).to_have_text("code")
    link = body.locator("a")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(body.locator("blockquote")).to_have_text("a quote")
    expect(body.locator("li")).to_have_count(2)
    expect(bob.locator("#message-list pre code")).to_have_text("print('hi')")
    expect(bob.locator("#message-list .body.jumbo")).to_have_text("🎉🎉")
    bob.screenshot(path=artifacts / "formatting.png")
    # The hostile corpus, through the page's own module: nothing runs, only the subset's elements exist.
    report = bob.evaluate(
        """async (corpus) => {
            const { render } = await import("chat/formatted");
            const allowed = new Set(
                ["P", "PRE", "CODE", "BLOCKQUOTE", "UL", "OL", "LI", "STRONG", "EM", "DEL", "A", "SPAN"]);
            const started = performance.now();
            const bad = [];
            for (const text of corpus) {
                const box = document.createElement("div");
                box.append(render(text));
                document.body.append(box);
                for (const node of box.querySelectorAll("*")) {
                    if (!allowed.has(node.tagName)) bad.push(node.tagName);
                    for (const attr of node.attributes) if (attr.name.startsWith("on")) bad.push(attr.name);
                    if (node.tagName === "A" && !/^(https?|mailto):/.test(node.href)) bad.push(node.href);
                }
                box.remove();
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
            return { bad, pwned: window.__pwned ?? null, ms: performance.now() - started };
        }""",
        HOSTILE_FORMATTING,
    )
    assert report["bad"] == [] and report["pwned"] is None
    assert report["ms"] < 3000, report


def test_unread_rooms_stand_out_and_the_marker_follows_what_is_seen(pages, live, artifacts):
    ann, bob = ann_and_bob_in(pages, "News")
    wait_live(ann, bob)
    bob.get_by_label("New room").fill("Elsewhere")
    bob.get_by_role("button", name="Create", exact=True).click()
    expect(bob.locator("#room-title")).to_have_text("Elsewhere")
    api = api_user(live, "ann@example.com")
    roomid = next(r["roomid"] for r in api.get("/v1/room/ann@example.com").json["join_rooms"] if r["name"] == "News")
    for text in ("one", "two", "hey @bob@example.com, look"):
        api.post_json(f"/v1/logs/{roomid}", {"m": text}, status=201)
    news = bob.locator("#my-rooms .room-item", has_text="News")
    expect(news.locator(".unread-count")).to_have_text("3", timeout=2000)  # counted from the page's stream
    expect(news.locator(".mention-badge")).to_have_text("@1")
    expect(news).to_have_class(re.compile("has-news"))
    expect(bob).to_have_title("(3) Elsewhere · chat")
    bob.screenshot(path=artifacts / "unread-sidebar.png")
    news.click()
    expect(bob.locator("#room-title")).to_have_text("News")
    divider = bob.locator("#message-list .new-divider")
    expect(divider).to_have_text("New messages")
    expect(bob.locator("#message-list .new-divider + .message .body")).to_have_text("one")
    # Seen in the open, visible page: the marker moves and the count goes.
    expect(news.locator(".unread-count")).to_have_count(0, timeout=5000)
    expect(bob).to_have_title("News · chat")
    assert api_user(live, "bob@example.com").get("/v1/room/bob@example.com").json["join_rooms"][0]["unread"] == 0


HIDE_AND_RECORD_NOTIFICATIONS = """() => {
  Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
  const Real = window.Notification;
  window.shown = [];
  window.Notification = class extends Real {
    constructor(title, options) { super(title, options); window.shown.push({ title, ...options, n: this }); }
  };
}"""

NOTIFICATION_CARD = """([title, body]) => {
  document.body.style.cssText = "margin:0;background:#1f2329;font:14px system-ui,sans-serif";
  const card = document.createElement("div");
  card.style.cssText = "margin:24px;padding:14px 16px;width:340px;border-radius:12px;background:#2d3239;color:#eee;"
    + "box-shadow:0 6px 24px #0008";
  const head = document.createElement("div");
  head.style.cssText = "font-size:12px;color:#aaa;margin-bottom:6px";
  head.textContent = "chat · 127.0.0.1";
  const strong = document.createElement("div");
  strong.style.cssText = "font-weight:600;margin-bottom:2px";
  strong.textContent = title;
  const text = document.createElement("div");
  text.textContent = body;
  card.append(head, strong, text);
  document.body.replaceChildren(card);
}"""


def test_a_hidden_page_notifies_per_level_once_per_room_and_a_click_opens_the_room(pages, live, artifacts):
    ann, bob = ann_and_bob_in(pages, "Ops")
    wait_live(ann, bob)
    bob.context.grant_permissions(["notifications"])
    bob.get_by_role("button", name="Notifications").click()  # permission is asked on this press only
    expect(bob.get_by_role("button", name="Notifications on")).to_be_visible()
    bob.get_by_label("New room").fill("Elsewhere")
    bob.get_by_role("button", name="Create", exact=True).click()
    expect(bob.locator("#room-title")).to_have_text("Elsewhere")
    bob.evaluate(HIDE_AND_RECORD_NOTIFICATIONS)
    send(ann, "no mention: a room notifies of mentions only")
    send(ann, "@bob@example.com the deploy is green")
    send(ann, "and @bob@example.com one more")
    bob.wait_for_function("window.shown.length === 2")
    shown = bob.evaluate("window.shown.map(({ title, body, tag }) => ({ title, body, tag }))")
    assert [n["title"] for n in shown] == ["Ops", "Ops"] and shown[0]["tag"] == shown[1]["tag"]  # one per room
    assert shown[0]["body"] == "Ann: @bob@example.com the deploy is green".replace(
        "Ann", shown[0]["body"].split(":")[0]
    )
    assert not any("no mention" in n["body"] for n in shown)
    bob.evaluate("window.shown[1].n.dispatchEvent(new Event('click'))")
    expect(bob.locator("#room-title")).to_have_text("Ops")
    card = pages.open()
    card.goto("about:blank")  # drawn on an empty page: the app's own scripts must not find their elements gone
    card.evaluate(NOTIFICATION_CARD, [shown[1]["title"], shown[1]["body"]])
    card.screenshot(path=artifacts / "notification.png")


# ---- people: names and avatars, members, direct messages, private rooms, invitations, typing, moderation ----


def test_a_direct_message_starts_from_a_members_name(pages, artifacts):
    ann, bob = ann_and_bob_in(pages, "Team")
    wait_live(ann, bob)
    expect(ann.locator("#members-count")).to_have_text("2")
    members_panel(ann)
    expect(member(ann, "bob").locator(".presence")).to_have_class("presence online")
    expect(member(ann, "ann").locator(".tag")).to_have_text(["you", "owner"])
    expect(member(ann, "bob")).not_to_contain_text("bob@example.com")  # emails only on the card
    member(ann, "bob").click()
    card = ann.get_by_role("dialog")
    expect(card.locator("#person-name")).to_have_text("bob")
    expect(card.locator("#person-email")).to_have_text("bob@example.com")
    expect(card.get_by_role("button", name="Remove from room")).to_be_visible()  # ann owns the room
    ann.screenshot(path=artifacts / "person-card.png")
    card.get_by_role("button", name="Message").click()
    expect(ann.locator("#room-title")).to_have_text("bob")
    expect(ann.locator("#room-meta")).to_have_text("Direct message")
    expect(ann.locator("#invite-button")).to_be_hidden()
    expect(ann.locator("#direct-rooms .room-name")).to_have_text(["bob"])
    expect(ann.locator("#direct-rooms .room-count")).to_have_text(["Direct message"])
    wait_live(ann)
    send(ann, "just between us")
    bob.reload()
    dm = bob.locator("#direct-rooms .room-item", has_text="ann")
    expect(dm.locator(".unread-count")).to_have_text("1")
    dm.click()
    expect(bodies(bob)).to_have_text(["just between us"])
    expect(bob.locator("#message-list .message .author")).to_have_text(["ann"])
    expect(bob.locator("#message-list .message .avatar")).to_have_text(["A"])
    ann.screenshot(path=artifacts / "direct-message.png")


def test_a_private_room_by_invitation_and_by_link(pages, artifacts):
    ann = pages.open()
    register(ann, "ann@example.com")
    create_private_room(ann, "Secret plans")
    bob = pages.open()
    register(bob, "bob@example.com")
    carl = pages.open(viewport=PHONE)
    register(carl, "carl@example.com")
    expect(bob.locator("#other-rooms .room-item", has_text="Secret plans")).to_have_count(0)

    ann.get_by_role("button", name="Invite").click()
    dialog = ann.get_by_role("dialog")
    dialog.get_by_label("Invite someone").fill("nobody@example.com")
    dialog.get_by_role("button", name="Invite", exact=True).click()
    expect(dialog.locator("#invite-status")).to_contain_text("Nobody is registered as nobody@example.com")
    dialog.get_by_label("Invite someone").fill("bob@example.com")
    dialog.get_by_role("button", name="Invite", exact=True).click()
    expect(dialog.locator("#invite-status")).to_have_text(
        "Invited bob@example.com: they will see it in their invitations."
    )
    ann.context.grant_permissions(["clipboard-read", "clipboard-write"])
    dialog.get_by_role("button", name="Create link").click()
    link = dialog.locator("#invite-link")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/\?join=[A-Za-z0-9_-]{32}$"))
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert ann.evaluate("navigator.clipboard.readText()") == link.input_value()
    ann.screenshot(path=artifacts / "invite-dialog.png")
    url = link.input_value()
    dialog.get_by_role("button", name="Done").click()
    wait_live(ann)

    bob.reload()  # the invitation also shows by itself within 10 s
    invite = bob.locator("#invites .invite", has_text="Secret plans")
    expect(invite).to_contain_text("from ann")
    bob.screenshot(path=artifacts / "invitation.png")
    invite.get_by_role("button", name="Accept").click()
    expect(bob.locator("#room-title")).to_have_text("Secret plans")
    expect(bob.locator("#invites-section")).to_be_hidden()
    expect(ann.locator("#message-list .note").last).to_contain_text("bob joined the room")

    carl.goto(url)  # the link, opened on a phone by someone logged in
    expect(carl.locator("#room-title")).to_have_text("Secret plans")
    assert "join=" not in carl.url
    expect(ann.locator("#message-list .note").last).to_contain_text("carl joined the room")
    members_panel(carl)
    expect(carl.locator("#members .member-name")).to_have_text(["ann", "bob", "carl"])
    carl.screenshot(path=artifacts / "phone-members.png")
    carl.goto(url.replace("join=", "join=x"))
    expect(carl.locator("#room-notice")).to_contain_text("This invite link is not valid")


def test_one_stream_per_page_brings_rooms_invitations_and_news_without_polling(pages, live, artifacts):
    ann, bob = pages.open(), pages.open()
    asked = []
    ann.on("request", lambda request: asked.append(request.url.split("/", 3)[3]))
    register(ann, "ann@example.com")
    register(bob, "bob@example.com")
    wait_live(ann, bob)
    create_room(bob, "Fresh")
    expect(ann.locator("#other-rooms .room-item", has_text="Fresh")).to_be_visible(timeout=1000)
    create_private_room(bob, "Quiet corner")
    api_user(live, "bob@example.com").post_json(
        f"/v1/rooms/{room_id(bob)}/invites", {"userid": "ann@example.com"}, status=201
    )
    expect(ann.locator("#invites .invite", has_text="Quiet corner")).to_be_visible(timeout=1000)
    join_room(ann, "Fresh")
    create_room(ann, "Elsewhere")  # ann looks at another room while bob writes in Fresh
    open_room(bob, "Fresh")
    send(bob, "news for @ann@example.com")
    fresh = ann.locator("#my-rooms .room-item", has_text="Fresh")
    expect(fresh.locator(".unread-count")).to_have_text("1", timeout=1000)
    expect(fresh.locator(".mention-badge")).to_have_text("@1")
    expect(ann).to_have_title(re.compile(r"^\(1\) "))
    fresh.click()
    expect(fresh.locator(".unread-count")).to_have_count(0)  # seen: the marker moved, the stream said so
    ann.screenshot(path=artifacts / "user-stream-news.png")
    # One stream for the whole page, and nothing read again on a timer while it sits idle.
    assert {url.split("?")[0] for url in asked if url.startswith("v1/events")} == {"v1/events"}
    asked.clear()
    time.sleep(11)
    assert [url for url in asked if not url.startswith("static/")] == []


def test_a_webhooks_message_shows_its_name_and_a_bot_badge(pages, live, artifacts):
    ann = pages.open()
    register(ann, "ann@example.com")
    create_room(ann, "Builds")
    hook = api_user(live, "ann@example.com").post_json(f"/v1/rooms/{room_id(ann)}/hooks", {"name": "Deploy bot"})
    path = "/" + hook.json["url"].split("/", 3)[3]
    webtest.TestApp(live.app).post_json(path, {"m": "build 412 is green"}, status=201)
    message = ann.locator("#message-list .message", has_text="build 412 is green")
    expect(message.locator(".author")).to_have_text("Deploy bot")
    expect(message.locator(".bot-badge")).to_have_text("bot")
    message.screenshot(path=artifacts / "bot-message.png")


def test_opening_the_page_takes_three_requests(pages, live):
    """The page (who is signed in), the user's stream (people, rooms, counts, invitations), the open room's
    latest page: nothing else goes to the server, however many rooms there are."""
    ann = pages.open()
    register(ann, "ann@example.com")
    for name in ("One", "Two", "Three"):
        create_room(ann, name)
    send(ann, "hello")
    asked = []
    ann.on("request", lambda request: asked.append(request.url.split("/", 3)[3]))
    ann.reload()
    expect(ann.locator("#message-list .message", has_text="hello")).to_be_visible()
    wait_live(ann)
    expect(ann.locator("#my-rooms .room-item")).to_have_count(3)
    ann.wait_for_timeout(500)
    requests = [url.split("?")[0] for url in asked if not url.startswith(("static/", "favicon"))]
    assert requests[0].startswith("#") or requests[0] == "", requests
    assert sorted(requests[1:]) == sorted(["v1/events", f"v1/logs/{room_id(ann)}"]), requests


def test_a_declined_invitation_goes_away(pages, live):
    ann = pages.open()
    register(ann, "ann@example.com")
    create_private_room(ann, "Maybe")
    bob = pages.open()
    register(bob, "bob@example.com")
    api_user(live, "ann@example.com").post_json(
        f"/v1/rooms/{room_id(ann)}/invites", {"userid": "bob@example.com"}, status=201
    )
    bob.reload()
    bob.locator("#invites .invite", has_text="Maybe").get_by_role("button", name="Decline").click()
    expect(bob.locator("#invites-section")).to_be_hidden()
    assert api_user(live, "bob@example.com").get("/v1/invites").json == {"invites": []}


def test_typing_a_rename_and_a_removal_seen_live(pages):
    ann, bob = ann_and_bob_in(pages, "Standup")
    carl = pages.open(viewport=PHONE)
    register(carl, "carl@example.com")
    carl.locator("#other-rooms .room-item", has_text="Standup").click()
    wait_live(ann, bob, carl)
    # Typing is live only (never replayed): first see that carl's stream follows the room he just joined.
    send(ann, "morning")
    expect(carl.locator("#message-list .message", has_text="morning")).to_be_visible()

    bob.get_by_label("Message", exact=True).press_sequentially("I am wri")
    expect(ann.locator("#typing")).to_have_text("bob is typing…", timeout=3000)
    expect(carl.locator("#typing")).to_have_text("bob is typing…", timeout=3000)
    expect(bob.locator("#typing")).to_have_text("")  # not one's own
    expect(ann.locator("#typing")).to_have_text("", timeout=7000)  # 5 s after the last notice

    members_panel(ann)
    expect(ann.locator("#room-settings")).to_have_attribute("open", "")  # open for the owner
    ann.get_by_label("Name", exact=True).fill("Daily standup")
    ann.locator("#settings-form").get_by_role("button", name="Save").click()
    expect(ann.locator("#settings-status")).to_have_text("Saved.")
    for page in (ann, bob, carl):
        expect(page.locator("#room-title")).to_have_text("Daily standup", timeout=5000)
    expect(bob.locator("#message-list .note").last).to_contain_text("ann renamed the room to “Daily standup”")
    expect(bob.locator("#my-rooms .room-item", has_text="Daily standup")).to_be_visible()

    # Bob is no owner: the settings are tucked away, and trying says so politely.
    members_panel(bob)
    expect(bob.locator("#room-settings")).not_to_have_attribute("open", "")
    expect(bob.locator("#settings-who")).to_have_text("Only the owner (or an administrator) can change these.")
    bob.locator("#room-settings summary").click()
    bob.get_by_label("Name", exact=True).fill("Bob's room")
    bob.locator("#settings-form").get_by_role("button", name="Save").click()
    expect(bob.locator("#settings-status")).to_have_text("Only the room's owner or an administrator can change it.")
    member(bob, "carl").click()
    expect(bob.get_by_role("button", name="Remove from room")).to_be_hidden()
    bob.get_by_role("button", name="Show the room's moderation").click()  # an admin could; bob cannot
    bob.get_by_role("button", name="Remove from room").click()
    expect(bob.locator("#person-error")).to_have_text("Only the room's owner or an administrator can do that.")
    bob.get_by_role("button", name="Close", exact=True).click()

    member(ann, "carl").click()
    ann.get_by_role("button", name="Remove from room").click()
    expect(carl.locator("#room-notice")).to_have_text("You were removed from “Daily standup”.", timeout=5000)
    expect(carl.locator("#room-open")).to_be_hidden()
    expect(carl.locator("#my-rooms .room-item", has_text="Daily standup")).to_have_count(0)
    expect(bob.locator("#message-list .note").last).to_contain_text("ann removed carl from the room")
    expect(member(ann, "carl")).to_have_count(0)
    expect(ann.locator("#members-count")).to_have_text("2", timeout=5000)


def test_a_new_name_and_picture_show_everywhere_and_twins_are_told_apart(pages, embedded_live, artifacts, tmp_path):
    ann, bob = ann_and_bob_in(pages, "Names", server=embedded_live)
    wait_live(ann, bob)
    send(bob, "hello")
    members_panel(ann)
    expect(member(ann, "bob")).to_be_visible()

    bob.locator("#profile-button").click()
    dialog = bob.get_by_role("dialog")
    expect(dialog.locator("#profile-email")).to_have_text("bob@example.com")
    picture = tmp_path / "me.png"
    picture.write_bytes(png(64, 64, (230, 120, 40)))
    dialog.locator("#profile-file").set_input_files(picture)
    expect(dialog.locator("#profile-avatar img")).to_be_visible()
    dialog.get_by_label("Display name").fill("ann")
    bob.screenshot(path=artifacts / "profile-editor.png")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(bob.locator("#whoami")).to_have_text("ann")

    # Ann's page learns it with the next member list; then two "ann"s show their emails.
    ann.locator("#members-button").click()
    members_panel(ann)
    expect(ann.locator("#members .member-name")).to_have_text(["ann", "ann"])
    expect(ann.locator("#members .member-email")).to_have_text(["ann@example.com", "bob@example.com"])
    expect(ann.locator("#members .member").nth(1).locator(".avatar img")).to_be_visible()
    expect(ann.locator("#message-list .message .author")).to_have_text(["ann"])  # bob's message, by his new name
    ann.screenshot(path=artifacts / "twins-members.png")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_people_screenshots(pages, live, artifacts, scheme, size):
    """Pictures for a person to look at: tests/artifacts/people-<size>-<scheme>-*.png."""
    viewport = DESKTOP if size == "desktop" else PHONE

    def shot(page, what):
        page.screenshot(path=artifacts / f"people-{size}-{scheme}-{what}.png")

    ann = pages.open(viewport=viewport, color_scheme=scheme)
    register(ann, "ann@example.com")
    bob = pages.open(viewport=viewport, color_scheme=scheme)
    register(bob, "bob@example.com")
    api = api_user(live, "ann@example.com")
    api.put_json("/v1/profile", {"name": "Ann Lee"}, status=200)

    def new_room(name, visibility):
        body = {"userid": "ann@example.com", "action": "enter", "roomid": None, "name": name, "visibility": visibility}
        return api.post_json("/v1/room", body, status=200).json["roomid"]

    roomid = new_room("Launch plan", "public")
    api_user(live, "bob@example.com").post_json(
        "/v1/room", {"userid": "bob@example.com", "action": "enter", "roomid": roomid}, status=200
    )
    api.post_json(f"/v1/rooms/{new_room('Design', 'private')}/invites", {"userid": "bob@example.com"}, status=201)
    api.post_json("/v1/dm", {"userid": "bob@example.com"}, status=200)
    api.post_json(f"/v1/logs/{roomid}", {"m": "Kick-off at ten"}, status=201)
    ann.goto(f"/#room={roomid}")
    ann.reload()
    expect(ann.locator("#room-title")).to_have_text("Launch plan")
    bob.reload()
    expect(bob.locator("#invites .invite")).to_have_count(1)
    shot(bob, "sidebar")
    bob.locator("#my-rooms .room-item", has_text="Launch plan").click()
    wait_live(bob)
    ann.get_by_label("Message", exact=True).press_sequentially("typing")
    expect(bob.locator("#typing")).to_have_text("Ann Lee is typing…", timeout=3000)
    shot(bob, "room")
    members_panel(bob)
    shot(bob, "members")
    member(bob, "Ann Lee").click()
    shot(bob, "card")


def message(page, text: str):
    """The conversation's message whose body has `text`."""
    return page.locator("#message-list .message", has=page.locator(".body", has_text=text))


def act_on(page, text: str, action: str) -> None:
    """Hover a message (its toolbar shows on hover) and press one of its action buttons."""
    item = message(page, text)
    item.hover()
    item.get_by_role("button", name=action, exact=True).click()


def chip(page, text: str, emoji: str):
    return message(page, text).locator(".chip", has_text=emoji)


def test_edits_deletions_reactions_and_replies_are_seen_live_by_the_other(pages, artifacts):
    ann, bob = ann_and_bob_in(pages, "Timeline")
    wait_live(ann, bob)
    send(ann, "first message")
    send(ann, "second one")
    send(bob, "bob's own")
    expect(bodies(bob)).to_have_text(["first message", "second one", "bob's own"])

    # Edit in place: Enter saves, and the other page shows the new text with "(edited)".
    act_on(ann, "first message", "Edit")
    editor = ann.get_by_label("Edit the message")
    expect(editor).to_be_focused()
    editor.fill("first message, corrected")
    editor.press("Enter")
    for page in (ann, bob):
        expect(bodies(page).first).to_have_text("first message, corrected (edited)")
    expect(message(bob, "first message").locator(".edited")).to_have_attribute("title", re.compile("^Edited "))

    # Esc cancels an edit and leaves the message as it was.
    act_on(ann, "second one", "Edit")
    ann.get_by_label("Edit the message").fill("a slip of the keyboard")
    ann.get_by_label("Edit the message").press("Escape")
    expect(ann.locator(".edit-box")).to_have_count(0)
    expect(bodies(ann).nth(1)).to_have_text("second one")
    expect(ann.get_by_label("Message", exact=True)).to_be_focused()

    # Up-arrow in the empty composer edits one's last message.
    ann.get_by_label("Message", exact=True).press("ArrowUp")
    expect(ann.get_by_label("Edit the message")).to_have_value("second one")
    ann.get_by_label("Edit the message").fill("second, via the up arrow")
    ann.get_by_label("Edit the message").press("Enter")
    expect(bodies(bob).nth(1)).to_have_text("second, via the up arrow (edited)")

    # Only one's own messages can be edited; only one's own (or, for the owner, any) deleted.
    message(bob, "corrected").hover()
    expect(message(bob, "corrected").get_by_role("button", name="Edit", exact=True)).to_have_count(0)
    expect(message(bob, "corrected").get_by_role("button", name="Delete", exact=True)).to_have_count(0)
    message(ann, "bob's own").hover()
    expect(
        message(ann, "bob's own").get_by_role("button", name="Delete", exact=True)
    ).to_be_visible()  # ann owns the room

    # Reactions: bob picks one, ann adds hers by the chip, bob takes his back.
    act_on(bob, "corrected", "Add a reaction")
    bob.get_by_role("button", name="React with 👍").click()
    for page, pressed in ((bob, "true"), (ann, "false")):
        expect(chip(page, "corrected", "👍")).to_have_text("👍1")
        expect(chip(page, "corrected", "👍")).to_have_attribute("aria-pressed", pressed)
    expect(chip(ann, "corrected", "👍")).to_have_attribute("title", "bob reacted with 👍")
    chip(ann, "corrected", "👍").click()
    for page in (ann, bob):
        expect(chip(page, "corrected", "👍")).to_have_text("👍2")
    expect(chip(ann, "corrected", "👍")).to_have_attribute("aria-pressed", "true")
    expect(chip(bob, "corrected", "👍")).to_have_attribute("title", "You, ann reacted with 👍")
    chip(bob, "corrected", "👍").click()
    for page in (ann, bob):
        expect(chip(page, "corrected", "👍")).to_have_text("👍1")
    expect(chip(bob, "corrected", "👍")).to_have_attribute("aria-pressed", "false")
    # The picker remembers what one used last.
    act_on(bob, "second, via", "Add a reaction")
    expect(bob.locator(".emoji-picker .picker-label")).to_have_text("Recent")
    expect(bob.locator(".emoji-picker .emoji-choice").first).to_have_text("👍")
    bob.keyboard.press("Escape")
    expect(bob.locator(".emoji-picker")).to_have_count(0)

    # A reply: "Replying to …" over the composer, then a quote above the reply on both pages.
    act_on(bob, "second, via", "Reply")
    expect(bob.locator("#reply-bar")).to_have_text(re.compile("Replying to ann second, via the up arrow"))
    send(bob, "an answer")
    expect(bob.locator("#reply-bar")).to_be_hidden()
    for page in (ann, bob):
        quote = message(page, "an answer").locator(".reply-quote")
        expect(quote).to_have_text(re.compile("second, via the up arrow"))
    expect(message(ann, "an answer").locator(".reply-author")).to_have_text("You")
    message(ann, "an answer").locator(".reply-quote").click()
    expect(message(ann, "second, via")).to_have_class(re.compile("highlight"))

    # Delete asks first; Cancel keeps it; Delete leaves a tombstone everywhere, and the quote follows.
    act_on(ann, "second, via", "Delete")
    expect(ann.locator("#delete-dialog")).to_be_visible()
    expect(ann.locator("#delete-dialog-text")).to_contain_text("second, via the up arrow")
    ann.screenshot(path=artifacts / "timeline-delete-dialog.png")
    ann.get_by_role("button", name="Cancel").click()
    expect(bodies(ann)).to_have_count(4)
    act_on(ann, "second, via", "Delete")
    ann.locator("#delete-dialog").get_by_role("button", name="Delete").click()
    for page in (ann, bob):
        expect(page.locator("#message-list .tombstone")).to_have_text(["message deleted"])
        expect(bodies(page)).to_have_text(["first message, corrected (edited)", "bob's own", "an answer"])
        expect(message(page, "an answer").locator(".reply-quote")).to_have_text(re.compile("message deleted"))
    bob.screenshot(path=artifacts / "timeline-live.png")


def test_after_a_reconnect_each_missed_edit_delete_and_reaction_shows_once(pages, live, flaky):
    page = pages.open(server=flaky)
    register(page, "ann@example.com")
    create_room(page, "Flaky timeline")
    roomid = room_id(page)
    bob = new_member(live, "bob@example.com", roomid)
    path = f"/v1/logs/{roomid}"
    for n in range(1, 56):  # message 1..5 stay out of the first page of 50
        bob.post_json(path, {"m": f"bob {n}"}, status=201)
    page.reload()
    wait_live(page)
    expect(bodies(page).last).to_have_text("bob 55")
    expect(bodies(page)).to_have_count(50)

    flaky.cut()
    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    bob.patch_json(f"{path}/54", {"m": "bob 54, edited"}, status=200)
    bob.patch_json(f"{path}/54", {"m": "bob 54, edited twice"}, status=200)
    bob.delete(f"{path}/53", status=200)
    bob.put(f"{path}/55/reactions/{quote('🎉')}", status=200)
    bob.put(f"{path}/55/reactions/{quote('👍')}", status=200)
    bob.delete(f"{path}/55/reactions/{quote('🎉')}", status=200)
    bob.patch_json(f"{path}/2", {"m": "an old one, edited"}, status=200)  # not loaded: the page ignores it
    bob.delete(f"{path}/3", status=200)
    bob.post_json(path, {"m": "while away", "reply_to": 54}, status=201)
    flaky.restore()

    expect(bodies(page).last).to_have_text("while away", timeout=15000)
    wait_live(page)
    expect(message(page, "bob 54")).to_have_count(1)
    expect(message(page, "bob 54").locator(".body")).to_have_text("bob 54, edited twice (edited)")
    expect(page.locator("#message-list .tombstone")).to_have_count(1)
    expect(page.locator('#message-list .message[data-id="53"] .tombstone')).to_have_text("message deleted")
    expect(message(page, "bob 55").locator(".chip")).to_have_text(["👍1"])
    expect(message(page, "while away").locator(".reply-quote")).to_have_text(re.compile("bob 54, edited twice"))
    expect(bodies(page)).to_have_count(50)  # 6..55 less the deleted 53, plus the new one
    assert page.locator('#message-list .message[data-id="2"]').count() == 0

    # Scrolling up later loads the old ones as they are now.
    page.locator("#messages").evaluate("b => b.scrollTop = 0")
    expect(page.locator('#message-list .message[data-id="3"] .tombstone')).to_have_text("message deleted", timeout=5000)
    expect(page.locator('#message-list .message[data-id="2"] .body')).to_have_text("an old one, edited (edited)")
    ids = page.locator("#message-list .message").evaluate_all("items => items.map(i => Number(i.dataset.id))")
    assert ids == list(range(1, 57))


def test_a_reply_quote_goes_to_an_original_not_yet_loaded(pages, live):
    page = pages.open()
    register(page, "ann@example.com")
    create_room(page, "Long ago")
    api = api_user(live, "ann@example.com")
    path = f"/v1/logs/{room_id(page)}"
    for n in range(1, 131):
        api.post_json(path, {"m": f"old {n}"}, status=201)
    api.post_json(path, {"m": "about the very first", "reply_to": 1}, status=201)
    page.reload()
    expect(bodies(page).last).to_have_text("about the very first")
    assert page.locator('#message-list .message[data-id="1"]').count() == 0
    message(page, "about the very first").locator(".reply-quote").click()
    original = page.locator('#message-list .message[data-id="1"]')
    expect(original).to_have_class(re.compile("highlight"), timeout=10000)
    expect(original).to_be_in_viewport()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_timeline_screenshots(pages, live, artifacts, scheme, size):
    """Pictures of the timeline's parts: tests/artifacts/timeline-<size>-<scheme>-*.png."""
    viewport = DESKTOP if size == "desktop" else PHONE

    def act(text, action):  # a phone shows a message's actions on a tap, a desktop on hover
        if size == "desktop":
            act_on(page, text, action)
        else:
            message(page, text).locator(".body").click()
            message(page, text).get_by_role("button", name=action, exact=True).click()

    def shot(what):
        page.screenshot(path=artifacts / f"timeline-{size}-{scheme}-{what}.png")

    page = pages.open(viewport=viewport, color_scheme=scheme)
    register(page, "ann@example.com")
    page.get_by_label("New room").fill("Launch plan")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#room-title")).to_have_text("Launch plan")
    roomid = room_id(page)
    path = f"/v1/logs/{roomid}"
    ann = api_user(live, "ann@example.com")
    bob = new_member(live, "bob@example.com", roomid)
    bob.post_json(path, {"m": "Shall we ship **on Friday**?"}, status=201)
    ann.post_json(path, {"m": "Friday works, once the release notes are done"}, status=201)
    ann.patch_json(f"{path}/2", {"m": "Friday works, once the release notes are in"}, status=200)
    bob.post_json(path, {"m": "I will write them tonight", "reply_to": 2}, status=201)
    bob.post_json(path, {"m": "oops, wrong room"}, status=201)
    bob.delete(f"{path}/4", status=200)
    for who, emoji in ((bob, "👍"), (ann, "👍"), (bob, "🎉")):
        who.put(f"{path}/2/reactions/{quote(emoji)}", status=200)
    ann.put(f"{path}/3/reactions/{quote('🙏')}", status=200)
    bob.post_json(path, {"m": "🚀"}, status=201)
    page.reload()
    wait_live(page)
    expect(message(page, "I will write").locator(".reply-quote")).to_be_visible()
    page.mouse.move(0, 0)
    shot("room")
    item = message(page, "I will write")
    if size == "desktop":
        item.hover()
    else:
        item.locator(".body").click()  # a tap shows a phone's actions
        expect(item).to_have_class(re.compile("selected"))
    expect(item.get_by_role("button", name="Reply")).to_be_visible()
    page.wait_for_timeout(300)  # the toolbar fades in
    shot("actions")
    item.get_by_role("button", name="Add a reaction").click()
    expect(page.locator(".emoji-picker")).to_be_visible()
    shot("picker")
    page.keyboard.press("Escape")
    act("I will write", "Reply")
    expect(page.locator("#reply-bar")).to_be_visible()
    shot("replying")
    page.get_by_role("button", name="Cancel the reply").click()
    act("Friday works", "Edit")
    expect(page.get_by_label("Edit the message")).to_be_focused()
    shot("editing")


# --- accounts: a forgotten password, sessions, a changed password ------------------------------------------


def link_on(server, letter) -> str:
    """The reset link a letter holds, on the live server (the letter names the configured public URL)."""
    link = re.search(r"https?://\S+/#reset=[A-Za-z0-9_-]+", letter.get_content()).group(0)
    parts = urlsplit(link)
    assert parts.path == "/" and parts.fragment.startswith("reset=")
    return f"{server.url}/#{parts.fragment}"


def test_a_forgotten_password_is_reset_from_the_mailed_link(pages, serve, memory_settings):
    """Forgot password? -> a real SMTP server receives the letter -> its link -> a new password -> logged in."""
    inbox = Inbox()
    try:
        server = serve(replace(memory_settings, smtp_url=inbox.url))
        other = pages.open(server=server)
        register(other, "ann@example.com")  # another browser of Ann's, which the reset logs out
        page = pages.open(server=server)
        page.get_by_label("Email", exact=True).fill("ann@example.com")
        page.get_by_role("button", name="Forgot password?").click()
        expect(page.get_by_label("Your email address")).to_be_focused()
        expect(page.get_by_label("Your email address")).to_have_value("ann@example.com")  # taken from the form
        page.keyboard.press("Enter")
        sent = page.locator("#forgot-sent")
        expect(sent).to_have_text(re.compile(r"^If an account exists for ann@example\.com, we have sent it a link"))
        # An unknown address reads exactly the same, and gets no letter.
        page.get_by_label("Your email address").fill("nobody@example.com")
        page.get_by_role("button", name="Send another link").click()
        expect(sent).to_contain_text("If an account exists for nobody@example.com, we have sent it a link")
        (letter,) = inbox.wait(1)
        assert str(letter["To"]) == "ann@example.com"

        page.goto(link_on(server, letter))
        expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
        expect(page.get_by_role("textbox", name="New password")).to_be_focused()
        page.keyboard.type("short")
        page.keyboard.press("Tab")
        page.keyboard.type("shorter")
        page.keyboard.press("Enter")
        expect(page.locator("#reset-password-error")).to_have_text("At least 8 characters")
        expect(page.locator("#reset-confirm-error")).to_have_text("The two passwords differ: type them again")
        page.get_by_role("textbox", name="New password").fill("a new secret phrase")
        page.get_by_label("Type it again").fill("a new secret phrase")
        page.get_by_role("button", name="Set the password and log in").click()
        expect(page.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")
        expect(page.locator("#room-notice")).to_contain_text("Your new password is set")
        assert page.evaluate("location.hash") == ""  # the token left the address

        other.get_by_label("New room").fill("Anyone there?")
        other.get_by_role("button", name="Create", exact=True).click()
        expect(other.locator("#auth-error")).to_have_text("Your session has ended: please log in again.")
        log_in(other, "ann@example.com")  # the old password
        expect(other.locator("#auth-error")).to_have_text(WRONG_PASSWORD)
        log_in(other, "ann@example.com", "a new secret phrase")
        expect(other.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")

        # The link is spent: opening it again says so in the server's words and offers a new one.
        page.goto(link_on(server, letter))
        page.get_by_role("textbox", name="New password").fill("yet another phrase")
        page.get_by_label("Type it again").fill("yet another phrase")
        page.keyboard.press("Enter")
        expect(page.locator("#reset-error")).to_have_text(
            "The reset link is used, expired or replaced by a newer one: ask for a new one."
        )
        expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
        expect(page.locator("#reset-password")).to_be_hidden()
        page.get_by_role("button", name="Ask for a new link").click()
        expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
        page.get_by_role("button", name="Back to log in").click()
        expect(page.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")  # still logged in
    finally:
        inbox.stop()


def test_sessions_are_listed_and_one_browser_logs_out_another(pages, live, artifacts):
    laptop = pages.open()
    register(laptop, "ann@example.com")
    phone = pages.open(viewport=PHONE)
    log_in(phone, "ann@example.com")
    expect(phone.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")
    laptop.locator("#profile-button").click()
    sessions = laptop.locator("#sessions .session")
    expect(sessions).to_have_count(2)
    expect(sessions.first).to_contain_text("This device")
    expect(sessions.first).to_contain_text("Headless Chrome on Linux")
    expect(sessions.last).to_contain_text("127.0.0.1")
    expect(sessions.last).to_contain_text("active just now")
    expect(sessions.first.get_by_role("button")).to_have_count(0)  # this one logs out with *Log out* above
    laptop.screenshot(path=artifacts / "sessions.png")
    sessions.last.get_by_role("button", name="Log out Headless Chrome on Linux at 127.0.0.1").click()
    expect(sessions).to_have_count(1)
    expect(laptop.get_by_role("button", name="Log out everywhere else")).to_be_hidden()
    # The phone hears of it with its next request.
    phone.get_by_label("New room").fill("Still here?")
    phone.get_by_role("button", name="Create", exact=True).click()
    expect(phone.locator("#auth-error")).to_have_text("Your session has ended: please log in again.")

    log_in(phone, "ann@example.com")
    tablet = pages.open()
    log_in(tablet, "ann@example.com")
    expect(tablet.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")
    laptop.keyboard.press("Escape")
    laptop.locator("#profile-button").click()
    expect(sessions).to_have_count(3)
    laptop.get_by_role("button", name="Log out everywhere else").click()
    expect(laptop.locator("#sessions-status")).to_have_text("Logged out 2 other sessions.")
    expect(sessions).to_have_count(1)
    for page in (phone, tablet):
        page.reload()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()


def test_a_password_is_changed_from_the_profile(pages, live):
    laptop = pages.open()
    register(laptop, "ann@example.com")
    phone = pages.open(viewport=PHONE)
    log_in(phone, "ann@example.com")
    expect(phone.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")
    laptop.locator("#profile-button").click()
    expect(laptop.locator("#sessions .session")).to_have_count(2)
    laptop.locator("summary", has_text="Change password").click()
    laptop.get_by_label("Current password").fill("not my password")
    laptop.get_by_role("dialog").get_by_label("New password").fill("a new secret phrase")
    laptop.get_by_label("Type the new one again").fill("a new secret phrase")
    laptop.get_by_label("Type the new one again").press("Enter")
    expect(laptop.locator("#password-current-error")).to_have_text("That is not your current password")
    expect(laptop.get_by_label("Current password")).to_be_focused()
    laptop.keyboard.type(PASSWORD)
    laptop.keyboard.press("Enter")
    expect(laptop.locator("#password-done")).to_have_text("Your password is changed, and 1 other session logged out.")
    expect(laptop.locator("#sessions .session")).to_have_count(1)
    phone.reload()
    log_in(phone, "ann@example.com")
    expect(phone.locator("#auth-error")).to_have_text(WRONG_PASSWORD)
    log_in(phone, "ann@example.com", "a new secret phrase")
    expect(phone.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_account_screenshots(pages, embedded_live, artifacts, scheme, size):
    """Pictures of the reset flow and the account parts: tests/artifacts/account-<size>-<scheme>-*.png."""
    viewport = DESKTOP if size == "desktop" else PHONE

    def shot(page, what):
        page.screenshot(path=artifacts / f"account-{size}-{scheme}-{what}.png")

    other = pages.open(viewport=viewport, server=embedded_live, color_scheme=scheme)
    register(other, "ann@example.com")
    page = pages.open(viewport=viewport, server=embedded_live, color_scheme=scheme)
    shot(page, "login")
    page.get_by_role("button", name="Forgot password?").click()
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#forgot-email-error")).to_be_visible()
    shot(page, "forgot-error")
    page.get_by_label("Your email address").fill("ann@example.com")
    page.get_by_role("button", name="Send the link").click()
    expect(page.locator("#forgot-sent")).to_be_visible()
    shot(page, "forgot-sent")
    (letter,) = outbox_letters(embedded_live.app.config["chat.settings"].data_dir)
    page.goto(link_on(embedded_live, letter))
    expect(page.get_by_role("textbox", name="New password")).to_be_focused()
    shot(page, "new-password")
    page.get_by_role("textbox", name="New password").fill("a new secret phrase")
    page.get_by_label("Type it again").fill("a new secret")
    page.keyboard.press("Enter")
    expect(page.locator("#reset-confirm-error")).to_be_visible()
    shot(page, "new-password-errors")
    page.get_by_label("Type it again").fill("a new secret phrase")
    page.keyboard.press("Enter")
    expect(page.locator("#room-notice")).to_be_visible()
    shot(page, "reset-done")
    other.reload()
    log_in(other, "ann@example.com", "a new secret phrase")
    expect(other.locator("#whoami")).to_have_attribute("data-user", "ann@example.com")
    page.locator("#profile-button").click()
    expect(page.locator("#sessions .session")).to_have_count(2)
    shot(page, "profile")
    page.locator("summary", has_text="Change password").click()
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-current-error")).to_be_visible()
    shot(page, "change-password")
    page.goto(link_on(embedded_live, letter))
    page.get_by_role("textbox", name="New password").fill("yet another phrase")
    page.get_by_label("Type it again").fill("yet another phrase")
    page.keyboard.press("Enter")
    expect(page.locator("#reset-again")).to_be_visible()
    shot(page, "used-link")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_search_finds_a_cjk_message_and_opens_it_in_context(pages, live, artifacts, scheme, size):
    """Ann posts in Chinese; Bob presses /, types part of it, picks the result with the keyboard, and reads
    around it: search-<size>-<scheme>-<results|opened|newest>.png."""
    viewport = DESKTOP if size == "desktop" else PHONE

    def shot(page, what):
        page.screenshot(path=artifacts / f"search-{size}-{scheme}-{what}.png")

    ann = pages.open(viewport=viewport, color_scheme=scheme)
    register(ann, "ann@example.com")
    ann.get_by_label("New room").fill("Trip planning")  # on a phone the room list gives way to the room
    ann.get_by_role("button", name="Create", exact=True).click()
    expect(ann.locator("#room-title")).to_have_text("Trip planning")
    roomid = room_id(ann)
    path = f"/v1/logs/{roomid}"
    ann_api = api_user(live, "ann@example.com")
    bob_api = new_member(live, "bob@example.com", roomid)
    for n in range(1, 61):
        (ann_api if n % 3 else bob_api).post_json(path, {"m": f"Older note {n} about the itinerary"}, status=201)
    send(ann, "我们明天去北京出差，记得带护照 **passport**")
    for n in range(1, 61):
        (bob_api if n % 2 else ann_api).post_json(path, {"m": f"Later note {n}"}, status=201)
    bob = pages.open(viewport=viewport, color_scheme=scheme)
    log_in(bob, "bob@example.com")
    expect(bob.locator("#my-rooms .room-item", has_text="Trip planning")).to_be_visible()
    bob.keyboard.press("/")
    expect(bob.get_by_label("Search messages")).to_be_focused()
    bob.keyboard.type("京出")  # a CJK substring in the middle of the text
    result = bob.locator("#search-results .search-result")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text("京出")
    expect(result).to_contain_text("Trip planning")
    expect(result.locator(".search-author")).to_have_text("ann")
    expect(result.locator("time")).to_be_visible()
    bob.keyboard.press("ArrowDown")
    expect(result).to_have_attribute("aria-selected", "true")
    shot(bob, "results")
    bob.keyboard.press("Enter")
    expect(bob.locator("#search-panel")).to_be_hidden()
    expect(bob.locator("#room-title")).to_have_text("Trip planning")
    found = bob.locator("#message-list .message.found")
    expect(found).to_contain_text("北京出差")
    expect(found).to_have_class(re.compile("highlight"))
    expect(found).to_be_in_viewport()
    expect(message(bob, "Older note 59 about")).to_have_count(1)  # history above
    expect(message(bob, re.compile(r"^Later note 2$"))).to_have_count(1)  # and below
    expect(message(bob, re.compile(r"^Older note 1 about"))).to_have_count(0)
    expect(message(bob, "Later note 60")).to_have_count(0)
    expect(bob.get_by_role("button", name="Latest messages")).to_be_visible()
    bob.mouse.move(0, 0)
    shot(bob, "opened")
    # Scrolling down loads newer pages up to the newest; then live messages show again.
    for _ in range(20):
        if message(bob, "Later note 60").count():
            break
        bob.locator("#messages").evaluate("b => b.scrollTop = b.scrollHeight")
        bob.wait_for_timeout(250)
    bob.locator("#messages").evaluate("b => b.scrollTop = b.scrollHeight")
    expect(message(bob, "Later note 60")).to_be_in_viewport()
    ann_api.post_json(path, {"m": "back to the present"}, status=201)
    expect(bodies(bob).last).to_have_text("back to the present")
    expect(bob.get_by_role("button", name="Latest messages")).to_be_hidden()
    shot(bob, "newest")
    # Scrolling up loads older pages back to the start.
    for _ in range(20):
        if bob.locator("#history-start").is_visible():
            break
        bob.locator("#messages").evaluate("b => b.scrollTop = 0")
        bob.wait_for_timeout(250)
    expect(message(bob, re.compile(r"^Older note 1 about"))).to_have_count(1)
    assert sorted(
        int(i) for i in bob.locator("#message-list .message").evaluate_all("items => items.map((m) => m.dataset.id)")
    ) == list(range(1, 123))  # each message once, none missing
    # "/" is a character in a text field; Escape closes the results.
    if size == "desktop":
        bob.get_by_label("Message", exact=True).fill("")
        bob.get_by_label("Message", exact=True).press("/")
        expect(bob.get_by_label("Message", exact=True)).to_have_value("/")
        bob.get_by_label("Search messages").click()
        expect(bob.locator("#search-panel")).to_be_visible()
        bob.keyboard.press("Escape")
        expect(bob.locator("#search-panel")).to_be_hidden()
