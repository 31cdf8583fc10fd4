// Where one is logged in (GET /v1/sessions), under the profile: each session's browser, address and
// times, "This device" for the current one, *Log out* for each other one (DELETE /v1/sessions/:id) and
// *Log out everywhere else* (DELETE /v1/sessions).
import { agentName } from "chat/agent_name";
import { OFFLINE, api, apiError } from "chat/api";
import { $, el, plural, show, timeLabel } from "chat/dom";

const list = $("sessions");
const status = $("sessions-status");
const problem = $("sessions-error");
const endOthers = $("sessions-end-others");

/** How long ago, in words: "just now", "5 minutes ago", "3 hours ago", else the day and time. */
export function ago(t) {
  const minutes = Math.floor((Date.now() - new Date(t).getTime()) / 60000);
  if (minutes < 2) return "just now";
  if (minutes < 60) return `${minutes} minutes ago`;
  if (minutes < 24 * 60) return plural(Math.floor(minutes / 60), "hour") + " ago";
  return timeLabel(t);
}

function sessionItem(session, end) {
  const name = agentName(session.agent);
  const where = session.address ? `${session.address} · ` : "";
  const seen = session.current ? "active now" : `active ${ago(session.last_seen)}`;
  const started = new Date(session.created).toLocaleString();
  const text = el("div", { class: "session-text" },
    el("span", { class: "session-name" }, el("strong", { title: session.agent || "" }, name),
      session.current ? el("span", { class: "tag owner" }, "This device") : null),
    el("span", { class: "hint small" }, `${where}since ${timeLabel(session.created)} · ${seen}`));
  text.lastChild.title = `Logged in ${started}`;
  const button = session.current ? null : el("button", {
    type: "button", class: "session-end", onclick: () => end(session.id, button),
    "aria-label": `Log out ${name}${session.address ? ` at ${session.address}` : ""}`,
  }, "Log out");
  return el("li", { class: `session${session.current ? " current" : ""}`, "data-session": session.id }, text, button);
}

export class SessionList {
  constructor() {
    endOthers.addEventListener("click", () => this.endOthers());
  }

  /** Read the list again (the profile opened, a password changed). */
  async load() {
    problem.textContent = "";
    try {
      const res = await api("GET", "/v1/sessions");
      if (!res.ok || !Array.isArray(res.data)) {
        problem.textContent = apiError(res, "Your sessions could not be listed.");
        return;
      }
      const ordered = [...res.data].sort((a, b) => Number(b.current) - Number(a.current)); // this device first
      list.replaceChildren(...ordered.map((session) => sessionItem(session, (id, button) => this.end(id, button))));
      show(endOthers, res.data.some((session) => !session.current));
    } catch {
      problem.textContent = OFFLINE;
    }
  }

  async end(id, button) {
    button.disabled = true;
    try {
      const res = await api("DELETE", `/v1/sessions/${encodeURIComponent(id)}`);
      if (!res.ok && res.status !== 404) { // 404: it had ended already
        problem.textContent = apiError(res);
        button.disabled = false;
        return;
      }
      status.textContent = "That session is logged out: its next request goes back to the log-in page.";
      await this.load();
      (endOthers.hidden ? $("sessions-title") : endOthers).focus(); // the pressed button is gone
    } catch {
      problem.textContent = OFFLINE;
      button.disabled = false;
    }
  }

  async endOthers() {
    try {
      const res = await api("DELETE", "/v1/sessions");
      if (!res.ok) { problem.textContent = apiError(res); return; }
      status.textContent = res.data.ended ? `Logged out ${plural(res.data.ended, "other session")}.` : "No other session was open.";
      await this.load();
      $("sessions-title").focus();
    } catch {
      problem.textContent = OFFLINE;
    }
  }

  /** Forget what was shown (logging out, the dialog opening again). */
  clear() {
    list.replaceChildren();
    status.textContent = problem.textContent = "";
    show(endOthers, false);
  }
}
