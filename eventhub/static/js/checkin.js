// The check-in page as a door app that keeps working without network, with no mode to
// switch: every scan is looked up in the list kept on the device and checked in there at
// once (nonce and time), then sent; what cannot be sent waits in a queue until the
// network is back. Every few seconds the device sends its queue and pulls what the other
// devices did since its last pull.
//
// Without JavaScript, or in a browser without IndexedDB or service workers, the page's
// form works as before (one round trip per ticket).

import { Door, forget } from "./checkin-store.js";
import { Offline, Server, ticketCode, ticketHash } from "./checkin-sync.js";
import {
  alreadyText, fill, hhmm, matchItem, noticeCard, resultCard, unknownCard, warningItem,
} from "./checkin-view.js";

const PULL_EVERY_MS = 4000;
const BATCH = 200;
const BY_NAME = new Intl.Collator("da");

const root = document.querySelector("[data-door]");
const config = root ? JSON.parse(root.querySelector("[data-door-config]").textContent) : null;
const T = config?.texts;
const $ = (selector) => root.querySelector(selector);
const codeForm = document.querySelector("[data-code-form]");
const supported = root && window.indexedDB && window.crypto?.subtle && "serviceWorker" in navigator;

const people = new Map(); // ticket hash → {h, n, o, s, c, d}
const mine = new Map(); // ticket hash → {h, nonce, at, warned}
let queue = []; // [{nonce, ticket, at, offline}]
let door = null;
let server = null;
let device = null; // {token, letters}
let cursor = null;
let keepUntil = null;
let online = navigator.onLine;
let running = null; // the sync under way
let stopped = false;
let lastResult = null; // {person, nonce} of the scan on screen

// Showing the state --------------------------------------------------------------------

function render() {
  $("[data-door-bar]").hidden = false;
  $("[data-door-network]").textContent = online ? T.online : T.offline;
  $("[data-door-network]").classList.toggle("is-offline", !online);
  $("[data-door-queue]").textContent = queue.length
    ? fill(T.queued, { n: queue.length }) : T.queued_none;
  $("[data-door-device]").textContent = device ? fill(T.device, { x: device.letters }) : "";
  $("[data-door-size]").textContent = people.size ? fill(T.list_size, { n: people.size }) : "";
  if (people.size) {
    let expected = 0;
    let inside = 0;
    for (const p of people.values()) {
      if (p.s !== "confirmed") continue;
      expected += 1;
      if (p.c) inside += 1;
    }
    $("[data-checkin-count]").textContent = fill(T.counter, { n: inside, total: expected });
  }
}

// A notice stays until the next one; a passing one (loading, signed out, an error from the
// server) also goes when a sync goes through.
let passing = false;

function notice(text, kind = "warn", stays = false) {
  const box = $("[data-door-notice]");
  passing = Boolean(text) && !stays;
  box.hidden = !text;
  box.className = `notice notice-${kind}`;
  box.textContent = text || "";
}

function show(card, result = null) {
  lastResult = result;
  $("[data-door-result]").replaceChildren(card);
  card.querySelector?.("[data-door-undo]")?.addEventListener("click", undoLast);
}

// A warning after a sync; the card on screen, if it is the same person's, says it too.
function warn(text, person = null) {
  $("[data-door-warnings]").prepend(warningItem(T, text));
  if (person && lastResult && lastResult.person.h === person.h) {
    const kind = person.c ? "warn" : "error";
    show(resultCard(T, person, kind, person.c ? alreadyText(T, person) : text));
  }
}

// Checking in on the device ----------------------------------------------------------

async function admit(person) {
  const matches = $("[data-door-matches]");
  if (!matches.hidden) {
    matches.hidden = true;
    const input = codeForm.querySelector("input[name=code]");
    input.value = "";
    input.focus();
  }
  if (person.s !== "confirmed") {
    const status = T.statuses[person.s] || person.s;
    show(resultCard(T, person, "error", fill(T.not_confirmed, { status })));
  } else if (person.c) {
    show(resultCard(T, person, "warn", alreadyText(T, person)));
  } else {
    await checkIn(person);
  }
}

async function checkIn(person) {
  const entry = {
    nonce: crypto.randomUUID(), ticket: person.h, at: Date.now(), offline: !online || !navigator.onLine,
  };
  person.c = entry.at;
  person.d = device ? device.letters : "";
  queue.push(entry);
  await door.write({ queue: [entry], people: [person] });
  show(resultCard(T, person, "ok", fill(T.checked_in, { name: person.n, time: hhmm(entry.at) }), true),
    { person, nonce: entry.nonce });
  render();
  setTimeout(sync, 0);
}

// Undo the check-in on screen. No sync runs meanwhile: one under way may be carrying it,
// and a pull started before the undo would bring the check-in back for a moment.
async function undoLast() {
  const result = lastResult;
  if (!result) return;
  while (running) await running;
  running = undo(result).finally(() => { running = null; });
  await running;
}

async function undo({ person, nonce }) {
  const waiting = queue.find((e) => e.nonce === nonce);
  if (waiting) {
    queue = queue.filter((e) => e !== waiting);
  } else {
    let answer;
    try {
      answer = await server.post(config.urls.undo, { device: device.token, nonce });
    } catch (_) {
      notice(T.offline);
      return;
    }
    if (!answer.ok) {
      notice(answer.body.message || answer.status);
      return;
    }
    mine.delete(person.h);
  }
  person.c = null;
  person.d = "";
  await door.write({ people: [person], unqueue: [nonce], unmine: [person.h] });
  show(noticeCard(fill(T.undone, { name: person.n }), "ok"));
  render();
}

async function lookup(text) {
  const code = ticketCode(text);
  if (code) {
    const person = people.get(await ticketHash(code));
    if (person) return admit(person);
    return show(unknownCard(T));
  }
  return search(text);
}

function fold(text) {
  return (text || "").toLocaleLowerCase("da").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
}

// What a name search looks in: name and organization, folded once per person.
const searchKeys = new WeakMap();

function searchKey(person) {
  const known = searchKeys.get(person);
  if (known && known.n === person.n && known.o === person.o) return known.key;
  const key = `${fold(person.n)}\n${fold(person.o)}`;
  searchKeys.set(person, { n: person.n, o: person.o, key });
  return key;
}

// Fold the names while nobody waits, so the first search is as quick as the others.
function prepareSearch() {
  const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 200));
  idle(() => { for (const p of people.values()) searchKey(p); });
}

function search(text) {
  const wanted = fold(text.trim());
  const list = $("[data-door-matches]");
  if (wanted.length < 2) {
    list.hidden = true;
    return;
  }
  const found = [];
  for (const p of people.values()) {
    if (searchKey(p).includes(wanted)) found.push(p);
  }
  found.sort((a, b) => BY_NAME.compare(a.n, b.n));
  list.replaceChildren(...found.slice(0, 20).map((p) => matchItem(T, p, admit)));
  list.hidden = false;
  show(found.length ? document.createTextNode("") : noticeCard(fill(T.no_match, { q: text.trim() })));
}

// Talking to the server -------------------------------------------------------------

function row(r, orgs) {
  return { h: r[0], n: r[1], o: r[2] >= 0 ? orgs[r[2]] : "", s: r[3], c: r[4], d: r[5] };
}

async function startDevice() {
  const answer = await server.post(config.urls.device, {});
  if (!answer.ok) return refused(answer);
  device = { token: answer.body.device, letters: answer.body.letters };
  await door.write({ meta: { device } });
  return true;
}

async function fetchList() {
  notice(T.loading, "info");
  const answer = await server.get(config.urls.list);
  if (!answer.ok) return refused(answer);
  const fresh = answer.body.people.map((r) => row(r, answer.body.orgs));
  // Check-ins made here and not yet sent stay checked in on the new list.
  const waiting = new Map(queue.map((e) => [e.ticket, e]));
  for (const p of fresh) {
    const entry = waiting.get(p.h);
    if (entry && !p.c) Object.assign(p, { c: entry.at, d: device.letters });
  }
  people.clear();
  for (const p of fresh) people.set(p.h, p);
  cursor = answer.body.cursor;
  keepUntil = answer.body.keep_until;
  await door.write({ clear: ["people"], people: fresh, meta: { cursor, keep_until: keepUntil } });
  prepareSearch();
  if (passing) notice("");
  return true;
}

function applyResult(result, sent, changed) {
  const person = people.get(result.ticket);
  if (!person) return;
  const entry = sent.get(result.nonce);
  if (result.outcome === "not_confirmed") {
    Object.assign(person, { s: result.status, c: null, d: "" });
    warn(fill(T.warn_not_confirmed, { name: person.n, status: T.statuses[result.status] || result.status }),
      person);
  } else if (result.outcome === "undone") {
    Object.assign(person, { c: null, d: "" });
  } else {
    Object.assign(person, { c: result.at, d: result.device });
    const duplicate = result.outcome === "duplicate";
    if (duplicate) warn(alreadyText(T, person, "warn_duplicate"), person);
    mine.set(person.h, { h: person.h, nonce: result.nonce, at: entry ? entry.at : result.at, warned: duplicate });
  }
  changed.add(person);
}

// What other devices did: an earlier scan elsewhere of a ticket checked in here shows a
// warning once.
function applyChanges(changes, changed) {
  const waiting = new Map(queue.map((e) => [e.ticket, e]));
  for (const r of changes.people) {
    const fresh = row(r, changes.orgs);
    const entry = waiting.get(fresh.h);
    if (entry && (!fresh.c || fresh.c > entry.at)) Object.assign(fresh, { c: entry.at, d: device.letters });
    const own = mine.get(fresh.h);
    if (own && !own.warned && fresh.c && fresh.d !== device.letters) {
      own.warned = true;
      warn(alreadyText(T, fresh, "warn_duplicate"), fresh);
    }
    // The same object stays in the map: a card or a match list on screen may hold it.
    const person = people.get(fresh.h);
    if (person) Object.assign(person, fresh);
    else people.set(fresh.h, fresh);
    changed.add(person || fresh);
  }
}

async function synced(body, batch) {
  const changed = new Set();
  const sent = new Map(batch.map((e) => [e.nonce, e]));
  for (const result of body.results) applyResult(result, sent, changed);
  const received = new Set(body.results.map((r) => r.nonce));
  queue = queue.filter((e) => !received.has(e.nonce));
  if (body.changes) applyChanges(body.changes, changed);
  cursor = body.cursor;
  const touched = [...changed].map((p) => mine.get(p.h)).filter(Boolean);
  await door.write({ people: [...changed], unqueue: [...received], mine: touched, meta: { cursor } });
  if (body.door) $("[data-door-state]").innerHTML = body.door; // rendered by our own server
}

// A batch refused whole: put the refused check-ins aside (with why), send the rest again.
async function putAside(refused) {
  const changed = [];
  for (const item of refused) {
    const person = people.get(item.ticket);
    const entry = queue.find((e) => e.nonce === item.nonce);
    if (person && entry && person.c === entry.at) Object.assign(person, { c: null, d: "" });
    if (person) changed.push(person);
    warn(fill(T.warn_refused, { name: person ? person.n : "?", reason: item.reason }), person);
  }
  const gone = new Set(refused.map((r) => r.nonce));
  queue = queue.filter((e) => !gone.has(e.nonce));
  await door.write({ people: changed, unqueue: [...gone] });
}

function refused(answer) {
  if (answer.status === 401) {
    notice(answer.body.message);
    const link = document.createElement("a");
    link.href = config.urls.login;
    link.textContent = T.signed_out_link;
    $("[data-door-notice]").append(" ", link);
  } else {
    notice(answer.body.message || answer.body.error || String(answer.status), "error");
  }
  if (answer.status === 410) restart();
  else if ([403, 404, 409].includes(answer.status)) stopped = true;
  return false;
}

async function markOffline() {
  const changed = queue.filter((e) => !e.offline);
  for (const e of changed) e.offline = true;
  if (changed.length) await door.write({ queue: changed });
}

// One sync at a time; whoever asks meanwhile waits for the one under way.
function sync() {
  if (!running) running = syncOnce().finally(() => { running = null; });
  return running;
}

async function syncOnce() {
  if (stopped || !device) return;
  try {
    const batch = queue.slice(0, BATCH);
    const answer = await server.post(config.urls.sync, {
      device: device.token, since: cursor, queued: queue.length - batch.length,
      sent_at: Date.now(), check_ins: batch,
    });
    setOnline(true);
    if (answer.ok) {
      await synced(answer.body, batch);
      if (passing) notice("");
    } else if (answer.status === 409 && answer.body.refused) {
      await putAside(answer.body.refused);
      setTimeout(sync, 0);
    } else {
      refused(answer);
    }
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    setOnline(false);
    await markOffline();
  } finally {
    render();
  }
  if (queue.length && online && !stopped) setTimeout(sync, 0);
}

function setOnline(value) {
  if (online === value) return;
  online = value;
  render();
}

async function tick() {
  if (stopped) return;
  if (await over()) return;
  try {
    if (!device && !(await startDevice())) return;
    if (!people.size && !(await fetchList())) return;
    await sync();
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    setOnline(false);
    if (!people.size) notice(T.no_list);
  }
}

// The event is over: the list goes; check-ins still waiting stay until they are sent.
async function over() {
  if (!keepUntil || Date.now() < keepUntil) return false;
  if (queue.length) {
    if (people.size) {
      people.clear();
      await door.write({ clear: ["people"] });
    }
    notice(fill(T.over_queued, { n: queue.length }), "warn", true);
    return false;
  }
  stopped = true;
  door.close();
  await forget(config.slug, config.urls.page);
  notice(T.over, "info", true);
  return true;
}

async function restart() {
  stopped = true;
  door.close();
  await forget(config.slug, config.urls.page);
  window.location.reload();
}

// Starting ---------------------------------------------------------------------------

async function load() {
  door = await Door.open(config.slug);
  const owner = await door.meta("user");
  if (owner !== undefined && owner !== config.user) {
    // Someone else's list (they did not sign out here): it goes, as sign-out would do.
    door.close();
    await forget(config.slug, config.urls.page);
    door = await Door.open(config.slug);
    notice(T.other_user, "warn", true);
  }
  await door.write({ meta: { user: config.user, urls: config.urls } });
  device = (await door.meta("device")) || null;
  cursor = (await door.meta("cursor")) || null;
  keepUntil = (await door.meta("keep_until")) || null;
  for (const p of await door.all("people")) people.set(p.h, p);
  for (const m of await door.all("mine")) mine.set(m.h, m);
  queue = (await door.all("queue")).sort((a, b) => a.at - b.at);
}

function wire() {
  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = codeForm.querySelector("input[name=code]");
    if (!people.size) {
      if (online) codeForm.submit(); // no list yet: the server answers this one
      else notice(T.no_list);
      return;
    }
    await lookup(input.value);
    if (ticketCode(input.value)) input.value = "";
    input.focus();
  });
  window.addEventListener("online", () => { online = true; tick(); });
  window.addEventListener("offline", () => setOnline(false));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) tick(); });
  setInterval(() => { if (!document.hidden) tick(); }, PULL_EVERY_MS);
  let installPrompt = null;
  const install = $("[data-door-install]");
  install.textContent = T.install;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt = event;
    install.hidden = false;
  });
  install.addEventListener("click", () => { install.hidden = true; installPrompt?.prompt(); });
}

async function start() {
  const csrf = codeForm.querySelector("input[name=csrf_token]").value;
  server = new Server(config.urls, csrf);
  navigator.serviceWorker.register(config.urls.worker, { scope: config.urls.page })
    .catch(() => { /* the page still works while online */ });
  await load();
  wire();
  render();
  prepareSearch();
  scanner((code) => lookup(code));
  await tick();
}

// The camera, where the browser has BarcodeDetector -------------------------------------

function scanner(onCode) {
  const section = document.querySelector("[data-scanner]");
  if (!section || !("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) return;
  section.hidden = false;
  const video = section.querySelector("[data-scanner-video]");
  const status = section.querySelector("[data-scanner-status]");
  const start = section.querySelector("[data-scanner-start]");
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  let stream = null;
  let last = "";
  const stop = () => {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    start.hidden = false;
  };
  const scan = async () => {
    if (!stream) return;
    try {
      for (const found of await detector.detect(video)) {
        const code = ticketCode(found.rawValue);
        if (!code) status.textContent = T ? T.unreadable : "";
        if (code && code !== last) {
          last = code;
          setTimeout(() => { last = ""; }, 3000); // the same ticket held up: once
          await onCode(code);
        }
      }
    } catch (_) { /* frame not ready yet */ }
    setTimeout(scan, 150);
  };
  start.addEventListener("click", async () => {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      await video.play();
      start.hidden = true;
      scan();
    } catch (err) {
      status.textContent = start.dataset.denied || String(err);
    }
  });
  document.addEventListener("visibilitychange", () => { if (document.hidden) stop(); });
}

// Without the app: the counter refreshes, and a scan posts the ticket to the server.

function checkInByPost(code) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = `/t/${encodeURIComponent(code)}/checkin`;
  form.append(codeForm.querySelector("input[name=csrf_token]").cloneNode());
  document.body.append(form);
  form.submit();
}

function withoutApp() {
  const counter = document.querySelector("[data-checkin-count][data-count-url]");
  if (counter) {
    const refresh = async () => {
      try {
        const response = await fetch(counter.dataset.countUrl, { headers: { Accept: "application/json" } });
        if (response.ok) counter.textContent = (await response.json()).text;
      } catch (_) { /* offline for a moment: keep the last figure */ }
    };
    setInterval(refresh, 5000);
  }
  scanner(checkInByPost);
}

if (supported && codeForm) {
  start().catch((error) => {
    notice(String(error), "error");
  });
} else if (codeForm) {
  withoutApp();
}
