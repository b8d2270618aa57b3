// "Select all" checkbox for the re-queue table.
(function () {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", () => {
    document.querySelectorAll('input[name="comparison"]').forEach((box) => { box.checked = all.checked; });
  });
})();
