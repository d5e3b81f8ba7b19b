// Check-in: scan tickets with the phone camera where the browser has BarcodeDetector,
// and keep the checked-in counter fresh. Without JavaScript the typed-code form works.

const counter = document.querySelector("[data-checkin-count][data-count-url]");
if (counter) {
  const refresh = async () => {
    try {
      const response = await fetch(counter.dataset.countUrl, { headers: { Accept: "application/json" } });
      if (response.ok) counter.textContent = (await response.json()).text;
    } catch (_) { /* offline for a moment: keep the last figure */ }
  };
  setInterval(refresh, 5000);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
}

const scanner = document.querySelector("[data-scanner]");
const codeForm = document.querySelector("[data-code-form]");

function checkInByPost(code) {
  // A real form POST with the page's CSRF token: the server checks in and shows the result.
  const form = document.createElement("form");
  form.method = "post";
  form.action = `/t/${encodeURIComponent(code)}/checkin`;
  const token = codeForm.querySelector("input[name=csrf_token]").cloneNode();
  form.append(token);
  document.body.append(form);
  form.submit();
}

function ticketCode(text) {
  try {
    const url = new URL(text, window.location.origin);
    const match = url.pathname.match(/\/t\/([A-Za-z0-9_-]+)\/?$/);
    return match ? match[1] : null;
  } catch (_) {
    return null;
  }
}

if (scanner && "BarcodeDetector" in window && navigator.mediaDevices?.getUserMedia) {
  scanner.hidden = false;
  const video = scanner.querySelector("[data-scanner-video]");
  const status = scanner.querySelector("[data-scanner-status]");
  const start = scanner.querySelector("[data-scanner-start]");
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  let stream = null;

  const stop = () => {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
  };

  const scan = async () => {
    if (!stream) return;
    try {
      const codes = await detector.detect(video);
      for (const found of codes) {
        const code = ticketCode(found.rawValue);
        if (code) {
          stop();
          status.textContent = "…";
          checkInByPost(code);
          return;
        }
      }
    } catch (_) { /* frame not ready yet */ }
    setTimeout(scan, 200);
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
