// The hosted capture page: consent -> ID card front (and back) -> face video with the
// active liveness challenge -> result. Plain JavaScript, no dependencies, no build.
//
// Authority is the session token in this page's URL, sent to the API in the
// X-Capture-Token header. Nothing is written to browser storage: the card photos live
// in this page's memory until the verification is sent, then they are dropped.

const TOKEN = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const FPS = 10; // frames per second sent for the liveness challenge
const LEAD_S = 1.2; // "look at the camera" before the first action
const ACTION_S = 2.4; // seconds shown for each action
const MAX_FRAME_SIDE = 480;
const STEADY_DIFF = 6; // mean grey change between samples (0..255) that counts as steady
const STEADY_SAMPLES = 4; // consecutive steady samples (250 ms apart) before the auto photo

const PURPOSE_ORDER = ["real_name_verification", "biometric_processing", "retain_for_review"]; // as a person reads them

const $ = (id) => document.getElementById(id);
const state = {
  messages: null,
  lang: "en",
  session: null,
  side: "front",
  photos: { front: null, back: null },
  needsBack: true,
  stream: null,
  facing: null,
  monitor: null,
  auto: false,
  busy: false,
  challenge: null,
  retryComplete: false, // the verification was not answered: "Try again" sends it again
};

// Errors of the service, not of the person's capture: sending the same again may work.
const TRANSIENT = ["network_error", "internal_error", "service_busy", "deadline_exceeded", "rate_limited"];

// --- language ---
function pickLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "zh-CN") return asked;
  for (const l of navigator.languages || [navigator.language || ""]) {
    const low = (l || "").toLowerCase();
    if (low.startsWith("zh")) return "zh-CN";
    if (low.startsWith("en")) return "en";
  }
  return "en";
}

function t(key) {
  const m = state.messages;
  if (!m) return key;
  return (m[state.lang] && m[state.lang][key]) || m.en[key] || m.en.internal_error;
}

// Every text the page sets remembers its message key, so switching language re-renders it.
function say(el, key) {
  if (key) {
    el.dataset.key = key;
    el.textContent = t(key);
  } else {
    delete el.dataset.key;
    el.textContent = "";
  }
}

function applyLang() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-key]")) el.textContent = t(el.dataset.key);
  const other = state.lang === "en" ? "zh-CN" : "en";
  const button = $("lang");
  button.textContent = t("lang_switch");
  button.lang = other;
  document.title = t("title");
}

// --- the API ---
async function api(method, path, body) {
  const headers = { "X-Capture-Token": TOKEN };
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer" });
  } catch (e) {
    return { ok: false, code: "network_error" };
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (response.ok) return { ok: true, data };
  const code = data && data.error && data.error.code;
  return { ok: false, code: state.messages && state.messages.en[code] ? code : "internal_error" };
}

// --- steps ---
function show(id) {
  for (const s of document.querySelectorAll(".step")) s.hidden = s.id !== id;
  const heading = $(id).querySelector("h1");
  if (heading) heading.focus();
  document.body.dataset.step = id;
}

function fail(code) {
  stopCamera();
  say($("error-text"), code);
  show("step-error");
}

async function start() {
  const r = await api("GET", "/v1/capture/session");
  if (!r.ok) return fail(r.code);
  state.session = r.data;
  if (r.data.state === "created") return showConsent();
  return startCard("front");
}

// 1. consent
function showConsent() {
  const s = state.session;
  $("policy-text").textContent = s.policy_text;
  const box = $("purposes");
  for (const old of box.querySelectorAll(".purpose")) old.remove();
  const order = (p) => {
    const i = PURPOSE_ORDER.indexOf(p);
    return i < 0 ? PURPOSE_ORDER.length : i;
  };
  for (const p of [...s.purposes].sort((a, b) => order(a) - order(b))) {
    const required = s.required_purposes.includes(p);
    const row = document.createElement("div");
    row.className = "purpose";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.id = "purpose-" + p;
    input.value = p;
    input.required = required;
    const label = document.createElement("label");
    label.htmlFor = input.id;
    const text = document.createElement("span");
    say(text, "purpose_" + p);
    const mark = document.createElement("span");
    mark.className = required ? "required" : "optional";
    say(mark, required ? "required" : "optional");
    label.append(text, " ", mark);
    row.append(input, label);
    box.append(row);
  }
  show("step-consent");
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function giveConsent() {
  const s = state.session;
  const chosen = s.purposes.filter((p) => $("purpose-" + p).checked);
  const error = $("consent-error");
  if (!s.required_purposes.every((p) => chosen.includes(p))) {
    say(error, "consent_missing");
    $("purpose-" + s.required_purposes.find((p) => !chosen.includes(p))).focus();
    return;
  }
  say(error, null);
  $("consent-go").disabled = true;
  const r = await api("POST", "/v1/capture/consent", {
    purposes: chosen,
    locale: state.lang,
    text_sha256: await sha256Hex(s.policy_text),
  });
  $("consent-go").disabled = false;
  if (!r.ok) {
    if (r.code.startsWith("capture_session")) return fail(r.code);
    return say(error, r.code);
  }
  startCard("front");
}

// --- the camera ---
async function startCamera(facing, video) {
  if (state.stream && state.facing === facing) {
    video.srcObject = state.stream;
    return true;
  }
  stopCamera();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return false;
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: facing, width: { ideal: 1280 }, height: { ideal: 960 } },
    });
  } catch (e) {
    return false;
  }
  state.facing = facing;
  video.srcObject = state.stream;
  try {
    await video.play();
  } catch (e) {
    /* autoplay of a muted inline video is allowed; a refusal shows as a black preview */
  }
  return true;
}

function stopCamera() {
  if (state.monitor) clearInterval(state.monitor);
  state.monitor = null;
  if (state.stream) for (const track of state.stream.getTracks()) track.stop();
  state.stream = null;
  state.facing = null;
}

function grab(video, maxSide) {
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (!w || !h) return null;
  const scale = maxSide ? Math.min(1, maxSide / Math.max(w, h)) : 1;
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(w * scale);
  canvas.height = Math.round(h * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return canvas;
}

function toJpeg(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
}

// --- 2. the ID card ---
async function startCard(side) {
  state.side = side;
  state.auto = true;
  state.busy = false;
  say($("card-title"), side === "front" ? "card_front_title" : "card_back_title");
  say($("card-hint"), "card_hint");
  say($("card-status"), null);
  say($("card-error"), null);
  $("card-file").value = "";
  show("step-card");
  const video = $("card-video");
  const ok = await startCamera("environment", video);
  $("card-shoot").hidden = !ok;
  if (!ok) return say($("card-status"), "camera_unavailable");
  watchSteady(video);
}

// Take the photo by itself once the picture has been steady for about a second.
function watchSteady(video) {
  if (state.monitor) clearInterval(state.monitor);
  let previous = null;
  let steady = 0;
  state.monitor = setInterval(() => {
    if (!state.auto || state.busy) return;
    const small = grab(video, 64);
    if (!small) return;
    const px = small.getContext("2d").getImageData(0, 0, small.width, small.height).data;
    const grey = new Float32Array(px.length / 4);
    for (let i = 0; i < grey.length; i++) grey[i] = 0.299 * px[4 * i] + 0.587 * px[4 * i + 1] + 0.114 * px[4 * i + 2];
    if (previous && previous.length === grey.length) {
      let diff = 0;
      for (let i = 0; i < grey.length; i++) diff += Math.abs(grey[i] - previous[i]);
      diff /= grey.length;
      steady = diff < STEADY_DIFF ? steady + 1 : 0;
      document.querySelector(".card-outline").classList.toggle("steady", steady > 0);
      if (steady === 1) say($("card-status"), "hold_still");
      if (steady >= STEADY_SAMPLES) {
        state.auto = false; // once per step: after a retake the person decides
        shootCard();
      }
    }
    previous = grey;
  }, 250);
}

async function shootCard() {
  const canvas = grab($("card-video"), 0);
  if (canvas) sendCard(await toJpeg(canvas, 0.92));
}

async function sendCard(blob) {
  if (state.busy || !blob) return;
  state.busy = true;
  state.auto = false;
  const side = state.side;
  say($("card-error"), null);
  say($("card-status"), "reading");
  $("card-shoot").disabled = true;
  const form = new FormData();
  form.append("file", blob, side + ".jpg");
  const r = await api("POST", "/v1/capture/documents/" + side, form);
  $("card-shoot").disabled = false;
  state.busy = false;
  say($("card-status"), null);
  if (!r.ok) {
    if (r.code.startsWith("capture_session")) return fail(r.code);
    return say($("card-error"), r.code);
  }
  if (!r.data.ok) return say($("card-error"), "reason_" + r.data.reason);
  state.photos[side] = blob;
  say($("card-status"), "card_ok");
  if (side === "front") {
    state.needsBack = r.data.needs_back;
    state.photos.back = null;
    if (state.needsBack) return startCard("back");
  }
  startSelfie();
}

// --- 3. the face and the liveness challenge ---
async function startSelfie(messageKey) {
  stopCamera();
  say($("prompt"), null);
  say($("selfie-error"), messageKey || null);
  show("step-selfie");
  const ok = await startCamera("user", $("face-video"));
  if (!ok) {
    $("selfie-go").disabled = true;
    return say($("selfie-error"), "camera_unavailable");
  }
  $("selfie-go").disabled = false;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function runChallenge() {
  if (state.retryComplete) return complete();
  const go = $("selfie-go");
  go.disabled = true;
  say($("selfie-error"), null);
  const c = await api("POST", "/v1/capture/liveness");
  if (!c.ok) {
    go.disabled = false;
    if (c.code.startsWith("capture_")) return fail(c.code);
    return say($("selfie-error"), c.code);
  }
  state.challenge = c.data;
  const video = $("face-video");
  const frames = [];
  const times = [];
  const t0 = performance.now();
  const total = LEAD_S + ACTION_S * c.data.actions.length;
  const timer = setInterval(async () => {
    const at = (performance.now() - t0) / 1000;
    const canvas = grab(video, MAX_FRAME_SIDE);
    if (!canvas) return;
    times.push(at);
    frames.push(toJpeg(canvas, 0.85));
  }, 1000 / FPS);
  say($("prompt"), "get_ready");
  await sleep(LEAD_S * 1000);
  for (const action of c.data.actions) {
    say($("prompt"), "action_" + action);
    await sleep(ACTION_S * 1000);
  }
  clearInterval(timer);
  while ((performance.now() - t0) / 1000 < total) await sleep(20);
  say($("prompt"), "checking");
  const form = new FormData();
  const blobs = await Promise.all(frames);
  blobs.forEach((b, i) => form.append("frames", b, i + ".jpg"));
  form.append("timestamps", times.map((x) => x.toFixed(3)).join(","));
  form.append("nonce", c.data.nonce);
  form.append("mirrored", "false");
  const r = await api("POST", "/v1/capture/liveness/" + encodeURIComponent(c.data.id) + "/frames", form);
  go.disabled = false;
  if (!r.ok) {
    say($("prompt"), null);
    if (r.code.startsWith("capture_session") || r.code === "capture_attempts_exhausted") return fail(r.code);
    say(go, "selfie_again");
    return say($("selfie-error"), r.code);
  }
  if (r.data.retake) {
    say($("prompt"), null);
    say(go, "selfie_again");
    return say($("selfie-error"), "reason_" + r.data.reason);
  }
  complete();
}

// --- 4. the verification and its result ---
async function complete() {
  stopCamera();
  say($("prompt"), "finishing");
  $("selfie-go").disabled = true;
  const form = new FormData();
  form.append("liveness_session_id", state.challenge.id);
  form.append("id_front", state.photos.front, "front.jpg");
  if (state.photos.back) form.append("id_back", state.photos.back, "back.jpg");
  const r = await api("POST", "/v1/capture/complete", form);
  $("selfie-go").disabled = false;
  state.retryComplete = !r.ok && TRANSIENT.includes(r.code);
  if (state.retryComplete) {
    say($("prompt"), null);
    say($("selfie-go"), "selfie_again");
    return say($("selfie-error"), r.code);
  }
  if (!r.ok) {
    if (r.code.startsWith("document_")) return startCard("front").then(() => say($("card-error"), r.code));
    if (r.code.startsWith("face_") || r.code.startsWith("liveness_")) return startSelfie(r.code);
    if (r.code.startsWith("capture_")) return fail(r.code);
    say($("prompt"), null);
    return say($("selfie-error"), r.code);
  }
  state.photos = { front: null, back: null };
  showResult(r.data);
}

function showResult(data) {
  say($("result-title"), "result_" + data.result + "_title");
  say($("result-text"), "result_" + data.result + "_text");
  document.body.dataset.result = data.result;
  show("step-result");
  notify({ type: "kyc.capture.completed", verification_id: data.verification_id, result: data.result });
}

// Tell the app that opened the page (iframe parent or opener) at its configured origins only.
function notify(message) {
  const origins = (state.session && state.session.frame_origins) || [];
  const targets = [];
  if (window.parent && window.parent !== window) targets.push(window.parent);
  if (window.opener) targets.push(window.opener);
  for (const w of targets) {
    for (const origin of origins) {
      try {
        w.postMessage(message, origin);
      } catch (e) {
        /* a closed window or another origin: nothing to tell */
      }
    }
  }
}

// --- wiring ---
async function main() {
  state.lang = pickLang();
  try {
    const r = await fetch("/capture/static/messages.json", { cache: "no-store" });
    state.messages = await r.json();
  } catch (e) {
    state.messages = null;
  }
  applyLang();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "en" ? "zh-CN" : "en";
    applyLang();
  });
  $("consent-go").addEventListener("click", giveConsent);
  $("card-shoot").addEventListener("click", shootCard);
  $("card-file").addEventListener("change", (e) => {
    const file = e.target.files && e.target.files[0];
    if (file) sendCard(file);
  });
  $("selfie-go").addEventListener("click", runChallenge);
  if (!TOKEN) return fail("capture_session_not_found");
  await start();
}

main();
