// A browser's User-Agent in a few words a person recognises: "Chrome on Linux", "Safari on iPhone".

// The first match wins: browsers built on Chrome say "Chrome" too, so they come before it.
const BROWSERS = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\b(?:OPR|Opera)\//, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bVivaldi\//, "Vivaldi"],
  [/\bYaBrowser\//, "Yandex Browser"],
  [/\b(?:Firefox|FxiOS)\//, "Firefox"],
  [/\bHeadlessChrome\//, "Headless Chrome"],
  [/\b(?:Chrome|CriOS)\//, "Chrome"],
  [/\bChromium\//, "Chromium"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/\bcurl\//i, "curl"],
  [/\bpython-requests\//i, "Python requests"],
  [/\bWget\//i, "Wget"],
];

const SYSTEMS = [
  [/\biPhone\b/, "iPhone"],
  [/\biPad\b/, "iPad"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b|\bX11\b/, "Linux"],
];

/** "Browser on System" for a User-Agent string; the first word of an unknown one; "Unknown browser" for none. */
export function agentName(agent) {
  const text = typeof agent === "string" ? agent.trim() : "";
  if (!text) return "Unknown browser";
  const browser = (BROWSERS.find(([pattern]) => pattern.test(text)) || [])[1];
  const system = (SYSTEMS.find(([pattern]) => pattern.test(text)) || [])[1];
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  const first = text.split(/[\s/;(]/)[0].slice(0, 40);
  return system ? `A browser on ${system}` : first || "Unknown browser";
}
