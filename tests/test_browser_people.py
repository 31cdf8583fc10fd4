"""The page's people in a real browser: names and avatars, members, direct messages, private rooms,
invitations and links, typing, moderation; two and three users, desktop and phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import DESKTOP, PHONE, bodies, png, register, send
from tests.test_browser import (  # the browser tests' fixtures, shared rather than copied
    ann_and_bob_in,
    api_user,
    browser,
    embedded_live,
    live,
    pages,
    room_id,
    serve,
    wait_live,
)


def members_panel(page):
    """Open the room's member list (if closed) and return it."""
    panel = page.locator("#members-panel")
    if panel.is_hidden():
        page.locator("#members-button").click()
    expect(panel).to_be_visible()
    return panel


def member(page, name: str):
    return page.locator("#members .member", has_text=name)


def create_private_room(page, name: str) -> None:
    page.get_by_label("New room").fill(name)
    page.get_by_label("Private: only people you invite").check()
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#room-title")).to_have_text(name)
    expect(page.locator("#my-rooms .room-item", has_text=name)).to_contain_text("Private")


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
