// Scanning QR codes with the phone's camera, where the browser has BarcodeDetector. Each
// code that ``read`` accepts (by default a ticket's /t/<code> URL; the badge scanner
// passes its own reader for /s/<token>) is handed to onCode once while it is held up.

import { ticketCode } from "./checkin-sync.js";

export function scanner(onCode, unreadable = "", read = ticketCode) {
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
        const code = read(found.rawValue);
        if (!code) status.textContent = unreadable;
        if (code && code !== last) {
          last = code;
          setTimeout(() => { last = ""; }, 3000); // the same code held up: once
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
