// Live job progress: poll each unfinished job's small status document and update its row in place.
(function () {
  "use strict";
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + (s % 60) + " s";
  }
  function setText(root, name, text) {
    root.querySelectorAll("[data-field='" + name + "']").forEach(function (el) { el.textContent = text; });
  }
  function render(root, st) {
    var bar = root.querySelector("progress");
    if (bar) {
      if (st.progress.fraction === null) { bar.removeAttribute("value"); } else { bar.value = st.progress.fraction; }
    }
    setText(root, "state", st.state);
    setText(root, "done", st.progress.total ? st.progress.done + " / " + st.progress.total : String(st.progress.done));
    setText(root, "message", st.progress.message);
    setText(root, "elapsed", duration(st.elapsed_seconds));
    setText(root, "remaining", st.finished ? "—" : duration(st.remaining_seconds));
    setText(root, "error", st.error && st.state !== "succeeded" ? st.error : "");
    setText(root, "attempts", st.attempts + " of " + st.max_attempts);
    var list = root.querySelector("[data-field='artifacts']");
    if (list && st.artifacts.length && !list.children.length) {
      st.artifacts.forEach(function (a) {
        var li = document.createElement("li"), link = document.createElement("a");
        link.href = a.url; link.textContent = a.name;
        li.appendChild(link);
        li.appendChild(document.createTextNode(" · " + a.size_bytes + " bytes" + (a.rows !== null ? " · " + a.rows + " rows" : "") + " · sha256 " + a.sha256));
        list.appendChild(li);
      });
    }
    root.querySelectorAll("[data-while-unfinished]").forEach(function (el) { el.hidden = st.finished; });
    root.dataset.finished = st.finished ? "true" : "false";
  }
  function poll(root) {
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) {
        if (st) render(root, st);
        if (!st || !st.finished) setTimeout(function () { poll(root); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(root); }, 3000); });
  }
  document.querySelectorAll("[data-status-url]").forEach(function (root) {
    if (root.dataset.finished !== "true") poll(root);
  });
})();
