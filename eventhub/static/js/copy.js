// Copy buttons: every <input data-copy> gets a "Kopiér" button after it that copies the
// input's value and announces the result in a polite status line. Without JavaScript
// the read-only input can still be selected and copied by hand.
//
//   <input id="feed-url" readonly value="…" data-copy
//          data-copy-label="Kopiér" data-copied-label="Kopieret">

function legacyCopy(input) {
  input.focus();
  input.select();
  input.setSelectionRange(0, input.value.length);
  try {
    return document.execCommand("copy");
  } catch (_) {
    return false;
  }
}

async function copyValue(input) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      return true;
    } catch (_) { /* permission refused: fall back below */ }
  }
  return legacyCopy(input);
}

function statusFor(input, after) {
  const parent = input.parentElement;
  let status = parent ? parent.querySelector(":scope > .copy-status[role=status]") : null;
  if (!status) {
    status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    after.after(status);
  }
  return status;
}

function enhance(input) {
  if (input.dataset.copyReady) return;
  input.dataset.copyReady = "1";

  const button = document.createElement("button");
  button.type = "button";
  button.className = "button secondary";
  button.textContent = input.dataset.copyLabel || "Kopiér";
  if (input.id) button.setAttribute("aria-controls", input.id);
  input.after(button);
  const status = statusFor(input, button);

  let timer = null;
  button.addEventListener("click", async () => {
    const copied = await copyValue(input);
    // Clear first so screen readers announce the same message again on a second press.
    status.textContent = "";
    clearTimeout(timer);
    requestAnimationFrame(() => {
      if (copied) {
        status.textContent = input.dataset.copiedLabel || "Kopieret";
      } else {
        input.focus();
        input.select();
        status.textContent = input.dataset.copyFailedLabel || "Markér linket og kopiér det selv";
      }
      timer = setTimeout(() => { status.textContent = ""; }, 8000);
    });
  });
}

document.querySelectorAll("input[data-copy]").forEach(enhance);
