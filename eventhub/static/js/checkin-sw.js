// The door app's service worker (served by /manage/e/<slug>/checkin/sw.js, which puts
// VERSION, ASSETS and PAGE above this). It keeps the check-in page and the files it needs,
// so the page opens with no network at all:
//   the page  — from the network when it answers within a few seconds (and kept), else
//               the kept copy: a venue's Wi-Fi that hangs costs at most that wait;
//   its files — from the cache, which a new version of any of them replaces;
//   the rest  — (the list, sync) straight to the network: the page handles those.
/* global VERSION, ASSETS, PAGE */

const PREFIX = "eventhub-checkin:";
const CACHE = `${PREFIX}${PAGE}:${VERSION}`;
const NETWORK_WAIT_MS = 3000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // Past the browser's HTTP cache: the files must be the ones this version names.
    await cache.addAll(ASSETS.map((url) => new Request(url, { cache: "reload" })));
    const page = await fetch(PAGE, { credentials: "same-origin", redirect: "manual" });
    if (page.ok) await cache.put(PAGE, page);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith(`${PREFIX}${PAGE}:`) && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

async function keptPage() {
  const cache = await caches.open(CACHE);
  return (await cache.match(PAGE)) || new Response(
    "<!doctype html><meta charset=utf-8><title>Offline</title><p>Offline.</p>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function page(event) {
  const fromNetwork = fetch(event.request).then(async (response) => {
    if (response.ok && response.type === "basic") {
      const cache = await caches.open(CACHE);
      await cache.put(PAGE, response.clone());
    }
    return response;
  });
  event.waitUntil(fromNetwork.catch(() => null));
  const timeout = new Promise((resolve) => { setTimeout(() => resolve(null), NETWORK_WAIT_MS); });
  // No answer in time, or the server failing (its database down): the kept copy works.
  return Promise.race([fromNetwork.catch(() => null), timeout])
    .then((response) => (response && response.status < 500 ? response : keptPage()));
}

async function file(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreSearch: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === PAGE) {
    event.respondWith(page(event));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(file(request));
  }
});
