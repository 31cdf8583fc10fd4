// The message being answered: "Replying to …" above the composer with a cancel button, until the
// reply is sent or cancelled.
import { $, show } from "chat/dom";
import { preview } from "chat/message_view";

export class ReplyDraft {
  /** who(userid) -> how to name the author. */
  constructor(lifetime, { who }) {
    this.who = who;
    this.id = null;
    this.bar = $("reply-bar");
    this.onCancel = () => { this.cancel(); $("message-input").focus(); };
    $("reply-cancel").addEventListener("click", this.onCancel);
    lifetime.onClose(() => {
      this.cancel();
      $("reply-cancel").removeEventListener("click", this.onCancel);
    });
  }

  /** Answer this message with the next one sent. */
  start(message) {
    this.id = message.id;
    $("reply-who").textContent = this.who(message.u);
    $("reply-text").textContent = preview(message.m);
    show(this.bar, true);
    $("message-input").focus();
  }

  /** The id being answered (null: none), ending the draft. */
  take() {
    const id = this.id;
    this.cancel();
    return id;
  }

  /** Stop answering. */
  cancel() {
    this.id = null;
    show(this.bar, false);
  }
}
