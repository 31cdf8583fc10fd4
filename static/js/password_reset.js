// A forgotten password: "Forgot password?" asks for the address and POSTs /auth/reset, whose answer never
// tells whether the account exists, so the page always says the same; the mailed link (/#reset=<token>)
// opens "Choose a new password", which POSTs /auth/reset/confirm and is then logged in.
import { againProblem, emailProblem, fieldChecks, passwordProblem, sentence, showCard } from "chat/account_forms";
import { OFFLINE, api } from "chat/api";
import { $, seconds, show } from "chat/dom";

const forgotForm = $("forgot-form");
const forgotEmail = $("forgot-email");
const resetForm = $("reset-form");
const newPassword = $("reset-password");
const again = $("reset-confirm");

/** The token of a reset link in the address (`#reset=<token>`), or "". */
function linkToken() {
  return new URLSearchParams(location.hash.slice(1)).get("reset") || "";
}

/** The token stays out of the address (history, bookmarks, a shared screen) once it has done its work. */
function forgetLink() {
  if (linkToken()) history.replaceState(null, "", location.pathname + location.search);
}

/**
 * Wire both forms. `signedIn(user)`: the new password is set and we are logged in; `back()`: the person
 * went back to logging in. Answers {forgot(email), openLink() -> whether the address held a reset link}.
 */
export function startPasswordReset({ signedIn, back }) {
  const forgotChecks = fieldChecks(new Map([[forgotEmail, [$("forgot-email-error"), () => emailProblem(forgotEmail.value)]]]));
  const resetChecks = fieldChecks(new Map([
    [newPassword, [$("reset-password-error"), () => passwordProblem(newPassword.value)]],
    [again, [$("reset-confirm-error"), () => againProblem(again.value, newPassword.value)]],
  ]));
  let token = "";

  const forgot = (email) => {
    forgotEmail.value = email || forgotEmail.value;
    forgotChecks.clear();
    $("forgot-error").textContent = "";
    show($("forgot-sent"), false);
    $("forgot-send").textContent = "Send the link";
    showCard(forgotForm);
  };

  forgotForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("forgot-error").textContent = "";
    const wrong = forgotChecks.check();
    if (wrong) { wrong.focus(); return; }
    const address = forgotEmail.value.trim();
    forgotForm.setAttribute("aria-busy", "true");
    try {
      const res = await api("POST", "/auth/reset", { username: address });
      if (res.status === 202) {
        $("forgot-sent").textContent = `If an account exists for ${address}, we have sent it a link to choose a new password. `
          + "It works once, for 30 minutes. No letter? Look in the spam folder, or send another.";
        show($("forgot-sent"), true);
        $("forgot-send").textContent = "Send another link";
      } else if (res.status === 429) {
        $("forgot-error").textContent = `Too many requests for a link: try again in ${seconds(res.retryAfter)}.`;
      } else if (res.status === 400) {
        forgotChecks.mark(forgotEmail, "Enter an email address, like name@example.com");
        forgotEmail.focus();
      } else {
        $("forgot-error").textContent = `The link was not sent (the server answered ${res.status}): try again.`;
      }
    } catch {
      $("forgot-error").textContent = OFFLINE;
    } finally {
      forgotForm.removeAttribute("aria-busy");
    }
  });
  $("forgot-back").addEventListener("click", () => back());

  /** The link no longer works: say why (the server's words) and offer a new one. */
  const linkFailed = (text) => {
    token = "";
    forgetLink();
    show($("reset-fields"), false);
    show($("reset-save"), false);
    show($("reset-again"), true);
    $("reset-title").textContent = "This link no longer works";
    $("reset-error").textContent = sentence(text);
    $("reset-again").focus();
  };

  resetForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("reset-error").textContent = "";
    const wrong = resetChecks.check();
    if (wrong) { wrong.focus(); return; }
    resetForm.setAttribute("aria-busy", "true");
    try {
      const res = await api("POST", "/auth/reset/confirm", { token, password: newPassword.value });
      const text = (res.data && typeof res.data.error === "string" && res.data.error) || "";
      if (res.ok) {
        forgetLink();
        newPassword.value = again.value = "";
        signedIn(res.data.user);
      } else if (res.status === 400 && text.startsWith("password")) {
        resetChecks.mark(newPassword, "Between 8 and 1024 characters");
        newPassword.focus();
      } else if (res.status === 400) {
        linkFailed(text || "This link does not work: ask for a new one");
      } else {
        $("reset-error").textContent = res.status === 429
          ? `Too many attempts: try again in ${seconds(res.retryAfter)}.`
          : `The password was not changed (the server answered ${res.status}): try again.`;
      }
    } catch {
      $("reset-error").textContent = OFFLINE;
    } finally {
      resetForm.removeAttribute("aria-busy");
    }
  });
  $("reset-again").addEventListener("click", () => forgot(""));
  $("reset-back").addEventListener("click", () => { token = ""; forgetLink(); back(); });

  // A link pasted into a page already open only changes the hash: start again as if it had been opened.
  window.addEventListener("hashchange", () => { if (linkToken()) location.reload(); });

  const openLink = () => {
    token = linkToken();
    if (!token) return false;
    resetChecks.clear();
    $("reset-error").textContent = "";
    show($("reset-fields"), true);
    show($("reset-save"), true);
    show($("reset-again"), false);
    $("reset-title").textContent = "Choose a new password";
    show($("auth-view"), true);
    showCard(resetForm);
    return true;
  };
  return { forgot, openLink };
}
