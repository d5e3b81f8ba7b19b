// What the door app shows: the result of a scan, warnings after a sync, name matches.
// Built with DOM methods (textContent), so no name from the list is ever read as HTML.

const CLOCK = new Intl.DateTimeFormat("da-DK", {
  timeZone: "Europe/Copenhagen", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});

// 09:12 in Copenhagen, whatever the device's own time zone.
export function hhmm(ms) {
  const parts = Object.fromEntries(CLOCK.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.hour}:${parts.minute}`;
}

export function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export function alreadyText(T, person, template = "already") {
  const time = hhmm(person.c);
  return person.d
    ? fill(T[template], { time, device: person.d, name: person.n })
    : fill(T[`${template}_web`], { time, name: person.n });
}

// The card for one scan: kind is "ok", "warn" or "error".
export function resultCard(T, person, kind, message, undo) {
  const status = T.statuses[person.s] || person.s;
  const notice = el("p", {
    class: `notice notice-${kind === "ok" ? "ok" : kind}`, role: kind === "ok" ? "status" : "alert",
    text: message,
  });
  return el("article", { class: `checkin-card door-card is-${kind}` },
    el("h2", { text: person.n }),
    person.o ? el("p", { class: "lead", text: person.o }) : null,
    el("p", {}, el("span", { class: `badge badge-${person.s}`, text: status })),
    notice,
    undo ? el("button", { type: "button", class: "button secondary", "data-door-undo": "",
      text: T.undo }) : null);
}

export function unknownCard(T) {
  return el("article", { class: "checkin-card door-card is-error" },
    el("p", { class: "notice notice-error", role: "alert", text: T.unknown }));
}

export function noticeCard(text, kind = "info") {
  return el("p", { class: `notice notice-${kind}`, role: "status", text });
}

export function warningItem(T, text, onDismiss) {
  const button = el("button", { type: "button", class: "button secondary small", text: T.dismiss });
  const item = el("li", { class: "notice notice-warn door-warning" }, el("span", { text }), " ", button);
  button.addEventListener("click", () => { item.remove(); onDismiss?.(); });
  return item;
}

// One line per match: name, organization, status, and a button when it can be checked in.
export function matchItem(T, person, onCheckIn) {
  const bits = [person.n, person.o, T.statuses[person.s] || person.s].filter(Boolean);
  if (person.c) bits.push(alreadyText(T, person));
  const item = el("li", { class: "door-match" }, el("span", { text: bits.join(" · ") }));
  if (person.s === "confirmed" && !person.c) {
    const button = el("button", { type: "button", class: "button", text: T.check_in,
      "aria-label": `${T.check_in}: ${person.n}` });
    button.addEventListener("click", () => onCheckIn(person));
    item.append(" ", button);
  }
  return item;
}
