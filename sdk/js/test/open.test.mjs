// The SDK outside a browser: a small fake host window stands in for the DOM
// (iframe element, window.open, message events, timers), so these tests check the
// SDK's own logic. The real page drives it in tests/capture/test_browser_flow.py.
import { test } from "node:test";
import assert from "node:assert/strict";

import { CaptureError, COMPLETED_MESSAGE, captureUrl, openCapture } from "../dist/kyc-capture.js";

const URL_OK = "https://kyc.example/capture/cap_abcDEF-_123";
const ORIGIN = "https://kyc.example";

function fakeHost({ popupBlocked = false } = {}) {
  const listeners = new Set();
  const timers = new Map();
  let nextTimer = 1;
  const body = {
    children: [],
    appendChild(el) {
      el.parentNode = body;
      body.children.push(el);
    },
    removeChild(el) {
      body.children = body.children.filter((c) => c !== el);
      el.parentNode = null;
    },
  };
  const host = {
    opened: [],
    body,
    document: {
      body,
      createElement(tag) {
        return { tag, attrs: {}, style: {}, contentWindow: { name: "frame-window" }, setAttribute(k, v) { this.attrs[k] = v; } };
      },
    },
    open(url) {
      if (popupBlocked) return null;
      const popup = { url, closed: false, close() { this.closed = true; } };
      host.opened.push(popup);
      return popup;
    },
    addEventListener(type, fn) { listeners.add(fn); },
    removeEventListener(type, fn) { listeners.delete(fn); },
    setInterval(fn) { const id = nextTimer++; timers.set(id, fn); return id; },
    clearInterval(id) { timers.delete(id); },
    setTimeout(fn) { const id = nextTimer++; timers.set(id, fn); return id; },
    clearTimeout(id) { timers.delete(id); },
    fireTimers() { for (const fn of [...timers.values()]) fn(); },
    post(data, origin, source) { for (const fn of [...listeners]) fn({ data, origin, source }); },
    get listening() { return listeners.size; },
  };
  return host;
}

const done = (id = "v123", result = "done") => ({ type: COMPLETED_MESSAGE, verification_id: id, result });

test("captureUrl accepts only a capture session URL and adds the language", () => {
  assert.deepEqual(captureUrl(URL_OK, "zh-CN"), { href: URL_OK + "?lang=zh-CN", origin: ORIGIN });
  for (const bad of ["/capture/cap_x", "javascript:alert(1)", "https://kyc.example/admin", "https://kyc.example/capture/x"]) {
    assert.throws(() => captureUrl(bad), (e) => e instanceof CaptureError && e.code === "invalid_url", bad);
  }
});

test("iframe: resolves with the verification id from the page's origin and window only", async () => {
  const host = fakeHost();
  const promise = openCapture({ url: URL_OK, lang: "en", removeOnDone: true }, host);
  const frame = host.body.children[0];
  assert.equal(frame.tag, "iframe");
  assert.equal(frame.src, URL_OK + "?lang=en");
  assert.equal(frame.attrs.allow, "camera");
  host.post(done("forged"), "https://evil.example", frame.contentWindow); // another origin
  host.post(done("forged"), ORIGIN, { name: "another window" }); // another window
  host.post({ type: "other" }, ORIGIN, frame.contentWindow); // another message
  const result = await Promise.race([promise, new Promise((r) => setTimeout(() => r("pending"), 20))]);
  assert.equal(result, "pending");
  host.post(done("v42", "review"), ORIGIN, frame.contentWindow);
  assert.deepEqual(await promise, { verificationId: "v42", result: "review" });
  assert.equal(host.body.children.length, 0, "the iframe is removed");
  assert.equal(host.listening, 0, "no listener left behind");
});

test("an unknown result is told as retry", async () => {
  const host = fakeHost();
  const promise = openCapture({ url: URL_OK }, host);
  const frame = host.body.children[0];
  host.post(done("v1", "approved!"), ORIGIN, frame.contentWindow);
  assert.deepEqual(await promise, { verificationId: "v1", result: "retry" });
  assert.equal(host.body.children.length, 1, "by default the iframe stays, showing the result");
});

test("window: resolves from the popup, rejects when it is closed or blocked", async () => {
  const host = fakeHost();
  const promise = openCapture({ url: URL_OK, mode: "window" }, host);
  const popup = host.opened[0];
  host.post(done("v7"), ORIGIN, popup);
  assert.deepEqual(await promise, { verificationId: "v7", result: "done" });

  const host2 = fakeHost();
  const closed = openCapture({ url: URL_OK, mode: "window" }, host2);
  host2.opened[0].closed = true;
  host2.fireTimers();
  await assert.rejects(closed, (e) => e.code === "closed");

  await assert.rejects(openCapture({ url: URL_OK, mode: "window" }, fakeHost({ popupBlocked: true })), (e) => e.code === "popup_blocked");
});

test("timeout and abort reject and clean up", async () => {
  const host = fakeHost();
  const slow = openCapture({ url: URL_OK, timeoutMs: 1000 }, host);
  host.fireTimers();
  await assert.rejects(slow, (e) => e.code === "timeout");
  assert.equal(host.body.children.length, 0);
  assert.equal(host.listening, 0);

  const controller = new AbortController();
  const host2 = fakeHost();
  const aborted = openCapture({ url: URL_OK, signal: controller.signal }, host2);
  controller.abort();
  await assert.rejects(aborted, (e) => e.code === "aborted");
  assert.equal(host2.body.children.length, 0);
  await assert.rejects(openCapture({ url: URL_OK, signal: controller.signal }, fakeHost()), (e) => e.code === "aborted");
});

test("a bad URL rejects before anything opens", async () => {
  const host = fakeHost();
  await assert.rejects(openCapture({ url: "https://kyc.example/v1/health" }, host), (e) => e.code === "invalid_url");
  assert.equal(host.body.children.length, 0);
  assert.equal(host.listening, 0);
});
