// What the door app keeps in this browser: one IndexedDB database per event, holding
//   people  — name, organization, status, checked-in time and device, and a hash of the
//             ticket code (never the code, the email address or the answers);
//   queue   — check-ins made here and not yet received by the server (nonce, time);
//   mine    — check-ins made here and received, to notice when an earlier scan on another
//             device takes their place;
//   meta    — this device's id and letters, the pull cursor, when to drop the list.
// Everything is removed on sign-out (signout.js, and the sign-out response's
// Clear-Site-Data header) and once the event is over.

export const PREFIX = "eventhub-checkin:";
export const MARKER = "eventhub-checkin"; // in localStorage: this browser holds door data
const STORES = ["people", "queue", "mine", "meta"];

const request = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

const finished = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error);
});

export class Door {
  constructor(db) {
    this.db = db;
    // Another tab deleting the data (sign-out) must not wait for this one.
    db.onversionchange = () => db.close();
  }

  static async open(slug) {
    const opening = indexedDB.open(PREFIX + slug, 1);
    opening.onupgradeneeded = () => {
      const db = opening.result;
      db.createObjectStore("people", { keyPath: "h" });
      db.createObjectStore("queue", { keyPath: "nonce" });
      db.createObjectStore("mine", { keyPath: "h" });
      db.createObjectStore("meta");
    };
    try { localStorage.setItem(MARKER, "1"); } catch (_) { /* private mode: fine */ }
    return new Door(await request(opening));
  }

  all(store) {
    return request(this.db.transaction(store).objectStore(store).getAll());
  }

  meta(key) {
    return request(this.db.transaction("meta").objectStore("meta").get(key));
  }

  // One transaction: {clear: [store], people: [...], queue: [...], unqueue: [nonce],
  // mine: [...], unmine: [hash], meta: {key: value}}.
  write(changes) {
    const tx = this.db.transaction(STORES, "readwrite");
    const store = (name) => tx.objectStore(name);
    for (const name of changes.clear || []) store(name).clear();
    for (const person of changes.people || []) store("people").put(person);
    for (const entry of changes.queue || []) store("queue").put(entry);
    for (const nonce of changes.unqueue || []) store("queue").delete(nonce);
    for (const entry of changes.mine || []) store("mine").put(entry);
    for (const hash of changes.unmine || []) store("mine").delete(hash);
    for (const [key, value] of Object.entries(changes.meta || {})) store("meta").put(value, key);
    return finished(tx);
  }

  close() {
    this.db.close();
  }
}

export function hasDoorData() {
  try { return localStorage.getItem(MARKER) !== null; } catch (_) { return true; }
}

// The events this browser keeps door data for.
export async function doorSlugs() {
  if (!indexedDB.databases) return [];
  const found = await indexedDB.databases();
  return found.map((d) => d.name || "").filter((n) => n.startsWith(PREFIX))
    .map((n) => n.slice(PREFIX.length));
}

async function deleteDatabase(slug) {
  const deleting = indexedDB.deleteDatabase(PREFIX + slug);
  deleting.onblocked = () => { /* the open tabs close their connection (onversionchange) */ };
  await request(deleting);
}

// Drop one event's data: its database, the service worker's cache and the worker itself.
export async function forget(slug, scope) {
  await deleteDatabase(slug);
  if (window.caches) {
    for (const key of await caches.keys()) {
      if (key.startsWith(`${PREFIX}${scope}:`)) await caches.delete(key);
    }
  }
  if (navigator.serviceWorker) {
    for (const reg of await navigator.serviceWorker.getRegistrations()) {
      if (new URL(reg.scope).pathname === scope) await reg.unregister();
    }
  }
}

// Drop everything the door app keeps in this browser (on sign-out).
export async function forgetAll() {
  for (const slug of await doorSlugs()) await deleteDatabase(slug);
  if (window.caches) {
    for (const key of await caches.keys()) {
      if (key.startsWith(PREFIX)) await caches.delete(key);
    }
  }
  if (navigator.serviceWorker) {
    for (const reg of await navigator.serviceWorker.getRegistrations()) {
      if (/\/checkin\/?$/.test(new URL(reg.scope).pathname)) await reg.unregister();
    }
  }
  try { localStorage.removeItem(MARKER); } catch (_) { /* nothing to remove */ }
}
