// The log-in / create-account form: checks what it can before sending, and says what is wrong in
// human words under the field it concerns; logging out; asking who we are after a reload.
import { emailProblem, passwordProblem, sentence, showCard } from "chat/account_forms";
import { OFFLINE, api, onUnauthorized } from "chat/api";
import { SIGNED_IN } from "chat/config";
import { $, seconds, show } from "chat/dom";
import { remember } from "chat/people";

const form = $("auth-form");
const email = $("auth-email");
const password = $("auth-password");
const formError = $("auth-error");
const fieldErrors = new Map([[email, $("auth-email-error")], [password, $("auth-password-error")]]);

/** What is wrong with the form as typed, field by field (nothing: ready to send). */
function problems() {
  const found = new Map([[email, emailProblem(email.value)], [password, passwordProblem(password.value)]]);
  for (const [input, text] of found) if (!text) found.delete(input);
  return found;
}

function showProblems(found) {
  for (const [input, error] of fieldErrors) {
    error.textContent = found.get(input) || "";
    if (found.has(input)) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** The API's answer in the form's words: a field's error under it, anything else above the buttons. */
function explain(res) {
  const text = (res.data && typeof res.data.error === "string" && res.data.error) || "";
  if (res.status === 401) return ["", "Wrong email or password: check both and try again."];
  if (res.status === 409) return ["", "This email is already registered: log in instead."];
  if (res.status === 429) return ["", `Too many attempts: try again in ${seconds(res.retryAfter)}.`];
  if (text.startsWith("username")) return [email, "Enter an email address"];
  if (text.startsWith("password")) return [password, "Between 8 and 1024 characters"];
  return ["", sentence(text) || `The server answered ${res.status}.`];
}

/**
 * Wire the form; `signedIn(user)` and `signedOut()` tell the rest of the page, `forgot(email)` opens the
 * password reset. Answers {enter(user), check()}: sign in as someone (after a reset), and ask the server
 * who we are (the page's start, unless a reset link opened it).
 */
export function startAuth({ signedIn, signedOut, forgot }) {
  const enter = (user) => {
    onUnauthorized(() => leave("Your session has ended: please log in again."));
    show($("auth-view"), false);
    show($("account"), true);
    show($("chat-view"), true);
    formError.textContent = "";
    signedIn(user);
  };
  const leave = (notice) => {
    onUnauthorized(null);
    signedOut();
    show($("chat-view"), false);
    show($("account"), false);
    show($("auth-view"), true);
    showCard(form);
    formError.textContent = notice;
    email.focus();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = event.submitter && event.submitter.value === "register" ? "register" : "login";
    formError.textContent = "";
    const found = problems();
    showProblems(found);
    if (found.size) {
      found.keys().next().value.focus();
      return;
    }
    form.setAttribute("aria-busy", "true");
    try {
      const res = await api("POST", `/auth/${action}`, { username: email.value, password: password.value });
      if (res.ok) {
        password.value = "";
        enter(res.data.user);
        return;
      }
      const [field, text] = explain(res);
      if (field) showProblems(new Map([[field, text]]));
      else formError.textContent = text;
    } catch {
      formError.textContent = OFFLINE;
    } finally {
      form.removeAttribute("aria-busy");
    }
  });
  // A field's error goes away as soon as what was typed is fine.
  for (const [input, error] of fieldErrors) {
    input.addEventListener("input", () => {
      if (input.hasAttribute("aria-invalid") && !problems().has(input)) {
        error.textContent = "";
        input.removeAttribute("aria-invalid");
      }
    });
  }
  $("forgot-button").addEventListener("click", () => {
    formError.textContent = "";
    showProblems(new Map());
    forgot(email.value.trim());
  });

  $("logout-button").addEventListener("click", async () => {
    try {
      await api("POST", "/auth/logout");
    } catch {
      // The session cookie stays until the server can be told; the page still forgets the user.
    }
    leave("");
  });

  let served = SIGNED_IN; // the page says who it was served to: the first check needs no request
  const check = async () => {
    if (served) {
      remember({ userid: served.user, name: served.name, avatar: served.avatar });
      enter(served.user);
      served = null;
      return;
    }
    try {
      const res = await api("GET", "/auth/me");
      if (res.ok) enter(res.data.user);
      else leave("");
    } catch {
      leave(OFFLINE);
    }
  };
  return { enter, check };
}
