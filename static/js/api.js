// The JSON API over fetch; a 401 outside /auth/ tells whoever listens that the session has ended.
import { seconds } from "chat/dom";

export const OFFLINE = "Cannot reach the server: check your connection.";

let unauthorized = null;

/** Call `handler` on a 401 from any non-auth request (null: nobody is signed in). */
export function onUnauthorized(handler) { unauthorized = handler; }

/** Tell the listener (if any) that the session has ended. */
export function sessionEnded() { if (unauthorized) unauthorized(); }

/** A JSON request to the API: {status, ok, data, retryAfter}; throws only when the network fails. */
export async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const res = await fetch(path, options);
  const isJson = (res.headers.get("Content-Type") || "").startsWith("application/json");
  let data = null;
  if (isJson) {
    try {
      data = await res.json();
    } catch (error) {
      if (res.ok) throw error; // an answer cut short (the network dropped): a failure to reach the server
    }
  }
  const answer = { status: res.status, ok: res.ok, data, retryAfter: Number(res.headers.get("Retry-After")) || 1 };
  if (res.status === 401 && !path.startsWith("/auth/")) sessionEnded();
  return answer;
}

/** The API's error text for an answer, else `fallback`. */
export function apiError(res, fallback) {
  if (res.status === 429) return `Too many requests: wait ${seconds(res.retryAfter)} and try again.`;
  return (res.data && typeof res.data.error === "string" && res.data.error) || fallback || `The server answered ${res.status}.`;
}
