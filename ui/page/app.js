// roomtone's page: live captions pushed over /ws, the microphone over WebRTC (/offer),
// questions with [mm:ss] citations that scroll to the moment, reader settings kept.
"use strict";

const $ = (id) => document.getElementById(id);
const SPEAKER_COLOURS = 8;
const state = {
  ws: null, hello: null, captions: new Map(), sounds: new Map(), emotions: new Map(),
  names: new Map(), colours: new Map(), heardUntil: 0, awaySince: null, paused: false,
  questions: 0, pc: null, lastDelay: null, caughtUp: false,
};

// ---- time -------------------------------------------------------------------------
function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
function parseClock(text) {
  return text.split(":").map(Number).reduce((acc, part) => acc * 60 + part, 0);
}

// ---- reader settings (kept in localStorage) ---------------------------------------
const SETTINGS_KEY = "roomtone.settings";
const defaults = { fontSize: "100", theme: "dark", lineLength: "60" };
function loadSettings() {
  try { return { ...defaults, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}") }; }
  catch { return { ...defaults }; }
}
function applySettings(s) {
  document.documentElement.dataset.theme = s.theme;
  document.documentElement.style.setProperty("--scale", String(Number(s.fontSize) / 100));
  document.body.classList.toggle("line-full", s.lineLength === "0");
  if (s.lineLength !== "0") document.documentElement.style.setProperty("--line", `${s.lineLength}ch`);
  $("font-size").value = s.fontSize; $("theme").value = s.theme; $("line-length").value = s.lineLength;
}
function saveSetting(key, value) {
  const s = { ...loadSettings(), [key]: value };
  localStorage.setItem(SETTINGS_KEY, JSON.stringify(s));
  applySettings(s);
}

// ---- speakers ---------------------------------------------------------------------
function colourOf(label) {
  if (!state.colours.has(label)) state.colours.set(label, state.colours.size);
  return state.colours.get(label);
}
function colourClass(label) {
  const index = colourOf(label);
  return index < SPEAKER_COLOURS ? `s${index}` : "";
}
function speakerStyle(label) {
  // Past eight speakers, a hue of its own (golden-angle steps never repeat).
  const index = colourOf(label);
  if (index < SPEAKER_COLOURS) return "";
  const light = document.documentElement.dataset.theme === "light";
  return `color: hsl(${(index * 137.5) % 360} 90% ${light ? 25 : 75}%)`;
}
function displayName(label) { return state.names.get(label) || label; }
function addToLegend(label) {
  if (!label || document.querySelector(`#legend li[data-speaker="${CSS.escape(label)}"]`)) return;
  const li = document.createElement("li");
  li.dataset.speaker = label;
  const who = document.createElement("span");
  who.className = `who ${colourClass(label)}`;
  who.style.cssText = speakerStyle(label);
  who.textContent = displayName(label);
  const form = document.createElement("form");
  form.className = "rename";
  const input = document.createElement("input");
  input.type = "text"; input.maxLength = 40; input.setAttribute("aria-label", `New name for ${label}`);
  input.placeholder = "name";
  const button = document.createElement("button");
  button.type = "submit"; button.textContent = "Rename";
  button.setAttribute("aria-label", `Rename ${label}`);
  form.append(input, button);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value.trim()) send({ type: "rename", speaker: label, name: input.value.trim() });
    input.value = "";
  });
  li.append(who, " ", form);
  if (state.hello && !state.hello.rename) form.hidden = true;
  $("legend").append(li);
}
function showPeople(names) {
  // Who is in the meeting, as the presenter listed them (the assistant spells names so).
  $("people").hidden = names.length === 0;
  $("people").textContent = `In the meeting: ${names.join(", ")}`;
}
function refreshNames(label) {
  document.querySelectorAll(`[data-speaker="${CSS.escape(label)}"] .who`).forEach((el) => {
    el.textContent = displayName(label);
  });
}

// ---- the caption log --------------------------------------------------------------
function atBottom() {
  const log = $("captions");
  return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
}
function place(el, start) {
  // Keep the log in time order: a late revision or sound goes where it happened.
  el.dataset.start = String(start);
  const log = $("captions");
  let next = null;
  for (let node = log.lastElementChild; node; node = node.previousElementSibling) {
    if (Number(node.dataset.start) <= start) break;
    next = node;
  }
  if (el.parentNode === log && (el.nextElementSibling === next)) return;
  log.insertBefore(el, next);
}
const TURN_GAP_S = 3;
function markTurn(el) {
  // A caption starts a new paragraph when the speaker changes or after a pause.
  if (!el || !el.classList.contains("cap")) return;
  const prev = el.previousElementSibling;
  const starts = !prev || !prev.classList.contains("cap")
    || prev.dataset.speaker !== el.dataset.speaker
    || Number(el.dataset.start) - Number(prev.dataset.end) > TURN_GAP_S;
  el.classList.toggle("turn-start", starts);
}
function markTurnsAround(el) {
  markTurn(el);
  markTurn(el.nextElementSibling);
}
function followIfReading(wasAtBottom) {
  if (!state.paused && wasAtBottom) $("captions").scrollTop = $("captions").scrollHeight;
}
function flagFor(caption) {
  for (const flag of state.emotions.values()) {
    if (flag.speaker === caption.speaker && flag.label !== "neutral"
        && caption.start < flag.end && caption.end > flag.start) return flag.label;
  }
  return "";
}
function renderCaption(event) {
  const wasAtBottom = atBottom();
  let el = state.captions.get(event.id);
  if (event.final && !(event.words || []).length) {  // a retracted partial or removed line
    if (el) { const next = el.nextElementSibling; el.remove(); markTurn(next); }
    state.captions.delete(event.id);
    return;
  }
  if (!el) {
    el = document.createElement("span");
    el.id = `cap-${event.id}`;
    el.innerHTML = '<span class="time"></span><span class="who"></span><span class="text"></span><span class="flag"></span>';
    state.captions.set(event.id, el);
  }
  const wasTurnStart = el.classList.contains("turn-start");
  el.className = `cap ${event.final ? "final" : "partial"}${wasTurnStart ? " turn-start" : ""}`;
  el.dataset.end = String(event.end);
  el.dataset.speaker = event.speaker || "";
  el.querySelector(".time").textContent = `[${clock(event.start)}]`;
  const who = el.querySelector(".who");
  who.className = event.speaker ? `who ${colourClass(event.speaker)}` : "who";
  who.style.cssText = event.speaker ? speakerStyle(event.speaker) : "";
  who.textContent = event.speaker ? `${displayName(event.speaker)}:` : "";
  el.querySelector(".text").textContent = event.text;
  const flag = flagFor(event);
  el.querySelector(".flag").textContent = flag ? `(${flag})` : "";
  const neighbour = el.nextElementSibling;
  place(el, event.start);
  markTurnsAround(el);
  if (neighbour && neighbour !== el.nextElementSibling) markTurn(neighbour);
  applySearch(el);
  if (event.speaker) addToLegend(event.speaker);
  state.heardUntil = Math.max(state.heardUntil, event.end);
  showDelay(event);
  followIfReading(wasAtBottom);
}
function renderSound(event) {
  const wasAtBottom = atBottom();
  let el = state.sounds.get(event.id);
  if (!el) {
    el = document.createElement("p");
    el.className = "sound";
    el.id = `sound-${event.id}`;
    state.sounds.set(event.id, el);
  }
  el.textContent = "";
  const time = document.createElement("span");
  time.className = "time"; time.textContent = `[${clock(event.start)}]`;
  el.append(time, event.caption);
  place(el, event.start);
  markTurn(el.nextElementSibling);
  applySearch(el);
  followIfReading(wasAtBottom);
}
function renderEmotion(event) {
  state.emotions.set(event.turn || `${event.speaker}@${event.start}`, event);
  for (const el of state.captions.values()) {
    const start = Number(el.dataset.start), end = Number(el.dataset.end);
    if (el.dataset.speaker === event.speaker && start < event.end && end > event.start) {
      el.querySelector(".flag").textContent = event.label !== "neutral" ? `(${event.label})` : "";
    }
  }
}
function renderNotice(event) {
  const el = document.createElement("p");
  el.className = "notice";
  el.textContent = `[${clock(event.at || 0)}] ${event.message}`;
  place(el, event.at || 0);
}
function showDelay(event) {
  const origin = state.hello && state.hello.clock_origin;
  if (!origin || !state.hello.live || !state.caughtUp) return;  // not for the meeting's past
  const delay = Date.now() / 1000 - origin - event.end;
  state.lastDelay = delay;
  const el = $("delay");
  el.textContent = `Caption delay: ${Math.max(0, delay).toFixed(1)} s`;
  el.dataset.seconds = delay.toFixed(3);
  el.classList.toggle("late", delay > 3);
}

// ---- search -----------------------------------------------------------------------
function applySearch(el) {
  const term = $("search").value.trim().toLowerCase();
  el.classList.toggle("hidden", Boolean(term) && !el.textContent.toLowerCase().includes(term));
}
function searchAll() {
  const items = $("captions").children;
  $("captions").classList.toggle("searching", Boolean($("search").value.trim()));
  let shown = 0;
  for (const el of items) { applySearch(el); if (!el.classList.contains("hidden")) shown += 1; }
  $("search-count").textContent = $("search").value.trim() ? `${shown} matching lines` : "";
}

// ---- questions --------------------------------------------------------------------
function jumpTo(seconds) {
  // The caption that holds the moment, else the nearest one before it.
  let best = null;
  for (const el of $("captions").children) {
    if (el.classList.contains("notice")) continue;
    if (Number(el.dataset.start) <= seconds + 0.5) best = el; else break;
  }
  if (!best) return;
  document.querySelectorAll(".found").forEach((el) => el.classList.remove("found"));
  best.classList.remove("hidden");
  best.classList.add("found");
  setPaused(true);
  best.scrollIntoView({ block: "center" });
  best.tabIndex = -1;
  best.focus({ preventScroll: true });
}
function withCitations(container, text) {
  // "[01:23]" in an answer becomes a link to that moment.
  container.textContent = "";
  let last = 0;
  for (const m of text.matchAll(/\[(\d{1,2}:\d{2}(?::\d{2})?)\]/g)) {
    container.append(text.slice(last, m.index));
    const link = document.createElement("button");
    link.type = "button"; link.className = "cite"; link.textContent = m[0];
    link.dataset.seconds = String(parseClock(m[1]));
    link.setAttribute("aria-label", `Go to ${m[1]}`);
    link.addEventListener("click", () => jumpTo(Number(link.dataset.seconds)));
    container.append(link);
    last = m.index + m[0].length;
  }
  container.append(text.slice(last));
}
function ask(question, since) {
  const id = `q${++state.questions}`;
  const box = document.createElement("div");
  box.className = "answer"; box.id = `answer-${id}`;
  const q = document.createElement("p");
  q.className = "q"; q.textContent = since == null ? question : `${question} (since ${clock(since)})`;
  const a = document.createElement("p");
  a.className = "a"; a.textContent = "Thinking…";
  box.append(q, a);
  $("answers").prepend(box);
  send({ type: "ask", id, question, since });
}
function renderAnswer(message) {
  const box = $(`answer-${message.id}`);
  if (!box) return;
  const a = box.querySelector(".a");
  if (message.type === "answer_text") { a.textContent = message.text; return; }
  if (message.error) { a.textContent = message.error; a.classList.add("error"); return; }
  withCitations(a, message.answer);
  box.dataset.done = "true";
}

// ---- the microphone (WebRTC) -------------------------------------------------------
async function startMicrophone() {
  const button = $("mic");
  if (state.pc) {
    state.pc.getSenders().forEach((sender) => sender.track && sender.track.stop());
    state.pc.close(); state.pc = null;
    button.textContent = "Start microphone";
    $("status").textContent = "Live — your microphone is off";
    return;
  }
  button.disabled = true;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
    const pc = new RTCPeerConnection({ iceServers: [] });
    stream.getAudioTracks().forEach((track) => pc.addTrack(track, stream));
    // The server watches this channel's pings to know the sender is still there.
    const channel = pc.createDataChannel("roomtone");
    const pinger = setInterval(() => {
      if (channel.readyState === "open") channel.send(`ping: ${Date.now()}`);
    }, 1000);
    pc.addEventListener("connectionstatechange", () => {
      if (["closed", "failed"].includes(pc.connectionState)) clearInterval(pinger);
    });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") { resolve(); return; }
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
      setTimeout(resolve, 3000);
    });
    const reply = await fetch("/offer", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer" }),
    });
    const body = await reply.json();
    if (!reply.ok) throw new Error(body.error || `the server said ${reply.status}`);
    await pc.setRemoteDescription(body);
    state.pc = pc;
    button.textContent = "Stop microphone";
    $("status").textContent = "Live — your microphone is on";
  } catch (err) {
    $("status").textContent = `Microphone: ${err.message}`;
  } finally {
    button.disabled = false;
  }
}

// ---- the event stream ---------------------------------------------------------------
function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}
function reset() {
  state.captions.clear(); state.sounds.clear(); state.emotions.clear();
  $("captions").textContent = ""; $("legend").textContent = ""; showPeople([]);
}
function onMessage(message) {
  switch (message.type) {
    case "hello":
      reset();
      state.caughtUp = false;
      state.hello = message;
      $("title").textContent = message.title || "roomtone";
      document.title = `${message.title} — roomtone`;
      $("status").textContent = message.live ? "Live" : "Past meeting (read-only)";
      $("mic").hidden = !message.microphone;
      for (const id of ["export-md", "export-json", "export-srt"]) $(id).hidden = !message.export;
      document.querySelector("#ask-form button").disabled = !message.assistant;
      $("missed").disabled = !message.assistant;
      $("people-form").hidden = !message.people;
      break;
    case "caught_up": state.caughtUp = true; break;
    case "clock": if (state.hello) state.hello.clock_origin = message.origin; break;
    case "caption": renderCaption(message); break;
    case "sound": renderSound(message); break;
    case "emotion": renderEmotion(message); break;
    case "speaker": addToLegend(message.speaker); break;
    case "name": state.names.set(message.speaker, message.name); addToLegend(message.speaker);
      refreshNames(message.speaker); break;
    case "people": showPeople(message.names); break;
    case "notice": renderNotice(message); break;
    case "answer": case "answer_text": renderAnswer(message); break;
    case "error": $("status").textContent = `Server: ${message.message}`; break;
    default: break;
  }
}
function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  state.ws = ws;
  ws.addEventListener("message", (e) => onMessage(JSON.parse(e.data)));
  ws.addEventListener("close", () => {
    $("status").textContent = "Disconnected — reconnecting…";
    setTimeout(connect, 1000);
  });
}

// ---- reading away, pausing ----------------------------------------------------------
function setPaused(paused) {
  state.paused = paused;
  $("pause").setAttribute("aria-pressed", String(paused));
  $("pause").textContent = paused ? "Resume scrolling" : "Pause scrolling";
  if (!paused) $("captions").scrollTop = $("captions").scrollHeight;
}
function markAway() {
  if (state.awaySince === null) state.awaySince = state.heardUntil;
}

function init() {
  applySettings(loadSettings());
  $("font-size").addEventListener("change", (e) => saveSetting("fontSize", e.target.value));
  $("theme").addEventListener("change", (e) => saveSetting("theme", e.target.value));
  $("line-length").addEventListener("change", (e) => saveSetting("lineLength", e.target.value));
  $("help-toggle").addEventListener("click", () => {
    const open = $("settings").hidden;
    $("settings").hidden = !open;
    $("help-toggle").setAttribute("aria-expanded", String(open));
  });
  $("pause").addEventListener("click", () => setPaused(!state.paused));
  $("mic").addEventListener("click", startMicrophone);
  $("search").addEventListener("input", searchAll);
  $("captions").addEventListener("scroll", () => { if (!atBottom()) markAway(); });
  document.addEventListener("visibilitychange", () => { if (document.hidden) markAway(); });
  $("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const question = $("ask-input").value.trim();
    if (question) ask(question, null);
    $("ask-input").value = "";
  });
  $("people-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const names = $("people-input").value.trim();
    if (names) send({ type: "people", names });  // kept in the box: an error leaves it to mend
  });
  $("missed").addEventListener("click", () => {
    // Since the reader scrolled up or looked away; else the last five minutes.
    const since = state.awaySince !== null ? state.awaySince : Math.max(0, state.heardUntil - 300);
    state.awaySince = null;
    ask("What did I miss?", Math.floor(since));
  });
  connect();
}
init();
