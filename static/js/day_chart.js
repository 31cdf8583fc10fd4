// Messages per day as bars; each bar's text says its day and count, and the axis names the month
// under the first day and wherever the month changes.
import { $, el, plural, show } from "chat/dom";

const month = (date) => date.toLocaleDateString([], { month: "short", timeZone: "UTC" });

export function renderDays(days) {
  const most = Math.max(1, ...days.map((day) => day.messages));
  show($("days-heading"), days.length > 0);
  let shownMonth = null;
  $("days").replaceChildren(...days.map((day) => {
    const date = new Date(`${day.day}T00:00:00Z`);
    const label = date.toLocaleDateString([], { month: "short", day: "numeric", timeZone: "UTC" });
    const newMonth = month(date) !== shownMonth;
    shownMonth = month(date);
    const bar = el("span", { class: "bar" });
    bar.style.height = `${Math.round((day.messages / most) * 100)}%`;
    return el("li", { title: `${label}: ${plural(day.messages, "message")}`, class: newMonth ? "month-start" : "" },
      el("span", { class: "bar-value" }, day.messages ? String(day.messages) : ""),
      el("span", { class: "bar-track" }, bar),
      el("span", { class: "bar-day", "aria-hidden": "true" }, String(date.getUTCDate())),
      el("span", { class: "bar-month", "aria-hidden": "true" }, newMonth ? month(date) : ""),
      el("span", { class: "visually-hidden" }, ` ${label}`));
  }));
}
