// Images in: checked for type and size first, uploaded with progress (XMLHttpRequest), and the
// returned URL handed on to be sent as a message.
import { sessionEnded } from "chat/api";
import { IMAGE_MAX_BYTES } from "chat/config";
import { el, failureButtons, megabytes, seconds } from "chat/dom";

const TYPES = /^image\/(png|jpeg|gif|webp)$/;

export class Uploader {
  /** show(item): put the pending item in the page; uploaded(url): send it; problem(text): say what is wrong. */
  constructor(lifetime, { show, uploaded, problem }) {
    this.lifetime = lifetime;
    this.events = { show, uploaded, problem };
  }

  upload(file) {
    if (file.type && !TYPES.test(file.type)) {
      this.events.problem("Only PNG, JPEG, GIF and WebP images can be sent.");
      return;
    }
    if (file.size > IMAGE_MAX_BYTES) {
      this.events.problem(`That image is ${megabytes(file.size)}; the limit is ${megabytes(IMAGE_MAX_BYTES)}.`);
      return;
    }
    this.events.problem("");
    const progress = el("progress", { max: 100, value: 0, "aria-label": "Upload progress" });
    const status = el("span", { class: "status", role: "status" }, "Uploading…");
    const item = el("li", { class: "message mine pending" },
      el("div", { class: "meta" }, el("span", { class: "author" }, "You"), " ", status),
      el("div", { class: "body upload" }, el("span", { class: "file-name" }, file.name || "pasted image"), progress));
    this.events.show(item);
    this.sendFile(item, file, progress, status);
  }

  sendFile(item, file, progress, status) {
    const xhr = new XMLHttpRequest();
    const retry = () => {
      for (const button of item.querySelectorAll(".meta button")) button.remove();
      item.classList.remove("failed");
      this.sendFile(item, file, progress, status);
    };
    const failed = (text, canRetry) => {
      item.classList.add("failed");
      status.textContent = text;
      failureButtons(item, canRetry ? retry : null);
    };
    status.textContent = "Uploading…";
    progress.value = 0;
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      progress.value = Math.round((event.loaded / event.total) * 100);
      if (event.loaded === event.total) status.textContent = "Storing…";
    });
    xhr.addEventListener("load", () => {
      if (this.lifetime.closed) return;
      if (xhr.status === 200) {
        let url;
        try { url = JSON.parse(xhr.responseText).url; } catch { url = null; }
        if (typeof url === "string") {
          item.remove();
          this.events.uploaded(url);
          return;
        }
      }
      const wait = Number(xhr.getResponseHeader("Retry-After")) || 1;
      const reasons = {
        401: "your session has ended.",
        413: `the image is over ${megabytes(IMAGE_MAX_BYTES)}.`,
        415: "that file is not a PNG, JPEG, GIF or WebP image.",
        429: `too many uploads; try again in ${seconds(wait)}.`,
        502: "the image store keeps failing; try again later.",
        504: "the image store is slow; try again.",
      };
      if (xhr.status === 401) sessionEnded();
      failed(`Not sent: ${reasons[xhr.status] || `the server answered ${xhr.status}.`}`, ![401, 413, 415].includes(xhr.status));
    });
    xhr.addEventListener("error", () => failed("Not sent: cannot reach the server.", true));
    xhr.open("POST", "/v1/image");
    const form = new FormData();
    form.append("file", file, file.name || "pasted-image");
    form.append("key", file.name || "pasted image");
    xhr.send(form);
  }
}
