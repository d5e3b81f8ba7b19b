// The exhibitors' badge scanner: the check-in's camera module reads the badge's
// "Scan mig" QR code (its /s/<token> URL) and the typed-code form is sent with it.
// A ticket's QR code (/t/…) is not read: a scanner never opens a ticket.

import { scanner } from "./checkin-camera.js";

export function badgeToken(text) {
  const match = /\/s\/([A-Za-z0-9_-]{16,})\/?$/.exec(String(text || "").trim());
  return match ? match[1] : "";
}

const form = document.querySelector("[data-badge-form]");
if (form) {
  const input = form.querySelector("input[name=code]");
  scanner(async (code) => {
    input.value = code;
    form.requestSubmit();
  }, form.dataset.unreadable || "", badgeToken);
}
