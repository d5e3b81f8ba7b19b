// Phones: vote without leaving the page, and follow live results over Server-Sent Events.
// Without JavaScript the forms post normally and the page shows the results.

const csrf = () => document.querySelector("input[name=csrf_token]")?.value || "";

for (const form of document.querySelectorAll("[data-vote-form]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector("[data-vote-status]");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
      });
      const body = await response.json().catch(() => ({}));
      status.textContent = body.message || body.error || response.statusText;
      status.classList.toggle("error", !response.ok);
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
  if (snap.hidden || !snap.options) return false;
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

for (const section of document.querySelectorAll("[data-poll]")) {
  let source = null;
  let lastReload = 0;
  const connect = () => {
    if (source) source.close();
    source = new EventSource(section.dataset.streamUrl);
    source.addEventListener("snapshot", (event) => {
      const snap = JSON.parse(event.data);
      if (snap.status !== "open" && Date.now() - lastReload > 2000) {
        lastReload = Date.now();
        window.location.reload(); // the poll closed: show the final page
        return;
      }
      if (!updateBars(section, snap) && snap.results_visible && Date.now() - lastReload > 5000) {
        lastReload = Date.now();
        fetch(section.dataset.jsonUrl, { headers: { Accept: "application/json" } });
      }
    });
  };
  connect();
  // Phones drop connections while asleep: reconnect when the page is shown again.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) connect(); });
}
