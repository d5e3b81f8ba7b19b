// The door app's calls to the server: JSON both ways, the session's CSRF token in a
// header, a time limit (a venue's Wi-Fi may hang rather than fail), and one retry with a
// fresh token when the page's token has gone stale.

const TIME_LIMIT_MS = 8000;

export class Offline extends Error {}

export class Server {
  constructor(urls, csrf) {
    this.urls = urls;
    this.csrf = csrf;
  }

  async call(url, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIME_LIMIT_MS);
    const headers = { Accept: "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = this.csrf;
    }
    let response;
    try {
      response = await fetch(url, {
        method: body === undefined ? "GET" : "POST",
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
        redirect: "error",
        signal: controller.signal,
      });
    } catch (_) {
      throw new Offline();
    } finally {
      clearTimeout(timer);
    }
    const data = await response.json().catch(() => ({}));
    return { status: response.status, ok: response.ok, body: data };
  }

  get(url) {
    return this.call(url);
  }

  async post(url, body) {
    let answer = await this.call(url, body);
    if (answer.status === 400 && await this.freshToken()) answer = await this.call(url, body);
    return answer;
  }

  // A page opened from the offline copy may carry an older session's token.
  async freshToken() {
    const answer = await this.get(this.urls.token).catch(() => null);
    if (!answer || !answer.ok || !answer.body.csrf || answer.body.csrf === this.csrf) return false;
    this.csrf = answer.body.csrf;
    return true;
  }
}

// 128 bits of the code's SHA-256, base64url: what the list holds instead of the code.
export async function ticketHash(code) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(code));
  const bytes = new Uint8Array(digest).slice(0, 16);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

// A scanned ticket URL (…/t/<code>) or a typed code; null for anything else (a name).
export function ticketCode(text) {
  const typed = (text || "").trim();
  const fromUrl = typed.match(/\/t\/([A-Za-z0-9_-]+)\/?$/);
  if (fromUrl) return fromUrl[1];
  return /^[A-Za-z0-9_-]{20,64}$/.test(typed) ? typed : null;
}
