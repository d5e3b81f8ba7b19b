// "Markér alle viste": a header checkbox that ticks every row's box of the same name.
// Without JavaScript it stays hidden; "Alle, der matcher filteret" does the same job.
for (const all of document.querySelectorAll("input[data-select-all]")) {
  const name = all.dataset.selectAll;
  const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${name}"]`);
  all.hidden = false;
  all.addEventListener("change", () => {
    for (const box of boxes()) box.checked = all.checked;
  });
  document.addEventListener("change", (event) => {
    if (event.target.name !== name) return;
    const list = [...boxes()];
    all.checked = list.length > 0 && list.every((box) => box.checked);
    all.indeterminate = !all.checked && list.some((box) => box.checked);
  });
}
