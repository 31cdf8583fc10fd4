// What the account forms share: the checks of an email and of a new password in human words, showing
// each field's error under it, and which of the log-in page's cards (log in, forgot, new password) shows.
import { $, show } from "chat/dom";

const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$/;

/** What is wrong with an email address as typed, or "" when it will do. */
export function emailProblem(value) {
  const address = value.trim();
  if (!address) return "Enter an email address";
  if (!EMAIL.test(address)) return "Enter an email address, like name@example.com";
  if (address.length > 254) return "An email address has at most 254 characters";
  return "";
}

/** What is wrong with a password as typed, or "". */
export function passwordProblem(value) {
  if (!value) return "Enter a password";
  if (value.length < 8) return "At least 8 characters";
  if (value.length > 1024) return "At most 1024 characters";
  return "";
}

/** What is wrong with the second typing of a new password, or "". */
export function againProblem(value, first) {
  if (!value) return "Type the new password once more";
  return value === first ? "" : "The two passwords differ: type them again";
}

/**
 * A form's field errors: `fields` maps each input to [its error element, check() -> problem or ""].
 * check() shows every problem (and returns the first field that has one); a shown error goes away as soon
 * as what was typed is fine.
 */
export function fieldChecks(fields) {
  const mark = (input, text) => {
    fields.get(input)[0].textContent = text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  for (const [input, [, problem]] of fields) {
    input.addEventListener("input", () => {
      if (input.hasAttribute("aria-invalid") && !problem()) mark(input, "");
    });
  }
  return {
    check() {
      let first = null;
      for (const [input, [, problem]] of fields) {
        const text = problem();
        mark(input, text);
        if (text && !first) first = input;
      }
      return first;
    },
    mark,
    clear() { for (const input of fields.keys()) mark(input, ""); },
  };
}

/** Show one card of the log-in page (hiding the others) and focus its first field. */
export function showCard(card) {
  for (const other of $("auth-view").querySelectorAll(".auth-card")) show(other, other === card);
  const first = card.querySelector("input:not([hidden]), button:not([hidden])");
  if (first) first.focus();
}

/** The API's error text as a sentence: its first letter a capital. */
export function sentence(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".") : "";
}
