// The remote: the arrow keys step through the polls (next / previous), as a clicker does.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest("input, textarea, select, button, a, [contenteditable]")) return;
  const form = document.querySelector(`form[data-shortcut="${event.key}"]`);
  if (form) {
    event.preventDefault();
    form.requestSubmit();
  }
});
