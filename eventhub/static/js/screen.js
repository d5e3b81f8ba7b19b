// The room's screen: one stream (the event's open polls and what the remote chose);
// whenever the screen's state or the shown poll's results change, the server-rendered
// body is fetched again (at most one fetch at a time, the last change never lost).

const root = document.querySelector("[data-screen]");
if (root) {
  const slot = root.querySelector("[data-screen-body]");
  let busy = false;
  let again = false;
  let lastState = "";

  const refresh = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(root.dataset.bodyUrl, { headers: { Accept: "text/html" } });
      if (response.ok && !response.redirected) slot.innerHTML = await response.text();
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  };

  const shownPoll = () => slot.querySelector("[data-shown]")?.dataset.shown;
  let source = null;
  const connect = () => {
    if (source) source.close();
    source = new EventSource(root.dataset.streamUrl);
    source.addEventListener("state", (event) => {
      const state = JSON.parse(event.data);
      root.classList.toggle("theme-dark", state.screen.dark);
      root.classList.toggle("theme-light", !state.screen.dark);
      const screen = JSON.stringify(state.screen) + JSON.stringify(state.polls);
      if (screen !== lastState) {
        const first = lastState === "";
        lastState = screen;
        if (!first) refresh();
      }
    });
    source.addEventListener("snapshot", (event) => {
      const snap = JSON.parse(event.data);
      if (String(snap.poll) === shownPoll()) refresh();
    });
  };
  connect();
  document.addEventListener("visibilitychange", () => { if (!document.hidden) connect(); });

  setInterval(() => {
    for (const timer of slot.querySelectorAll("[data-deadline]")) {
      const left = Math.round(Number(timer.dataset.deadline) - Date.now() / 1000);
      timer.textContent = left > 0 ? timer.dataset.leftText.replace("{n}", left)
        : timer.dataset.overText;
    }
  }, 500);
}

// "f" or a double click puts the screen into full screen (nothing to click on it).
const whole = () => document.fullscreenElement ? document.exitFullscreen()
  : document.documentElement.requestFullscreen?.();
document.addEventListener("keydown", (event) => {
  if (event.key === "f" && !event.ctrlKey && !event.metaKey && !event.altKey) whole();
});
document.addEventListener("dblclick", whole);
