// Presenter view: every snapshot from the stream swaps in the server-rendered results
// (SVG chart and table); keyboard shortcuts o/c/r/h open, close, reveal and hide.

const root = document.querySelector("[data-present]");
if (root) {
  const slot = root.querySelector("[data-results-slot]");
  let pending = null;
  let busy = false;

  const refresh = async () => {
    if (busy) { pending = true; return; }
    busy = true;
    try {
      const response = await fetch(root.dataset.fragmentUrl, { headers: { Accept: "text/html" } });
      // A lapsed session answers with the login page (after a redirect): keep the results.
      if (response.ok && !response.redirected) slot.innerHTML = await response.text();
    } finally {
      busy = false;
      if (pending) { pending = false; refresh(); }
    }
  };

  let source = null;
  const connect = () => {
    if (source) source.close();
    source = new EventSource(root.dataset.streamUrl);
    source.addEventListener("snapshot", refresh);
  };
  connect();
  document.addEventListener("visibilitychange", () => { if (!document.hidden) connect(); });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const form = document.querySelector(`form[data-shortcut="${event.key.toLowerCase()}"]`);
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
}
