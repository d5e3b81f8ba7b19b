// Phones: vote without leaving the page, and follow live results over Server-Sent Events.
// Without JavaScript the forms post normally and the page shows the results.

// A 503 (the server or a service it needs is busy or away for a moment) is tried again
// after the server's Retry-After, a few times, each phone at a slightly different moment
// so a room of phones does not come back all at once. The phone says it is trying again,
// and sends the choice the person made when they pressed the button.
const RETRIES = 3;
const MAX_WAIT_S = 30;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryDelayMs(response, attempt) {
  const header = response.headers.get("Retry-After") || "";
  let seconds = Number(header);
  if (header === "" || !Number.isFinite(seconds)) {
    const at = Date.parse(header); // Retry-After may also be an HTTP date
    seconds = Number.isNaN(at) ? 2 ** (attempt + 1) : (at - Date.now()) / 1000;
  }
  seconds = Math.min(Math.max(seconds, 1), MAX_WAIT_S);
  return (seconds + Math.random() * seconds / 2) * 1000; // jitter: up to half as long again
}

async function sendVote(form, body, status) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(form.action, {
      method: "POST",
      body, // url-encoded: cheap to parse; the same choice on every try
      // The token is bound to this phone's voter cookie (the server's CSRF check for
      // votes sent with fetch); the form's own csrf_token is for posts without script.
      headers: { "X-Vote-Token": form.dataset.voteToken || "", Accept: "application/json" },
    });
    const answer = await response.json().catch(() => ({}));
    if (response.status === 503 && attempt < RETRIES) {
      status.textContent = form.dataset.busyText || answer.message || response.statusText;
      status.classList.remove("error");
      await sleep(retryDelayMs(response, attempt));
      continue;
    }
    status.textContent = answer.message || answer.error || response.statusText;
    status.classList.toggle("error", !response.ok);
    return response.ok;
  }
}

// One listener for every vote form, also those of polls added while the page is open.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("[data-vote-form]");
  if (!form) return;
  event.preventDefault();
  const status = form.querySelector("[data-vote-status]");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const ok = await sendVote(form, new URLSearchParams(new FormData(form)), status);
    const section = form.closest("[data-poll]");
    if (ok && section) {
      section.setAttribute("data-voted", ""); // hides "shown once you have answered"
      refreshNow(section); // results shown "after voting" appear now, not in a few seconds
    }
  } catch (_) {
    form.submit(); // offline hiccup: fall back to a normal post
    return;
  } finally {
    button.disabled = false;
  }
});

// Ranking: move an item up or down with its buttons (keyboard and screen reader too);
// the hidden inputs go with the items, so the form sends the order as shown.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-move]");
  if (!button) return;
  const item = button.closest("[data-item]");
  const list = item?.parentElement;
  if (!list) return;
  const up = button.dataset.move === "up";
  const sibling = up ? item.previousElementSibling : item.nextElementSibling;
  if (!sibling) return;
  list.insertBefore(item, up ? sibling : sibling.nextElementSibling);
  button.focus();
  const items = [...list.children];
  const fieldset = list.closest("[data-ranking]");
  const status = fieldset?.querySelector("[data-ranking-status]");
  if (status) {
    status.textContent = (fieldset.dataset.movedText || "")
      .replace("{item}", item.querySelector(".ranking-label")?.textContent.trim() || "")
      .replace("{n}", items.indexOf(item) + 1).replace("{total}", items.length);
  }
});

// Quiz: the seconds left, counted on the phone from the time the poll opened.
setInterval(() => {
  for (const timer of document.querySelectorAll("[data-deadline]")) {
    const left = Math.round(Number(timer.dataset.deadline) - Date.now() / 1000);
    timer.textContent = left > 0 ? timer.dataset.leftText.replace("{n}", left)
      : timer.dataset.overText;
    if (left <= 0) {
      // Time is up: the answer could no longer count, so it can no longer be sent.
      for (const el of timer.closest("form")?.querySelectorAll("input, button") || []) {
        el.disabled = true;
      }
    }
  }
}, 500);

function updateBars(section, snap) {
  const count = section.querySelector("[data-voters-count]");
  if (count) count.textContent = snap.voters;
  if (snap.hidden) {
    // Nothing to redraw once the server-rendered "hidden" block (no chart, table or list)
    // is showing; otherwise the results were just hidden and must go.
    return !section.querySelector("[data-results] :is(svg, table, ul, ol)");
  }
  if (!snap.options) return false;
  const top = Math.max(1, ...snap.options.map((o) => o.count));
  let updated = true;
  for (const option of snap.options) {
    const bar = section.querySelector(`g.bar[data-option="${option.id}"]`);
    if (!bar) { updated = false; continue; }
    const rect = bar.querySelector("rect");
    const value = bar.querySelector(".bar-value");
    const full = Number(section.querySelector("svg.chart")?.dataset.barSpace || 330);
    const width = Math.round(full * option.count / top);
    rect.setAttribute("width", width);
    value.setAttribute("x", Number(rect.getAttribute("x")) + width + 8);
    value.textContent = `${option.count} (${option.percent} %)`;
  }
  const rows = section.querySelectorAll("[data-results] tbody tr");
  snap.options.forEach((option, i) => {
    const cells = rows[i]?.querySelectorAll("td");
    if (cells && cells.length === 3) {
      cells[1].textContent = option.count;
      cells[2].textContent = `${option.percent} %`;
      const bar = cells[0].querySelector("progress");
      if (bar) bar.value = option.percent;
    }
  });
  return updated;
}

// Results the page cannot redraw itself (word clouds, Q&A, results shown or hidden) come
// from the join page, fetched again at most every few seconds for all such polls at once.
const REFRESH_MS = 4000;
const stale = new Set();
let refreshTimer = null;
let lastRefresh = 0;

async function freshPage() {
  const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
  if (!response.ok || response.redirected) return null;
  return new DOMParser().parseFromString(await response.text(), "text/html");
}

async function refreshStale() {
  refreshTimer = null;
  lastRefresh = Date.now();
  const sections = [...stale];
  stale.clear();
  const page = await freshPage().catch(() => null);
  if (!page) return;
  for (const section of sections) {
    const fresh = page.getElementById(section.id)?.querySelector("[data-results]");
    const current = section.querySelector("[data-results]");
    if (fresh && current) current.replaceWith(document.importNode(fresh, true));
  }
}

// This phone's own answer: its results are fetched at once (one page per answer), not
// after the few seconds that pace refreshes caused by other people's votes.
function refreshNow(section) {
  stale.add(section);
  clearTimeout(refreshTimer);
  refreshStale();
}

function markStale(section) {
  stale.add(section);
  if (refreshTimer) return;
  const wait = Math.max(0, lastRefresh + REFRESH_MS - Date.now());
  refreshTimer = setTimeout(refreshStale, wait);
}

// Text the participant has typed but not sent yet (removing its poll would lose it).
const unsentText = (root) => [...root.querySelectorAll("textarea, input:not([type])")]
  .some((field) => field.value.trim() !== "");

// One stream for the whole page, whatever number of polls is open: "state" names the
// open polls (the page adds and removes them), "snapshot" carries one poll's results.
const container = document.querySelector("[data-polls]");
const empty = document.querySelector("[data-polls-empty]");
const seen = new Map(); // poll id -> the last snapshot, as sent

async function showPolls(ids) {
  const wanted = new Set(ids.map(String));
  for (const section of container.querySelectorAll("[data-poll]")) {
    if (wanted.has(section.dataset.poll)) continue;
    if (unsentText(section)) { // keep what was typed; a late answer is refused clearly
      section.querySelector("button[type=submit]")?.setAttribute("disabled", "");
      continue;
    }
    section.remove();
    seen.delete(section.dataset.poll);
  }
  const missing = ids.filter((id) => !document.getElementById(`poll-${id}`));
  if (missing.length) {
    const page = await freshPage().catch(() => null);
    for (const id of missing) {
      const fresh = page?.getElementById(`poll-${id}`);
      if (!fresh || document.getElementById(`poll-${id}`)) continue;
      container.append(document.importNode(fresh, true));
    }
    // In the order of the state (the organizer's order).
    for (const id of ids) {
      const section = document.getElementById(`poll-${id}`);
      if (section) container.append(section);
    }
  }
  if (empty) empty.hidden = container.querySelector("[data-poll]") !== null;
}

function onSnapshot(data) {
  const snap = JSON.parse(data);
  const key = String(snap.poll);
  if (seen.get(key) === data) return;
  const first = !seen.has(key);
  seen.set(key, data);
  const section = document.getElementById(`poll-${key}`);
  if (!section || snap.status !== "open") return; // the state message removes it
  if (snap.after_vote && !section.hasAttribute("data-voted")) {
    const count = section.querySelector("[data-voters-count]");
    if (count) count.textContent = snap.voters;
    return;
  }
  if (!updateBars(section, snap) && !first) markStale(section);
}

if (container) {
  let source = null;
  const connect = () => {
    if (source) source.close();
    source = new EventSource(container.dataset.streamUrl);
    source.addEventListener("state", (event) => showPolls(JSON.parse(event.data).polls));
    source.addEventListener("snapshot", (event) => onSnapshot(event.data));
  };
  connect();
  // Phones drop connections while asleep: reconnect when the page is shown again.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) connect(); });
  // Leaving the page: close the stream at once (the browser would, a moment later).
  window.addEventListener("pagehide", () => source?.close());
}
