// Changing one's password from the profile (POST /auth/password {current, password}); the server then
// logs out every other session, and the page says how many.
import { againProblem, fieldChecks, passwordProblem } from "chat/account_forms";
import { OFFLINE, api, sessionEnded } from "chat/api";
import { $, plural, seconds, show } from "chat/dom";

const form = $("password-form");
const current = $("password-current");
const fresh = $("password-new");
const again = $("password-again");
const problem = $("password-error");
const done = $("password-done");

/** Wire the form; `changed()` after a change (the sessions list reads itself again). Answers {reset(user)}. */
export function startPasswordChange({ changed }) {
  const checks = fieldChecks(new Map([
    [current, [$("password-current-error"), () => (current.value ? "" : "Enter your current password")]],
    [fresh, [$("password-new-error"), () => passwordProblem(fresh.value)]],
    [again, [$("password-again-error"), () => againProblem(again.value, fresh.value)]],
  ]));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    const wrong = checks.check();
    if (wrong) { wrong.focus(); return; }
    form.setAttribute("aria-busy", "true");
    try {
      const res = await api("POST", "/auth/password", { current: current.value, password: fresh.value });
      const text = (res.data && typeof res.data.error === "string" && res.data.error) || "";
      if (res.ok) {
        current.value = fresh.value = again.value = "";
        $("password-section").open = false;
        done.textContent = `Your password is changed${res.data.ended ? `, and ${plural(res.data.ended, "other session")} logged out` : ""}.`;
        show(done, true);
        changed();
      } else if (res.status === 401 && text.startsWith("log in")) {
        sessionEnded(); // this session itself has ended
      } else if (res.status === 401) {
        checks.mark(current, "That is not your current password");
        current.select(); // what is typed next replaces it
        current.focus();
      } else if (res.status === 429) {
        problem.textContent = `Too many wrong passwords: try again in ${seconds(res.retryAfter)}.`;
      } else if (res.status === 400 && text.startsWith("password")) {
        checks.mark(fresh, "Between 8 and 1024 characters");
      } else {
        problem.textContent = `The password was not changed (the server answered ${res.status}).`;
      }
    } catch {
      problem.textContent = OFFLINE;
    } finally {
      form.removeAttribute("aria-busy");
    }
  });

  return {
    /** The profile opens: an empty form, closed, for `user` (named for password managers). */
    reset(user) {
      current.value = fresh.value = again.value = "";
      $("password-user").value = user;
      checks.clear();
      problem.textContent = "";
      show(done, false);
      $("password-section").open = false;
    },
  };
}
