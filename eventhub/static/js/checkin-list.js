// The check-in list as the device knows it, and what the server's answers do to it. No
// DOM and no network here: each change returns the people it touched (to store) and the
// warnings to show ({text, person}).

import { alreadyText, fill } from "./checkin-view.js";

const BY_NAME = new Intl.Collator("da");

function fold(text) {
  return (text || "").toLocaleLowerCase("da").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
}

// A row of list.json or of a pull: [hash, name, organization index, status, checked in
// (ms) or null, device letters or ""].
function row(r, orgs) {
  return { h: r[0], n: r[1], o: r[2] >= 0 ? orgs[r[2]] : "", s: r[3], c: r[4], d: r[5] };
}

export class DoorList {
  constructor(texts) {
    this.T = texts;
    this.people = new Map(); // ticket hash → {h, n, o, s, c, d}
    this.mine = new Map(); // ticket hash → {h, nonce, at, warned}: received check-ins made here
    this.queue = []; // [{nonce, ticket, at, offline}]: made here, not yet received
    this.letters = ""; // this device's
    this.searchKeys = new WeakMap();
  }

  load(people, mine, queue) {
    for (const p of people) this.people.set(p.h, p);
    for (const m of mine) this.mine.set(m.h, m);
    this.queue = queue.sort((a, b) => a.at - b.at);
  }

  counts() {
    let expected = 0;
    let inside = 0;
    for (const p of this.people.values()) {
      if (p.s !== "confirmed") continue;
      expected += 1;
      if (p.c) inside += 1;
    }
    return { inside, expected };
  }

  // A freshly downloaded list; check-ins made here and not yet sent stay on it.
  replace(body) {
    const fresh = body.people.map((r) => row(r, body.orgs));
    const waiting = new Map(this.queue.map((e) => [e.ticket, e]));
    for (const p of fresh) {
      const entry = waiting.get(p.h);
      if (entry && !p.c) Object.assign(p, { c: entry.at, d: this.letters });
    }
    this.people.clear();
    for (const p of fresh) this.people.set(p.h, p);
    return fresh;
  }

  checkIn(person, offline) {
    const entry = { nonce: crypto.randomUUID(), ticket: person.h, at: Date.now(), offline };
    Object.assign(person, { c: entry.at, d: this.letters });
    this.queue.push(entry);
    return entry;
  }

  // The server's answer to one sent check-in.
  result(result, entry, changed, warnings) {
    const person = this.people.get(result.ticket);
    if (!person) return;
    const T = this.T;
    if (result.outcome === "not_confirmed") {
      Object.assign(person, { s: result.status, c: null, d: "" });
      const status = T.statuses[result.status] || result.status;
      warnings.push({ text: fill(T.warn_not_confirmed, { name: person.n, status }), person });
    } else if (result.outcome === "undone") {
      Object.assign(person, { c: null, d: "" });
    } else {
      Object.assign(person, { c: result.at, d: result.device });
      const duplicate = result.outcome === "duplicate";
      if (duplicate) warnings.push({ text: alreadyText(T, person, "warn_duplicate"), person });
      this.mine.set(person.h, {
        h: person.h, nonce: result.nonce, at: entry ? entry.at : result.at, warned: duplicate,
      });
    }
    changed.add(person);
  }

  // A sync went through: answers to what was sent, then what changed elsewhere (an
  // earlier scan on another device of a ticket checked in here warns once).
  synced(body, batch) {
    const changed = new Set();
    const warnings = [];
    const sent = new Map(batch.map((e) => [e.nonce, e]));
    for (const result of body.results) this.result(result, sent.get(result.nonce), changed, warnings);
    const received = new Set(body.results.map((r) => r.nonce));
    this.queue = this.queue.filter((e) => !received.has(e.nonce));
    if (body.changes) this.changes(body.changes, changed, warnings);
    const mine = [...changed].map((p) => this.mine.get(p.h)).filter(Boolean);
    return { changed: [...changed], received: [...received], mine, warnings };
  }

  changes(changes, changed, warnings) {
    const waiting = new Map(this.queue.map((e) => [e.ticket, e]));
    for (const r of changes.people) {
      const fresh = row(r, changes.orgs);
      const entry = waiting.get(fresh.h);
      if (entry && (!fresh.c || fresh.c > entry.at)) Object.assign(fresh, { c: entry.at, d: this.letters });
      const own = this.mine.get(fresh.h);
      if (own && !own.warned && fresh.c && fresh.d !== this.letters) {
        own.warned = true;
        warnings.push({ text: alreadyText(this.T, fresh, "warn_duplicate"), person: fresh });
      }
      // The same object stays in the map: a card or a match list on screen may hold it.
      const person = this.people.get(fresh.h);
      if (person) Object.assign(person, fresh);
      else this.people.set(fresh.h, fresh);
      changed.add(person || fresh);
    }
  }

  // A batch refused whole: the refused check-ins are put aside (with why).
  refused(items) {
    const changed = [];
    const warnings = [];
    for (const item of items) {
      const person = this.people.get(item.ticket);
      const entry = this.queue.find((e) => e.nonce === item.nonce);
      if (person && entry && person.c === entry.at) Object.assign(person, { c: null, d: "" });
      if (person) changed.push(person);
      warnings.push({
        text: fill(this.T.warn_refused, { name: person ? person.n : "?", reason: item.reason }), person,
      });
    }
    const gone = new Set(items.map((r) => r.nonce));
    this.queue = this.queue.filter((e) => !gone.has(e.nonce));
    return { changed, gone: [...gone], warnings };
  }

  // Take a check-in made here back: {queued: true} when it had not been sent yet.
  undone(person, nonce) {
    const queued = this.queue.some((e) => e.nonce === nonce);
    this.queue = this.queue.filter((e) => e.nonce !== nonce);
    this.mine.delete(person.h);
    Object.assign(person, { c: null, d: "" });
    return { queued };
  }

  // Name and organization, folded once per person (lower case, no accents).
  searchKey(person) {
    const known = this.searchKeys.get(person);
    if (known && known.n === person.n && known.o === person.o) return known.key;
    const key = `${fold(person.n)}\n${fold(person.o)}`;
    this.searchKeys.set(person, { n: person.n, o: person.o, key });
    return key;
  }

  // Fold the names while nobody waits, so the first search is as quick as the others.
  prepareSearch() {
    const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 200));
    idle(() => { for (const p of this.people.values()) this.searchKey(p); });
  }

  search(text, limit = 20) {
    const wanted = fold(text.trim());
    const found = [];
    for (const p of this.people.values()) {
      if (this.searchKey(p).includes(wanted)) found.push(p);
    }
    return found.sort((a, b) => BY_NAME.compare(a.n, b.n)).slice(0, limit);
  }
}
