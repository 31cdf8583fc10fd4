// One's own profile: the account bar's name and avatar, and the editor behind it (display name; a
// picture uploaded through POST /v1/image, then PUT /v1/profile). The dialog's account parts below the
// profile (password, sessions) hear of its opening through `opened(user)`.
import { OFFLINE, api, apiError } from "chat/api";
import { IMAGE_MAX_BYTES } from "chat/config";
import { $, megabytes, show } from "chat/dom";
import { avatarElement, avatarPreview, avatarUrl, displayName, nameElement, remember } from "chat/people";

const dialog = $("profile-dialog");
const nameInput = $("profile-name");
const problem = $("profile-error");
const TYPES = /^image\/(png|jpeg|gif|webp)$/;

/** Upload an image; resolves to its URL, or throws an Error whose message says what went wrong. */
async function uploadImage(file) {
  if (!TYPES.test(file.type)) throw new Error("Only PNG, JPEG, GIF and WebP images can be used.");
  if (file.size > IMAGE_MAX_BYTES) throw new Error(`That image is ${megabytes(file.size)}; the limit is ${megabytes(IMAGE_MAX_BYTES)}.`);
  const form = new FormData();
  form.append("file", file, file.name || "avatar");
  form.append("key", file.name || "avatar");
  let res;
  try {
    res = await fetch("/v1/image", { method: "POST", body: form, headers: { Accept: "application/json" } });
  } catch {
    throw new Error(OFFLINE);
  }
  const data = await res.json().catch(() => null);
  if (res.ok && data && typeof data.url === "string") return data.url;
  throw new Error(res.status === 429 ? "Too many uploads: try again in a minute." : `The picture was not stored (the server answered ${res.status}).`);
}

export class ProfileEditor {
  constructor({ opened }) {
    this.opened = opened;
    this.user = null;
    this.avatar = null; // the avatar the editor would save
    $("profile-button").addEventListener("click", () => this.open());
    $("profile-picture").addEventListener("click", () => $("profile-file").click());
    $("profile-file").addEventListener("change", () => this.pick($("profile-file")));
    $("profile-no-picture").addEventListener("click", () => { this.avatar = null; this.preview(); });
    $("profile-save").addEventListener("click", () => this.save());
    nameInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); this.save(); }
    });
  }

  /** Signed in as `user` (an email): the account bar shows their name and avatar. */
  async start(user) {
    this.user = user;
    const whoami = $("whoami");
    whoami.dataset.user = user;
    whoami.replaceChildren(nameElement(user));
    $("my-avatar").replaceChildren(avatarElement(user, "small"));
    $("profile-button").title = `Your profile (${user})`;
  }

  stop() {
    this.user = null;
    if (dialog.open) dialog.close();
  }

  open() {
    if (!this.user) return;
    this.avatar = avatarUrl(this.user);
    nameInput.value = displayName(this.user);
    $("profile-email").textContent = this.user;
    problem.textContent = "";
    this.preview();
    this.opened(this.user);
    dialog.showModal();
    nameInput.focus();
  }

  /** The editor's picture: the chosen image, or the initials it falls back to. */
  preview() {
    $("profile-avatar").replaceChildren(avatarPreview(this.user, this.avatar, "large"));
    show($("profile-no-picture"), Boolean(this.avatar));
  }

  async pick(input) {
    const file = input.files[0];
    input.value = "";
    if (!file) return;
    problem.textContent = "Uploading the picture…";
    try {
      this.avatar = await uploadImage(file);
      problem.textContent = "";
      this.preview();
    } catch (error) {
      problem.textContent = error.message;
    }
  }

  async save() {
    const name = nameInput.value.trim();
    if (!name) {
      problem.textContent = "Enter a name: it is what others see.";
      nameInput.focus();
      return;
    }
    try {
      const res = await api("PUT", "/v1/profile", { name, avatar: this.avatar });
      if (!res.ok) {
        problem.textContent = res.status === 400
          ? "That name cannot be used: 1 to 64 characters, no invisible or control characters."
          : apiError(res);
        return;
      }
      remember(res.data);
      dialog.close();
    } catch {
      problem.textContent = OFFLINE;
    }
  }
}
