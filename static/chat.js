// The chat web client: plain DOM, no framework, no build step.
// Every piece of user data goes into the page as text (textContent, append(string)) or as a
// DOM property (img.src); nothing is ever parsed as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const app = $("app");
  const PAGE_SIZE = 50;
  const ROOMS_REFRESH_MS = 10000;
  const IMAGE_MAX_BYTES = Number(app.dataset.imageMaxBytes);
  const IMAGE_URL = new RegExp(
    "^" + app.dataset.imageBase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "/images/[0-9a-f]{64}\\.(png|jpe?g|gif|webp)$");
  const GROUP_MS = 5 * 60 * 1000;

  const state = { user: null, joined: new Map(), names: new Map(), conv: null, roomsTimer: null, roomsAsked: 0 };

  // ---- small helpers --------------------------------------------------------------------

  /** An element with properties set and children appended (strings become text nodes). */
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("aria-") || key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
  }

  function show(node, visible) { node.hidden = !visible; }

  function newCid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function seconds(n) { return n === 1 ? "1 second" : `${n} seconds`; }

  function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

  function megabytes(bytes) { return `${(bytes / 1048576).toFixed(1)} MB`; }

  function timeLabel(t) {
    const date = new Date(t);
    const sameDay = date.toDateString() === new Date().toDateString();
    const clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return sameDay ? clock : `${date.toLocaleDateString([], { month: "short", day: "numeric" })} ${clock}`;
  }

  function timeElement(t) {
    return el("time", { dateTime: t, title: new Date(t).toLocaleString(), class: "time" }, timeLabel(t));
  }

  /** A JSON request to the API: {status, ok, data, retryAfter}; throws only when the network fails. */
  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const res = await fetch(path, options);
    const isJson = (res.headers.get("Content-Type") || "").startsWith("application/json");
    const data = isJson ? await res.json().catch(() => null) : null;
    const answer = { status: res.status, ok: res.ok, data, retryAfter: Number(res.headers.get("Retry-After")) || 1 };
    if (res.status === 401 && state.user && !path.startsWith("/auth/")) sessionLost();
    return answer;
  }

  function apiError(res, fallback) {
    if (res.status === 429) return `Too many requests: wait ${seconds(res.retryAfter)} and try again.`;
    return (res.data && typeof res.data.error === "string" && res.data.error) || fallback || `The server answered ${res.status}.`;
  }

  const OFFLINE = "Cannot reach the server: check your connection.";

  // ---- accounts -------------------------------------------------------------------------

  const authForm = $("auth-form");
  const authError = $("auth-error");

  authForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter && event.submitter.value === "register" ? "register" : "login";
    const body = { username: $("auth-email").value, password: $("auth-password").value };
    authError.textContent = "";
    authForm.setAttribute("aria-busy", "true");
    try {
      const res = await api("POST", `/auth/${action}`, body);
      if (res.ok) {
        $("auth-password").value = "";
        signedIn(res.data.user);
      } else if (res.status === 429) {
        authError.textContent = `Too many attempts: try again in ${seconds(res.retryAfter)}.`;
      } else {
        const text = apiError(res);
        authError.textContent = text.charAt(0).toUpperCase() + text.slice(1);
      }
    } catch {
      authError.textContent = OFFLINE;
    } finally {
      authForm.removeAttribute("aria-busy");
    }
  });

  $("logout-button").addEventListener("click", async () => {
    try {
      await api("POST", "/auth/logout");
    } catch {
      // The session cookie stays until the server can be told; the page still forgets the user.
    }
    signedOut("");
  });

  function signedIn(user) {
    state.user = user;
    $("whoami").textContent = user;
    $("whoami").title = `Logged in as ${user}`;
    show($("auth-view"), false);
    show($("account"), true);
    show($("chat-view"), true);
    authError.textContent = "";
    loadRooms().then(() => {
      const wanted = new URLSearchParams(location.hash.slice(1)).get("room");
      if (wanted && state.joined.has(wanted)) openRoom(wanted);
    });
    clearInterval(state.roomsTimer);
    state.roomsTimer = setInterval(() => { if (document.visibilityState === "visible") loadRooms(); }, ROOMS_REFRESH_MS);
  }

  function signedOut(notice) {
    closeStats();
    closeRoom("");
    clearInterval(state.roomsTimer);
    state.user = null;
    state.joined = new Map();
    state.names = new Map();
    $("my-rooms").replaceChildren();
    $("other-rooms").replaceChildren();
    show($("chat-view"), false);
    show($("account"), false);
    show($("auth-view"), true);
    authError.textContent = notice;
    $("auth-email").focus();
  }

  function sessionLost() { signedOut("Your session has ended: please log in again."); }

  // ---- rooms ----------------------------------------------------------------------------

  const roomsError = $("rooms-error");

  async function loadRooms() {
    const asked = ++state.roomsAsked;
    let res;
    try {
      res = await api("GET", `/v1/room/${encodeURIComponent(state.user)}`);
    } catch {
      roomsError.textContent = OFFLINE;
      return;
    }
    if (!state.user || asked !== state.roomsAsked) return; // logged out, or a newer listing is on its way
    if (!res.ok) {
      roomsError.textContent = apiError(res, "Could not load the rooms.");
      return;
    }
    roomsError.textContent = "";
    const { allrooms, join_rooms: mine } = res.data;
    state.joined = new Map(mine.map((room) => [room.roomid, room]));
    for (const room of allrooms.concat(mine)) state.names.set(room.roomid, room.name);
    renderRooms($("my-rooms"), mine, true);
    renderRooms($("other-rooms"), allrooms.filter((room) => !state.joined.has(room.roomid)), false);
    show($("my-rooms-empty"), mine.length === 0);
    show($("other-rooms-empty"), allrooms.length === mine.length);
    const conv = state.conv;
    if (conv) {
      if (state.joined.has(conv.roomid)) conv.describe(state.joined.get(conv.roomid));
      else conv.verifyMembership();
    }
  }

  /** Replace a room list, keeping keyboard focus on the same room when it is still listed. */
  function renderRooms(list, rooms, joined) {
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.roomid : null;
    list.replaceChildren(...rooms.map((room) => el("li", {},
      el("button", {
        type: "button",
        class: "room-item" + (state.conv && state.conv.roomid === room.roomid ? " current" : ""),
        "data-roomid": room.roomid,
        title: joined ? `Open ${room.name}` : `Join ${room.name}`,
        onclick: () => (joined ? openRoom(room.roomid) : joinRoom(room)),
      },
      el("span", { class: "room-name" }, room.name),
      el("span", { class: "room-count" }, plural(room.members, "member")),
      joined ? null : el("span", { class: "join-badge" }, "Join")))));
    if (focused) {
      const again = list.querySelector(`[data-roomid="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function markCurrentRoom() {
    for (const button of document.querySelectorAll(".room-item")) {
      const current = Boolean(state.conv) && button.dataset.roomid === state.conv.roomid;
      button.classList.toggle("current", current);
      if (current) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  async function roomAction(action, roomid, name) {
    const body = { userid: state.user, action, roomid };
    if (name) body.name = name;
    return api("POST", "/v1/room", body);
  }

  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("room-name");
    const name = input.value.trim();
    try {
      const res = await roomAction("enter", null, name);
      if (!res.ok) {
        roomsError.textContent = apiError(res, "Could not create the room.");
        return;
      }
      input.value = "";
      await loadRooms();
      openRoom(res.data.roomid, { roomid: res.data.roomid, name: name || "Untitled room", members: 1 });
    } catch {
      roomsError.textContent = OFFLINE;
    }
  });

  async function joinRoom(room) {
    try {
      const res = await roomAction("enter", room.roomid);
      if (res.ok) {
        await loadRooms();
        openRoom(room.roomid, { ...room, members: room.members + 1 });
      } else {
        roomsError.textContent = res.status === 400 ? "That room no longer exists." : apiError(res);
        loadRooms();
      }
    } catch {
      roomsError.textContent = OFFLINE;
    }
  }

  $("leave-button").addEventListener("click", async () => {
    const conv = state.conv;
    if (!conv) return;
    try {
      const res = await roomAction("leave", conv.roomid);
      if (res.ok) {
        const deleted = res.data.roomid === "room deleted";
        closeRoom(deleted ? `You left “${conv.name}”, and it was deleted: you were its last member.`
          : `You left “${conv.name}”.`);
      } else {
        closeRoom(`“${conv.name}” is gone, or you had already left it.`);
      }
    } catch {
      $("room-error").textContent = OFFLINE;
      return;
    }
    loadRooms();
  });

  /** Open one of our rooms; `known` stands in while a newer room listing is still on its way. */
  function openRoom(roomid, known) {
    const room = state.joined.get(roomid) || known;
    if (!room) return;
    closeStats();
    if (!state.conv || state.conv.roomid !== roomid) {
      if (state.conv) state.conv.close();
      state.conv = new Conversation(room);
      history.replaceState(null, "", `#room=${encodeURIComponent(roomid)}`);
    }
    setNotice("");
    show($("room-placeholder"), false);
    show($("room-open"), true);
    app.classList.add("in-room");
    markCurrentRoom();
    $("message-input").focus();
  }

  function setNotice(text) {
    $("room-notice").textContent = text;
    show($("room-notice"), Boolean(text));
  }

  /** Close the open room (if any) and say why above the room list. */
  function closeRoom(notice) {
    if (state.conv) {
      state.conv.close();
      state.conv = null;
      history.replaceState(null, "", location.pathname);
      document.title = "chat";
    }
    setNotice(notice);
    show($("room-open"), false);
    show($("room-placeholder"), true);
    app.classList.remove("in-room");
    markCurrentRoom();
  }

  $("back-button").addEventListener("click", () => {
    const roomid = state.conv && state.conv.roomid;
    closeRoom("");
    const button = roomid && document.querySelector(`.room-item[data-roomid="${CSS.escape(roomid)}"]`);
    if (button) button.focus();
  });

  // ---- a conversation -------------------------------------------------------------------

  const messagesBox = $("messages");
  const messageList = $("message-list");
  const pendingList = $("pending-list");
  const roomError = $("room-error");
  const connection = $("connection");

  function setConnection(text, kind) {
    connection.textContent = text;
    connection.className = `connection ${kind}`;
  }

  function isImageUrl(text) { return IMAGE_URL.test(text); }

  function messageBody(text, author) {
    if (isImageUrl(text)) {
      const img = el("img", { src: text, alt: `Image from ${author}`, loading: "lazy", decoding: "async" });
      img.addEventListener("load", () => { if (state.conv) state.conv.keepAtBottom(); });
      return el("a", { href: text, target: "_blank", rel: "noopener", class: "body image" }, img);
    }
    return el("div", { class: "body" }, text);
  }

  /** Mark a message as following its predecessor (same author, soon after), which hides its header. */
  function restyle(item) {
    if (!item) return;
    const prev = item.previousElementSibling;
    const follows = Boolean(prev) && prev.dataset.u === item.dataset.u
      && new Date(item.dataset.t) - new Date(prev.dataset.t) < GROUP_MS;
    item.classList.toggle("follows", follows);
  }

  class Conversation {
    constructor(room) {
      this.roomid = room.roomid;
      this.name = room.name;
      this.path = encodeURIComponent(room.roomid);
      this.items = new Map(); // message id -> <li>
      this.oldest = 0;
      this.newest = 0;
      this.atStart = false;
      this.loadingOlder = false;
      this.source = null;
      this.closed = false;
      this.retryDelay = 1000;
      this.timers = new Set();
      messageList.replaceChildren();
      pendingList.replaceChildren();
      roomError.textContent = "";
      show($("history-start"), false);
      show($("older-button"), false);
      show($("jump-button"), false);
      this.describe(room);
      this.start();
    }

    describe(room) {
      this.name = room.name;
      $("room-title").textContent = room.name;
      document.title = `${room.name} · chat`;
      $("room-meta").textContent = room.members === 1
        ? "Only you · leaving deletes the room"
        : plural(room.members, "member");
    }

    later(fn, ms) {
      const timer = setTimeout(() => { this.timers.delete(timer); if (!this.closed) fn(); }, ms);
      this.timers.add(timer);
    }

    close() {
      this.closed = true;
      if (this.source) this.source.close();
      this.source = null;
      for (const timer of this.timers) clearTimeout(timer);
      messageList.replaceChildren();
      pendingList.replaceChildren();
    }

    /** A page of this room's messages; null (after handling it) when the room is gone or not ours. */
    async fetchPage(query) {
      const res = await api("GET", `/v1/logs/${this.path}?${new URLSearchParams(query)}`);
      if (this.closed) return null;
      if (res.status === 400 || res.status === 403) {
        this.lost(res.status === 400 ? `“${this.name}” was deleted.` : `You are no longer a member of “${this.name}”.`);
        return null;
      }
      if (!res.ok) throw new Error(apiError(res));
      return res.data.logs;
    }

    async start() {
      setConnection("Connecting…", "connecting");
      let logs;
      try {
        logs = await this.fetchPage({ limit: PAGE_SIZE });
      } catch (error) {
        roomError.textContent = error instanceof TypeError ? OFFLINE : String(error.message);
        this.later(() => this.start(), this.backoff());
        return;
      }
      if (!logs) return;
      roomError.textContent = "";
      for (const message of logs) this.insert(message);
      this.atStart = logs.length < PAGE_SIZE || (logs.length > 0 && logs[0].id === 1);
      this.updateHistoryEdge();
      this.scrollToBottom();
      this.connect();
      this.fillScreen();
    }

    backoff() {
      const delay = this.retryDelay;
      this.retryDelay = Math.min(this.retryDelay * 2, 30000);
      return delay;
    }

    /** Listen for live events; the browser resumes after a drop with Last-Event-ID, the server replays the gap. */
    connect() {
      const source = new EventSource(`/v1/events/${this.path}?after=${this.newest}`);
      this.source = source;
      source.addEventListener("open", () => {
        this.retryDelay = 1000;
        setConnection("Live", "live");
      });
      source.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
      source.addEventListener("enter", (event) => this.note(JSON.parse(event.data), "joined"));
      source.addEventListener("leave", (event) => this.note(JSON.parse(event.data), "left"));
      source.addEventListener("deleted", () => this.lost(`“${this.name}” was deleted by its last member.`));
      source.addEventListener("error", () => {
        if (this.closed || source !== this.source) return;
        if (source.readyState === EventSource.CLOSED) this.recover();
        else setConnection("Reconnecting…", "connecting");
      });
    }

    /** The stream failed for good (an error answer): catch up over HTTP, which also says why, then listen again. */
    async recover() {
      this.source.close();
      this.source = null;
      setConnection("Reconnecting…", "connecting");
      try {
        if (!(await this.catchUp(this.newest))) return;
      } catch {
        this.later(() => this.recover(), this.backoff());
        return;
      }
      this.later(() => this.connect(), this.backoff());
    }

    /** Fetch every message after `after`; false when the room turned out to be gone. */
    async catchUp(after, until = Infinity) {
      for (;;) {
        const limit = Math.min(1000, until - after - 1);
        if (limit < 1) return true;
        const logs = await this.fetchPage({ after, limit });
        if (!logs) return false;
        for (const message of logs) this.receive(message);
        if (logs.length < limit) return true;
        after = logs[logs.length - 1].id;
      }
    }

    receive(message) {
      if (this.items.has(message.id)) return;
      const gapFrom = this.newest && message.id > this.newest + 1 ? this.newest : 0;
      this.insert(message);
      // A message beyond the next id: fetch what lies between (an id may also be a hole, harmlessly).
      if (gapFrom) this.catchUp(gapFrom, message.id).catch(() => {});
    }

    /** Put a message in id order, exactly once. */
    insert(message) {
      if (this.items.has(message.id)) return;
      const stick = this.nearBottom();
      const mine = message.u === state.user;
      const item = el("li", {
        class: `message${mine ? " mine" : ""}`, "data-id": String(message.id), "data-u": message.u, "data-t": message.t,
      },
      el("div", { class: "meta" }, el("span", { class: "author" }, mine ? "You" : message.u), " ", timeElement(message.t)),
      messageBody(message.m, message.u));
      let after = messageList.lastElementChild;
      while (after && Number(after.dataset.id) > message.id) after = after.previousElementSibling;
      if (after) after.after(item);
      else messageList.prepend(item);
      restyle(item);
      restyle(item.nextElementSibling);
      this.items.set(message.id, item);
      this.oldest = this.oldest ? Math.min(this.oldest, message.id) : message.id;
      this.newest = Math.max(this.newest, message.id);
      if (message.id === this.newest) {
        if (stick || mine) this.scrollToBottom();
        else show($("jump-button"), true);
      }
    }

    note(event, verb) {
      if (event.u !== state.user) {
        const stick = this.nearBottom();
        messageList.append(el("li", { class: "note", "data-id": String(this.newest + 0.5) },
          `${event.u} ${verb} the room`, " · ", timeElement(event.t)));
        if (stick) this.scrollToBottom();
      }
      loadRooms();
    }

    /** The open room went away under us: leave it and say why. */
    lost(reason) {
      if (this.closed || state.conv !== this) return;
      closeRoom(reason);
      loadRooms();
    }

    /** The room is missing from our rooms: ask the server whether it still lets us in. */
    async verifyMembership() {
      try {
        await this.fetchPage({ after: this.newest, limit: 1 });
      } catch {
        // Offline: the next refresh asks again.
      }
    }

    nearBottom() { return messagesBox.scrollHeight - messagesBox.scrollTop - messagesBox.clientHeight < 80; }

    scrollToBottom() {
      messagesBox.scrollTop = messagesBox.scrollHeight;
      show($("jump-button"), false);
    }

    keepAtBottom() {
      if (messagesBox.scrollHeight - messagesBox.scrollTop - messagesBox.clientHeight < 400) this.scrollToBottom();
    }

    updateHistoryEdge() {
      show($("history-start"), this.atStart);
      show($("older-button"), !this.atStart);
    }

    async loadOlder() {
      if (this.atStart || this.loadingOlder || !this.oldest) return;
      this.loadingOlder = true;
      $("older-button").textContent = "Loading…";
      try {
        const logs = await this.fetchPage({ before: this.oldest, limit: PAGE_SIZE });
        if (!logs) return;
        const fromBottom = messagesBox.scrollHeight - messagesBox.scrollTop;
        for (const message of logs.reverse()) this.insert(message);
        messagesBox.scrollTop = messagesBox.scrollHeight - fromBottom; // keep what the reader was looking at
        this.atStart = logs.length < PAGE_SIZE || this.oldest === 1;
        this.updateHistoryEdge();
      } catch {
        roomError.textContent = "Could not load older messages.";
      } finally {
        this.loadingOlder = false;
        $("older-button").textContent = "Load older messages";
      }
      this.fillScreen();
    }

    /** Without a scroll bar there is nothing to scroll up with: load older pages until there is one. */
    fillScreen() {
      if (!this.closed && !this.atStart && messagesBox.scrollHeight <= messagesBox.clientHeight) this.loadOlder();
    }

    // -- sending --

    send(text) {
      const item = el("li", { class: "message mine pending" },
        el("div", { class: "meta" }, el("span", { class: "author" }, "You"), " ",
          el("span", { class: "status", role: "status" }, "Sending…")),
        messageBody(text, state.user));
      pendingList.append(item);
      this.scrollToBottom();
      this.post(item, text, newCid());
    }

    /** Post (or re-post: the same cid makes a retry safe) a pending message. */
    async post(item, text, cid) {
      this.pendingState(item, "Sending…");
      let res;
      try {
        res = await api("POST", `/v1/logs/${this.path}`, { m: text, cid });
      } catch {
        this.pendingState(item, "Not sent: cannot reach the server.", () => this.post(item, text, cid));
        return;
      }
      if (this.closed) return;
      if (res.ok) {
        item.remove();
        this.receive(res.data);
      } else if (res.status === 429) {
        this.pendingState(item, `Not sent yet: you are sending too fast. Trying again in ${seconds(res.retryAfter)}…`,
          () => this.post(item, text, cid));
        this.later(() => { if (item.isConnected) this.post(item, text, cid); }, res.retryAfter * 1000);
      } else if (res.status === 403) {
        this.pendingState(item, "Not sent: you are not a member of this room any more.");
        this.verifyMembership();
      } else if (res.status === 400 && res.data && res.data.error === "no such room") {
        this.lost(`“${this.name}” was deleted.`);
      } else if (res.status >= 500) {
        this.pendingState(item, "Not sent: the server had a problem.", () => this.post(item, text, cid));
      } else {
        this.pendingState(item, `Not sent: ${apiError(res)}`);
      }
    }

    /** Show a pending item's state, with Retry (when `retry` is given) and Discard buttons once it failed. */
    pendingState(item, text, retry) {
      const failed = text !== "Sending…";
      item.classList.toggle("failed", failed);
      const status = item.querySelector(".status");
      status.textContent = text;
      for (const button of item.querySelectorAll(".meta button")) button.remove();
      if (!failed) return;
      if (retry) status.after(el("button", { type: "button", class: "link", onclick: retry }, "Retry"));
      item.querySelector(".meta").append(el("button", { type: "button", class: "link", onclick: () => item.remove() }, "Discard"));
    }

    // -- images --

    upload(file) {
      if (file.type && !/^image\/(png|jpeg|gif|webp)$/.test(file.type)) {
        roomError.textContent = "Only PNG, JPEG, GIF and WebP images can be sent.";
        return;
      }
      if (file.size > IMAGE_MAX_BYTES) {
        roomError.textContent = `That image is ${megabytes(file.size)}; the limit is ${megabytes(IMAGE_MAX_BYTES)}.`;
        return;
      }
      roomError.textContent = "";
      const progress = el("progress", { max: 100, value: 0, "aria-label": "Upload progress" });
      const status = el("span", { class: "status", role: "status" }, "Uploading…");
      const item = el("li", { class: "message mine pending" },
        el("div", { class: "meta" }, el("span", { class: "author" }, "You"), " ", status),
        el("div", { class: "body upload" }, el("span", { class: "file-name" }, file.name || "pasted image"), progress));
      pendingList.append(item);
      this.scrollToBottom();
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
        if (canRetry) status.after(el("button", { type: "button", class: "link", onclick: retry }, "Retry"));
        item.querySelector(".meta").append(el("button", { type: "button", class: "link", onclick: () => item.remove() }, "Discard"));
      };
      status.textContent = "Uploading…";
      progress.value = 0;
      xhr.upload.addEventListener("progress", (event) => {
        if (!event.lengthComputable) return;
        progress.value = Math.round((event.loaded / event.total) * 100);
        if (event.loaded === event.total) status.textContent = "Storing…";
      });
      xhr.addEventListener("load", () => {
        if (this.closed) return;
        if (xhr.status === 200) {
          let url;
          try { url = JSON.parse(xhr.responseText).url; } catch { url = null; }
          if (typeof url === "string") {
            item.remove();
            this.send(url);
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
        if (xhr.status === 401) sessionLost();
        failed(`Not sent: ${reasons[xhr.status] || `the server answered ${xhr.status}.`}`,
          ![401, 413, 415].includes(xhr.status));
      });
      xhr.addEventListener("error", () => failed("Not sent: cannot reach the server.", true));
      xhr.open("POST", "/v1/image");
      const form = new FormData();
      form.append("file", file, file.name || "pasted-image");
      form.append("key", file.name || "pasted image");
      xhr.send(form);
    }
  }

  // ---- the composer, scrolling, images in ------------------------------------------------

  const input = $("message-input");

  function sendTyped() {
    const text = input.value.trim();
    if (!text || !state.conv) return;
    if (text.length > 4000) {
      roomError.textContent = "A message can be at most 4000 characters.";
      return;
    }
    roomError.textContent = "";
    state.conv.send(text);
    input.value = "";
    fitInput();
  }

  function fitInput() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendTyped();
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendTyped();
    }
  });
  input.addEventListener("input", fitInput);

  messagesBox.addEventListener("scroll", () => {
    if (!state.conv) return;
    if (messagesBox.scrollTop < 150) state.conv.loadOlder();
    if (state.conv.nearBottom()) show($("jump-button"), false);
  });
  $("older-button").addEventListener("click", () => state.conv && state.conv.loadOlder());
  $("jump-button").addEventListener("click", () => state.conv && state.conv.scrollToBottom());

  const imageInput = $("image-input");
  $("image-button").addEventListener("click", () => imageInput.click());
  imageInput.addEventListener("change", () => {
    for (const file of imageInput.files) if (state.conv) state.conv.upload(file);
    imageInput.value = "";
  });

  document.addEventListener("paste", (event) => {
    const files = Array.from(event.clipboardData.files);
    if (files.length === 0 || !state.conv) return;
    event.preventDefault();
    for (const file of files) state.conv.upload(file);
  });

  const roomOpen = $("room-open");
  const dropZone = $("drop-zone");
  const carriesFiles = (event) => Array.from(event.dataTransfer.types).includes("Files");
  roomOpen.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    show(dropZone, true);
  });
  roomOpen.addEventListener("dragleave", (event) => {
    if (!roomOpen.contains(event.relatedTarget)) show(dropZone, false);
  });
  roomOpen.addEventListener("drop", (event) => {
    show(dropZone, false);
    if (!carriesFiles(event) || !state.conv) return;
    event.preventDefault();
    for (const file of event.dataTransfer.files) state.conv.upload(file);
  });

  // ---- stats ----------------------------------------------------------------------------

  const statsPane = $("stats-pane");
  const COUNTS = [
    ["user", "Users"], ["room", "Rooms created"], ["rooms_open", "Rooms open"], ["messages", "Messages"],
    ["uploads", "Images"],
  ];
  const ROOM_ACTS = new Set(["create", "enter", "leave", "delete"]);
  let olderActivity = null; // the `before` of the next older page of the activity log

  async function loadStats(before) {
    const error = $("stats-error");
    let res;
    try {
      res = await api("GET", before ? `/v1/stats?before=${before}` : "/v1/stats");
    } catch {
      error.textContent = OFFLINE;
      return;
    }
    if (!res.ok || !res.data) {
      error.textContent = `Stats are unavailable right now (the server answered ${res.status}).`;
      return;
    }
    error.textContent = "";
    const stats = res.data;
    const logs = Array.isArray(stats.logs) ? stats.logs : [];
    const rows = logs.map((entry) => el("tr", {},
      el("td", {}, timeElement(entry.t)),
      el("td", {}, entry.u),
      el("td", {}, el("span", { class: `act act-${entry.act}` }, entry.act)),
      activityDetail(entry)));
    olderActivity = stats.next || null;
    show($("stats-older"), Boolean(olderActivity));
    if (before) {
      $("activity-rows").append(...rows);
      return;
    }
    $("activity-rows").replaceChildren(...rows);
    $("stats-counts").replaceChildren(...COUNTS.filter(([key]) => typeof stats[key] === "number").map(([key, label]) =>
      el("div", { class: "count" }, el("dt", {}, label),
        el("dd", {}, stats.updated ? stats[key].toLocaleString() : "–"))));
    $("stats-updated").textContent = stats.updated ? `Counted ${timeLabel(stats.updated)}` : "Not counted yet";
    renderDays(stats.updated && Array.isArray(stats.messages_per_day) ? stats.messages_per_day : []);
    const everyone = logs.some((entry) => entry.u !== state.user);
    $("stats-scope").textContent = everyone
      ? "Everyone's activity, newest first (you are an administrator)."
      : "Your own activity, newest first; administrators see everyone's.";
  }

  /** An activity entry's detail: a room's name where the page knows it (its id otherwise), else the text. */
  function activityDetail(entry) {
    const name = ROOM_ACTS.has(entry.act) && state.names.get(entry.m);
    return el("td", { class: "detail", title: name ? `room ${entry.m}` : "" }, name || entry.m);
  }

  /** Messages per day as bars; each bar's text says its day and count. */
  function renderDays(days) {
    const most = Math.max(1, ...days.map((day) => day.messages));
    show($("days-heading"), days.length > 0);
    $("days").replaceChildren(...days.map((day) => {
      const date = new Date(`${day.day}T00:00:00Z`);
      const label = date.toLocaleDateString([], { month: "short", day: "numeric", timeZone: "UTC" });
      const bar = el("span", { class: "bar" });
      bar.style.height = `${Math.round((day.messages / most) * 100)}%`;
      return el("li", { title: `${label}: ${plural(day.messages, "message")}` },
        el("span", { class: "bar-value" }, day.messages ? String(day.messages) : ""),
        el("span", { class: "bar-track" }, bar),
        el("span", { class: "bar-day" }, String(date.getUTCDate())),
        el("span", { class: "visually-hidden" }, ` ${label}`));
    }));
  }

  function openStats() {
    show(statsPane, true);
    $("stats-button").setAttribute("aria-pressed", "true");
    app.classList.add("in-stats");
    $("stats-close").focus();
    loadStats();
  }

  function closeStats() {
    if (statsPane.hidden) return;
    show(statsPane, false);
    $("stats-button").setAttribute("aria-pressed", "false");
    app.classList.remove("in-stats");
    $("stats-button").focus();
  }

  $("stats-button").addEventListener("click", () => (statsPane.hidden ? openStats() : closeStats()));
  $("stats-close").addEventListener("click", closeStats);
  $("stats-refresh").addEventListener("click", () => loadStats());
  $("stats-older").addEventListener("click", () => olderActivity && loadStats(olderActivity));
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeStats(); });

  // ---- start ----------------------------------------------------------------------------

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.user) loadRooms();
  });

  (async () => {
    try {
      const res = await api("GET", "/auth/me");
      if (res.ok) signedIn(res.data.user);
      else signedOut("");
    } catch {
      signedOut(OFFLINE);
    }
  })();
})();
