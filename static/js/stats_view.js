// The stats pane: the counts, messages per day, and the activity log the server permits, with
// older pages through `next`. Escape closes it.
import { OFFLINE, api } from "chat/api";
import { activityRows } from "chat/activity_table";
import { renderDays } from "chat/day_chart";
import { $, el, show, timeLabel } from "chat/dom";

const COUNTS = [
  ["user", "Users"], ["room", "Rooms created"], ["rooms_open", "Rooms open"], ["messages", "Messages"],
  ["uploads", "Images"],
];
const pane = $("stats-pane");
const toggle = $("stats-button");

export class StatsView {
  /** user() -> who we are; roomName(id) -> a room's name where the page knows it. */
  constructor({ user, roomName }) {
    this.user = user;
    this.roomName = roomName;
    this.older = null; // the `before` of the next older page of the activity log
    toggle.addEventListener("click", () => (pane.hidden ? this.open() : this.close()));
    $("stats-close").addEventListener("click", () => this.close());
    $("stats-refresh").addEventListener("click", () => this.load());
    $("stats-older").addEventListener("click", () => this.older && this.load(this.older));
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !document.querySelector("dialog[open]")) this.close();
    });
  }

  open() {
    show(pane, true);
    toggle.setAttribute("aria-pressed", "true");
    $("app").classList.add("in-stats");
    $("stats-close").focus();
    this.load();
  }

  close() {
    if (pane.hidden) return;
    show(pane, false);
    toggle.setAttribute("aria-pressed", "false");
    $("app").classList.remove("in-stats");
    toggle.focus();
  }

  async load(before) {
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
    const rows = activityRows(logs, this.roomName);
    this.older = stats.next || null;
    show($("stats-older"), Boolean(this.older));
    if (before) {
      $("activity-rows").append(...rows);
      return;
    }
    $("activity-rows").replaceChildren(...rows);
    $("stats-counts").replaceChildren(...COUNTS.filter(([key]) => typeof stats[key] === "number").map(([key, label]) =>
      el("div", { class: "count" }, el("dt", {}, label), el("dd", {}, stats.updated ? stats[key].toLocaleString() : "–"))));
    $("stats-updated").textContent = stats.updated ? `Counted ${timeLabel(stats.updated)}` : "Not counted yet";
    renderDays(stats.updated && Array.isArray(stats.messages_per_day) ? stats.messages_per_day : []);
    const everyone = logs.some((entry) => entry.u !== this.user());
    $("stats-scope").textContent = everyone
      ? "Everyone's activity, newest first (you are an administrator)."
      : "Your own activity, newest first; administrators see everyone's.";
  }
}
