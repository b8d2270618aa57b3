// The guideline editor: re-render the preview shortly after the lead stops typing.
// The server renders and sanitizes the Markdown (the renderer raters see); only that HTML is put into innerHTML.
(function () {
  "use strict";
  const form = document.getElementById("guideline-form");
  if (!form) return;
  const source = document.getElementById("body_md");
  const preview = document.getElementById("preview");
  const status = document.getElementById("preview-status");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const DEBOUNCE_MS = 300;
  let timer = null;
  let sent = 0;      // number of the latest request
  let shown = 0;     // number of the request whose HTML is on screen: older answers arriving late are dropped
  let unsaved = false;

  function failure(response) {
    return response.json().catch(() => ({})).then((body) => {
      throw new Error(body.detail || "HTTP " + response.status);
    });
  }

  function refresh() {
    const seq = ++sent;
    status.textContent = "updating…";
    fetch(form.dataset.previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": csrf, "Accept": "application/json"},
      body: new URLSearchParams({body_md: source.value}),
    })
      .then((response) => (response.ok ? response.json() : failure(response)))
      .then((data) => {
        if (seq <= shown) return;
        shown = seq;
        preview.innerHTML = data.html;
        if (seq === sent) status.textContent = "";
      })
      .catch((error) => {
        if (seq === sent) status.textContent = "preview unavailable: " + error.message;
      });
  }

  source.addEventListener("input", () => {
    unsaved = true;
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  });
  form.addEventListener("submit", () => { unsaved = false; });
  window.addEventListener("beforeunload", (event) => {
    if (unsaved) event.preventDefault();
  });
})();
