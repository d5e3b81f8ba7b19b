// Signing out removes what the door app keeps in this browser. Check-ins still waiting
// are sent first; if some cannot be, the person is asked before they are lost. Each door
// device is signed out on the server, so nothing sent from it later is taken.
// (The sign-out response also carries Clear-Site-Data, for when this does not run.)

import { Door, doorSlugs, forgetAll, hasDoorData } from "./checkin-store.js";
import { Server } from "./checkin-sync.js";

async function sendWaiting(server, door, urls, device) {
  let queue = await door.all("queue");
  if (!queue.length) return 0;
  try {
    const answer = await server.post(urls.sync, {
      device: device.token, queued: 0, sent_at: Date.now(), check_ins: queue.slice(0, 500),
    });
    if (answer.ok) {
      const received = new Set(answer.body.results.map((r) => r.nonce));
      queue = queue.filter((e) => !received.has(e.nonce));
    }
  } catch (_) { /* offline: they stay counted as unsent */ }
  return queue.length;
}

async function beforeSignOut(csrf, question) {
  const devices = [];
  let unsent = 0;
  for (const slug of await doorSlugs()) {
    const door = await Door.open(slug);
    try {
      const urls = await door.meta("urls");
      const device = await door.meta("device");
      if (urls && device) {
        const server = new Server(urls, csrf);
        unsent += await sendWaiting(server, door, urls, device);
        devices.push({ server, urls, device });
      }
    } finally {
      door.close();
    }
  }
  if (unsent && !window.confirm(question.replace("{n}", unsent))) return false;
  for (const { server, urls, device } of devices) {
    try { await server.post(urls.signout, { device: device.token }); } catch (_) { /* offline */ }
  }
  await forgetAll();
  return true;
}

const selector = 'form[action$="/logout"], form[action$="/logout-everywhere"]';
// The question comes translated from the page (the sign-out form in the header).
const question = document.querySelector("[data-unsent]")?.dataset.unsent;

for (const form of question ? document.querySelectorAll(selector) : []) {
  form.addEventListener("submit", async (event) => {
    if (!hasDoorData() || form.dataset.doorCleared) return;
    event.preventDefault();
    const csrf = form.querySelector("input[name=csrf_token]")?.value || "";
    let go = true;
    try {
      go = await beforeSignOut(csrf, question);
    } catch (_) { /* the sign-out response's Clear-Site-Data still removes the data */ }
    if (!go) return;
    form.dataset.doorCleared = "1";
    form.submit();
  });
}
