// The sessions list's browser names (static/js/agent_name.js), run by `node --test` from tests/test_client_js.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { agentName } from "../../static/js/agent_name.js";

test("common browsers and systems by name", () => {
  const cases = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36": "Chrome on Linux",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge on Windows",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15": "Safari on macOS",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iPhone",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1": "Chrome on iPhone",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0": "Firefox on Windows",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36": "Chrome on Android",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36": "Samsung Internet on Android",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36": "Chrome on ChromeOS",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36": "Headless Chrome on Linux",
    "curl/8.5.0": "curl",
    "python-requests/2.32.3": "Python requests",
  };
  for (const [agent, name] of Object.entries(cases)) assert.equal(agentName(agent), name, agent);
});

test("unknown, empty and odd agents still read as something", () => {
  assert.equal(agentName(""), "Unknown browser");
  assert.equal(agentName(undefined), "Unknown browser");
  assert.equal(agentName("   "), "Unknown browser");
  assert.equal(agentName("MyBot/1.0 (+https://bot.example)"), "MyBot");
  assert.equal(agentName("Mozilla/5.0 (Windows NT 10.0) SomethingNew/1"), "A browser on Windows");
  assert.ok(agentName("x".repeat(300)).length <= 40);
});
