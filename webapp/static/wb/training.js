// Live training curves: poll the charts document (server-drawn SVG) until the run has finished.
(function () {
  "use strict";
  var root = document.getElementById("charts");
  if (!root || root.dataset.finished === "true") return;
  function poll() {
    fetch(root.dataset.chartsUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (doc) {
        if (doc) {
          root.querySelector("[data-chart='loss']").innerHTML = doc.loss;
          root.querySelector("[data-chart='accuracy']").innerHTML = doc.accuracy;
          if (doc.model_url) {
            var link = document.getElementById("model-link");
            link.querySelector("a").href = doc.model_url;
            link.querySelector("a").textContent = "The trained reward model: provenance, metrics, scoring";
            link.hidden = false;
          }
        }
        if (!doc || !doc.finished) { setTimeout(poll, 2000); } else { root.dataset.finished = "true"; }
      })
      .catch(function () { setTimeout(poll, 4000); });
  }
  poll();
})();
