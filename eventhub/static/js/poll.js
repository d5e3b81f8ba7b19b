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
    return;
  }
}

for (const form of document.querySelectorAll("[data-vote-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector("[data-vote-status]");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await sendVote(form, new URLSearchParams(new FormData(form)), status);
    } catch (_) {
      form.submit(); // offline hiccup: fall back to a normal post
      return;
    } finally {
      button.disabled = false;
    }
  });
}

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

function markStale(section) {
  stale.add(section);
  if (refreshTimer) return;
  const wait = Math.max(0, lastRefresh + REFRESH_MS - Date.now());
  refreshTimer = setTimeout(refreshStale, wait);
}

// Text the participant has typed but not sent yet (a reload would throw it away).
const unsentText = () => [...document.querySelectorAll("textarea, input:not([type])")]
  .some((field) => field.value.trim() !== "");

for (const section of document.querySelectorAll("[data-poll]")) {
  let source = null;
  let lastReload = 0;
  let seen = null; // the last snapshot, as sent; the first one matches the page as served
  const connect = () => {
    if (source) source.close();
    source = new EventSource(section.dataset.streamUrl);
    source.addEventListener("snapshot", (event) => {
      if (event.data === seen) return;
      const first = seen === null;
      seen = event.data;
      const snap = JSON.parse(event.data);
      if (snap.status !== "open") {
        // The poll closed: show the page without it, unless that loses typed text (a
        // vote sent later is refused with a clear message).
        if (Date.now() - lastReload > 2000 && !unsentText()) {
          lastReload = Date.now();
          window.location.reload();
        }
        return;
      }
      if (!updateBars(section, snap) && !first) markStale(section);
    });
  };
  connect();
  // Phones drop connections while asleep: reconnect when the page is shown again.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) connect(); });
}

// No open poll yet: the page says it updates itself when one opens, so look now and then.
if (!document.querySelector("[data-poll]")) {
  setInterval(async () => {
    if (document.hidden) return;
    const page = await freshPage().catch(() => null);
    if (page?.querySelector("[data-poll]")) window.location.reload();
  }, 15000);
}
