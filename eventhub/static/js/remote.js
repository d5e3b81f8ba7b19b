// The remote: the arrow keys step through the polls (next / previous), as a clicker does.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, button, a, [contenteditable]")) return;
  const form = document.querySelector(`form[data-shortcut="${event.key}"]`);
  if (form) {
    event.preventDefault();
    form.requestSubmit();
  }
});

// Questions and answers waiting for the moderator arrive while the remote is open: on
// each snapshot of the poll on the screen, the queue is fetched again and swapped in
// (not while a control in it has the focus, so a press is never lost).
const remote = document.querySelector("[data-remote]");
if (remote && remote.dataset.currentPoll) {
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
      if (!response.ok || response.redirected) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const live of document.querySelectorAll("[data-live]")) {
        const fresh = page.getElementById(live.id);
        if (fresh && !live.contains(document.activeElement)
            && fresh.innerHTML !== live.innerHTML) {
          live.replaceWith(document.importNode(fresh, true));
        }
      }
    } finally {
      busy = false;
    }
  };
  const source = new EventSource(remote.dataset.streamUrl);
  source.addEventListener("snapshot", (event) => {
    if (String(JSON.parse(event.data).poll) === remote.dataset.currentPoll) refresh();
  });
}
