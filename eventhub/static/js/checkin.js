// The check-in page as a door app that keeps working without network, with no mode to
// switch: every scan is looked up in the list kept on the device and checked in there at
// once (nonce and time), then sent; what cannot be sent waits in a queue until the
// network is back. Every few seconds the device sends its queue and pulls what the other
// devices did since its last pull.
//
// Without JavaScript, or in a browser without IndexedDB or service workers, the page's
// form works as before (one round trip per ticket).

import { scanner } from "./checkin-camera.js";
import { DoorList } from "./checkin-list.js";
import { Door, forget } from "./checkin-store.js";
import { Offline, Server, ticketCode, ticketHash } from "./checkin-sync.js";
import {
  alreadyText, fill, hhmm, matchItem, noticeCard, resultCard, unknownCard, warningItem,
} from "./checkin-view.js";

const PULL_EVERY_MS = 4000;
const BATCH = 200;

const root = document.querySelector("[data-door]");
const config = root ? JSON.parse(root.querySelector("[data-door-config]").textContent) : null;
const T = config?.texts;
const $ = (selector) => root.querySelector(selector);
const codeForm = document.querySelector("[data-code-form]");
const supported = root && window.indexedDB && window.crypto?.subtle && "serviceWorker" in navigator;

const list = new DoorList(T);
let door = null; // the IndexedDB store
let server = null;
let device = null; // {token, letters}
let cursor = null;
let keepUntil = null;
let online = navigator.onLine;
let running = null; // the sync (or undo) under way
let stopped = false;
let lastResult = null; // {person, nonce} of the check-in on screen

// Showing the state --------------------------------------------------------------------

function render() {
  $("[data-door-bar]").hidden = false;
  $("[data-door-network]").textContent = online ? T.online : T.offline;
  $("[data-door-network]").classList.toggle("is-offline", !online);
  $("[data-door-queue]").textContent = list.queue.length
    ? fill(T.queued, { n: list.queue.length }) : T.queued_none;
  $("[data-door-device]").textContent = device ? fill(T.device, { x: device.letters }) : "";
  const size = list.people.size;
  $("[data-door-size]").textContent = size ? fill(T.list_size, { n: size }) : "";
  if (size) {
    const { inside, expected } = list.counts();
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

// Warnings after a sync; the card on screen, if it is the same person's, says it too.
function warn(warnings) {
  for (const { text, person } of warnings) {
    $("[data-door-warnings]").prepend(warningItem(T, text));
    if (person && lastResult && lastResult.person.h === person.h) {
      const current = list.people.get(person.h) || person;
      show(current.c ? resultCard(T, current, "warn", alreadyText(T, current))
        : resultCard(T, current, "error", text));
    }
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
    const entry = list.checkIn(person, !online || !navigator.onLine);
    await door.write({ queue: [entry], people: [person] });
    const text = fill(T.checked_in, { name: person.n, time: hhmm(entry.at) });
    show(resultCard(T, person, "ok", text, true), { person, nonce: entry.nonce });
    render();
    setTimeout(sync, 0);
  }
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
  if (!list.queue.some((e) => e.nonce === nonce)) {
    let answer;
    try {
      answer = await server.post(config.urls.undo, { device: device.token, nonce });
    } catch (_) {
      notice(T.offline);
      return;
    }
    if (!answer.ok) {
      notice(answer.body.message || String(answer.status));
      return;
    }
  }
  list.undone(person, nonce);
  await door.write({ people: [person], unqueue: [nonce], unmine: [person.h] });
  show(noticeCard(fill(T.undone, { name: person.n }), "ok"));
  render();
}

async function lookup(text) {
  const code = ticketCode(text);
  if (code) {
    const person = list.people.get(await ticketHash(code));
    return person ? admit(person) : show(unknownCard(T));
  }
  return search(text);
}

function search(text) {
  const matches = $("[data-door-matches]");
  if (text.trim().length < 2) {
    matches.hidden = true;
    return;
  }
  const found = list.search(text);
  matches.replaceChildren(...found.map((p) => matchItem(T, p, admit)));
  matches.hidden = false;
  show(found.length ? document.createTextNode("") : noticeCard(fill(T.no_match, { q: text.trim() })));
}

// Talking to the server -------------------------------------------------------------

async function startDevice() {
  const answer = await server.post(config.urls.device, {});
  if (!answer.ok) return refused(answer);
  device = { token: answer.body.device, letters: answer.body.letters };
  list.letters = device.letters;
  await door.write({ meta: { device } });
  return true;
}

async function fetchList() {
  notice(T.loading, "info");
  const answer = await server.get(config.urls.list);
  if (!answer.ok) return refused(answer);
  const fresh = list.replace(answer.body);
  cursor = answer.body.cursor;
  keepUntil = answer.body.keep_until;
  await door.write({ clear: ["people"], people: fresh, meta: { cursor, keep_until: keepUntil } });
  list.prepareSearch();
  if (passing) notice("");
  return true;
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
  const changed = list.queue.filter((e) => !e.offline);
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
    const batch = list.queue.slice(0, BATCH);
    const answer = await server.post(config.urls.sync, {
      device: device.token, since: cursor, queued: list.queue.length - batch.length,
      sent_at: Date.now(), check_ins: batch,
    });
    setOnline(true);
    if (answer.ok) {
      const done = list.synced(answer.body, batch);
      cursor = answer.body.cursor;
      await door.write({ people: done.changed, unqueue: done.received, mine: done.mine,
        meta: { cursor } });
      warn(done.warnings);
      if (answer.body.door) $("[data-door-state]").innerHTML = answer.body.door; // our server's
      if (passing) notice("");
    } else if (answer.status === 409 && answer.body.refused) {
      // Refused whole: the refused ones are put aside, the rest goes again at once.
      const done = list.refused(answer.body.refused);
      await door.write({ people: done.changed, unqueue: done.gone });
      warn(done.warnings);
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
  if (list.queue.length && online && !stopped) setTimeout(sync, 0);
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
    if (!list.people.size && !(await fetchList())) return;
    await sync();
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    setOnline(false);
    if (!list.people.size) notice(T.no_list);
  }
}

// The event is over: the list goes; check-ins still waiting stay until they are sent.
async function over() {
  if (!keepUntil || Date.now() < keepUntil) return false;
  if (list.queue.length) {
    if (list.people.size) {
      list.people.clear();
      await door.write({ clear: ["people"] });
    }
    notice(fill(T.over_queued, { n: list.queue.length }), "warn", true);
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
  list.letters = device ? device.letters : "";
  cursor = (await door.meta("cursor")) || null;
  keepUntil = (await door.meta("keep_until")) || null;
  list.load(await door.all("people"), await door.all("mine"), await door.all("queue"));
}

function wire() {
  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = codeForm.querySelector("input[name=code]");
    if (!list.people.size) {
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
  server = new Server(config.urls, codeForm.querySelector("input[name=csrf_token]").value);
  navigator.serviceWorker.register(config.urls.worker, { scope: config.urls.page })
    .catch(() => { /* the page still works while online */ });
  await load();
  wire();
  render();
  list.prepareSearch();
  scanner((code) => lookup(code), T.unreadable);
  await tick();
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
