/**
 * @kyc/capture: open the kyc hosted capture page and get the verification id back.
 *
 * Your backend creates a capture session (`POST /v1/capture-sessions` with its API key)
 * and hands the session's `url` to the app; the app calls {@link openCapture}. The page
 * does consent, ID card, selfie and liveness, and tells this module the result by
 * `postMessage`, which is accepted only from the page's own origin and window.
 * The result here is for the app's screens; the backend reads the verification itself
 * (`GET /v1/verifications/{id}`, or the `verification.completed` webhook).
 *
 * For the iframe mode, the page's origin must allow yours: `kyc clients capture-origins
 * CLIENT_ID --origin https://your.app` (the page's frame-ancestors and its result
 * messages use that list).
 */

export type CaptureOutcome = "done" | "review" | "retry";

export interface CaptureResult {
  /** The stored verification's id (read it from your backend). */
  verificationId: string;
  /** What the person was told: verified, under review, or try again. Never a score. */
  result: CaptureOutcome;
}

export type CaptureErrorCode = "invalid_url" | "popup_blocked" | "closed" | "timeout" | "aborted";

export class CaptureError extends Error {
  readonly code: CaptureErrorCode;

  constructor(code: CaptureErrorCode, message: string) {
    super(message);
    this.name = "CaptureError";
    this.code = code;
  }
}

export interface OpenCaptureOptions {
  /** The session's `url` from `POST /v1/capture-sessions`. */
  url: string;
  /** `iframe` (default) inside `container`, or `window` (a new tab or popup). */
  mode?: "iframe" | "window";
  /** Where the iframe goes (default: `document.body`). */
  container?: HTMLElement;
  /** The page's language; by default the browser's. */
  lang?: "en" | "zh-CN";
  /** Reject with `timeout` after this many milliseconds (default: none). */
  timeoutMs?: number;
  /** Abort: rejects with `aborted` and closes the flow. */
  signal?: AbortSignal;
  /** Remove the iframe as soon as the result arrives (default: it stays, showing the
   *  person the page's result screen, until the app clears its container). */
  removeOnDone?: boolean;
}

/** The window the SDK runs in; injectable so the module can be tested outside a browser. */
export interface HostWindow {
  document: Document;
  open(url: string, target: string): Window | null;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  setInterval(handler: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
  setTimeout(handler: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** The message type the page posts when the verification is stored. */
export const COMPLETED_MESSAGE = "kyc.capture.completed";

/** The page's URL with the language, and its origin; throws `invalid_url` for anything else. */
export function captureUrl(url: string, lang?: "en" | "zh-CN"): { href: string; origin: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new CaptureError("invalid_url", "The capture URL is not an absolute URL.");
  }
  if ((parsed.protocol !== "https:" && parsed.protocol !== "http:") || !/^\/capture\/cap_[A-Za-z0-9_-]+$/.test(parsed.pathname)) {
    throw new CaptureError("invalid_url", "The capture URL must be the `url` of a capture session.");
  }
  if (lang) parsed.searchParams.set("lang", lang);
  return { href: parsed.toString(), origin: parsed.origin };
}

/** Open the capture flow; resolves when the page has stored the verification. */
export function openCapture(options: OpenCaptureOptions, host?: HostWindow): Promise<CaptureResult> {
  const w: HostWindow = host || (window as unknown as HostWindow);
  return new Promise<CaptureResult>((resolve, reject) => {
    let target: { href: string; origin: string };
    try {
      target = captureUrl(options.url, options.lang);
    } catch (e) {
      reject(e);
      return;
    }
    if (options.signal && options.signal.aborted) {
      reject(new CaptureError("aborted", "The capture was aborted."));
      return;
    }
    let frame: HTMLIFrameElement | null = null;
    let popup: Window | null = null;
    let poll: unknown = null;
    let timer: unknown = null;

    const cleanup = (removeFrame: boolean) => {
      w.removeEventListener("message", onMessage);
      if (poll !== null) w.clearInterval(poll);
      if (timer !== null) w.clearTimeout(timer);
      if (options.signal) options.signal.removeEventListener("abort", onAbort);
      if (frame && removeFrame && frame.parentNode) frame.parentNode.removeChild(frame);
    };
    const fail = (code: CaptureErrorCode, message: string) => {
      cleanup(true);
      if (popup && !popup.closed) popup.close();
      reject(new CaptureError(code, message));
    };
    function onAbort() {
      fail("aborted", "The capture was aborted.");
    }
    function onMessage(event: MessageEvent) {
      const source = frame ? frame.contentWindow : popup;
      if (event.origin !== target.origin || !source || event.source !== source) return;
      const data = event.data as { type?: unknown; verification_id?: unknown; result?: unknown } | null;
      if (!data || data.type !== COMPLETED_MESSAGE || typeof data.verification_id !== "string") return;
      const result = data.result === "done" || data.result === "review" ? data.result : "retry";
      cleanup(Boolean(options.removeOnDone));
      resolve({ verificationId: data.verification_id, result });
    }

    w.addEventListener("message", onMessage);
    if (options.signal) options.signal.addEventListener("abort", onAbort);
    if (options.timeoutMs) timer = w.setTimeout(() => fail("timeout", "The capture took too long."), options.timeoutMs);

    if (options.mode === "window") {
      popup = w.open(target.href, "_blank");
      if (!popup) {
        fail("popup_blocked", "The browser blocked the new window; call openCapture from a click.");
        return;
      }
      poll = w.setInterval(() => {
        if (popup && popup.closed) fail("closed", "The capture window was closed before the end.");
      }, 500);
      return;
    }
    frame = w.document.createElement("iframe");
    frame.src = target.href;
    frame.title = "Identity verification";
    frame.setAttribute("allow", "camera");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.style.border = "0";
    frame.style.width = "100%";
    frame.style.height = "100%";
    (options.container || w.document.body).appendChild(frame);
  });
}
