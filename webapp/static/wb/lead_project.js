// The lead's project page: while an import is pending or running, poll the small status view and
// update the batch rows and the progress counts in place, so the lead never has to reload.
(function () {
  "use strict";
  const table = document.getElementById("batches");
  if (!table) return;
  const POLL_MS = 1500;
  const $ = (id) => document.getElementById(id);
  const unfinished = () => table.querySelector('tr[data-status="pending"], tr[data-status="running"]') !== null;

  function setText(row, selector, value) {
    const cell = row.querySelector(selector);
    if (cell) cell.textContent = String(value);
  }

  function showBatch(batch) {
    const row = table.querySelector(`tr[data-batch="${batch.id}"]`);
    if (!row || row.dataset.status === batch.status) return;
    row.dataset.status = batch.status;
    const state = row.querySelector(".state");
    state.textContent = batch.status;
    state.className = "state state-" + batch.status;
    setText(row, ".created", batch.created);
    setText(row, ".existing", batch.already_present);
    setText(row, ".error", batch.error);
    const rejected = row.querySelector(".rejected");
    if (rejected && batch.rejected) {
      const link = document.createElement("a");
      link.href = batch.url + "#rejects"; link.textContent = String(batch.rejected);
      rejected.replaceChildren(link);
    } else if (rejected) rejected.textContent = "0";
    if (batch.status === "done") $("import-news").textContent = `${batch.file_name}: imported, ${batch.created} new.`;
    if (batch.status === "failed") $("import-news").textContent = `${batch.file_name}: import failed. ${batch.error}`;
  }

  function showProgress(p) {
    const bar = $("progress-bar");
    bar.max = Math.max(p.total, 1);
    bar.value = p.complete;
    bar.textContent = p.percent + "%";
    const counts = {"complete-count": p.complete, "total-count": p.total, "complete-percent": p.percent,
                    "started-count": p.started, "today-count": p.judgments_today, "lease-count": p.live_leases};
    for (const [id, value] of Object.entries(counts)) if ($(id)) $(id).textContent = String(value);
  }

  async function poll() {
    try {
      const r = await fetch(table.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (r.ok) {
        const data = await r.json();
        data.batches.forEach(showBatch);
        showProgress(data.progress);
      }
    } catch (e) { /* a network blip: try again on the next tick */ }
    if (unfinished()) setTimeout(poll, POLL_MS);
  }

  if (unfinished()) setTimeout(poll, POLL_MS);
})();
