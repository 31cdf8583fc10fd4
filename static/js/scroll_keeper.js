// Keeps the conversation pinned to its newest message while the reader is there, through new
// messages, images loading and the window getting shorter (a phone keyboard, rotation); once the
// reader has scrolled away it stays put, and new messages show the "New messages" button instead.
// Opened at an older message (a search result), the bottom is not the newest message: nothing pins
// there, scrolling near it asks for newer pages, and the button offers the latest messages.
import { $, show } from "chat/dom";

const NEAR = 80;

export class ScrollKeeper {
  /** nearTop(), nearBottom(): the reader is close to an end; latest(): show the newest messages (not loaded). */
  constructor({ nearTop, nearBottom, latest }) {
    this.box = $("messages");
    this.jump = $("jump-button");
    this.pinned = true;
    this.atNewest = true; // the bottom of the box is the room's newest message
    this.top = 0; // scrollTop at the last scroll event
    this.onScroll = () => {
      // Content that grew below (an image loading) between our scroll and its event is no reason to let
      // go: only a scroll upwards is the reader leaving the bottom.
      const up = this.box.scrollTop < this.top;
      this.top = this.box.scrollTop;
      this.pinned = this.atNewest && (this.distance() < NEAR || (this.pinned && !up));
      if (this.pinned && this.distance() >= NEAR) this.toBottom();
      if (this.pinned) show(this.jump, false);
      if (this.box.scrollTop < 150) nearTop();
      if (!this.atNewest && this.distance() < 300) nearBottom();
    };
    this.onJump = () => (this.atNewest ? this.toBottom() : latest());
    this.box.addEventListener("scroll", this.onScroll);
    this.jump.addEventListener("click", this.onJump);
    // Any change of the box's size or of its content's: where the reader was pinned, stay pinned.
    this.resized = new ResizeObserver(() => { if (this.pinned) this.toBottom(); });
    for (const node of [this.box, $("message-list"), $("pending-list")]) this.resized.observe(node);
    show(this.jump, false);
  }

  /** Whether the bottom is the newest message: only then does the view follow new ones. */
  following(atNewest) {
    this.atNewest = atNewest;
    if (!atNewest) this.pinned = false;
    this.jump.textContent = atNewest ? "New messages ↓" : "Latest messages ↓";
    show(this.jump, !atNewest);
  }

  distance() { return this.box.scrollHeight - this.box.scrollTop - this.box.clientHeight; }

  toBottom() {
    if (!this.atNewest) return;
    this.box.scrollTop = this.box.scrollHeight;
    this.pinned = true;
    show(this.jump, false);
  }

  /** A new newest message: follow it when pinned (or it is ours), else offer the jump. */
  arrived(mine) {
    if (this.pinned || mine) this.toBottom();
    else show(this.jump, true);
  }

  /** Run `change` (which adds older messages above) keeping what the reader was looking at in place. */
  keepingPlace(change) {
    const fromBottom = this.box.scrollHeight - this.box.scrollTop;
    change();
    this.box.scrollTop = this.box.scrollHeight - fromBottom;
  }

  /** Without a scroll bar there is nothing to scroll up with. */
  noScrollBar() { return this.box.scrollHeight <= this.box.clientHeight; }

  close() {
    this.resized.disconnect();
    this.box.removeEventListener("scroll", this.onScroll);
    this.jump.removeEventListener("click", this.onJump);
    show(this.jump, false);
  }
}
