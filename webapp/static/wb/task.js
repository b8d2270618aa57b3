// The rater's task page: fetch a lease, render it, submit from the keyboard, repeat.
// Response HTML arrives sanitized by the server (nh3); plain text is never put into innerHTML.
(function () {
  "use strict";
  const root = document.getElementById("task-root");
  const slug = root.dataset.slug;
  const scale = JSON.parse(document.getElementById("scale-data").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const form = $("judge-form");
  let current = null;       // {assignment, key, shownAt, activeMs, visibleSince}
  let busy = false;

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function api(path, body, headers) {
    return fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: Object.assign({"Content-Type": "application/json", "X-CSRFToken": csrf}, headers || {}),
      body: JSON.stringify(body || {}),
    });
  }

  // The chosen answer is shown on the page before it is sent: #task[data-choice] outlines the chosen
  // response (CSS), and the checked option's label is highlighted.
  function showChoice() {
    const choice = form.querySelector('input[name="choice"]:checked');
    $("task").dataset.choice = choice ? choice.value : "";
  }

  // Counts in the page head: judged today / in total, and what is left for this rater. Refreshed after
  // each task from a small JSON view; a failure only leaves the counts as they were.
  async function refreshProgress() {
    try {
      const r = await fetch(root.dataset.progressUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (!r.ok) return;
      const p = await r.json();
      $("done-today").textContent = String(p.today);
      $("done-count").textContent = String(p.total);
      $("remaining").textContent = p.remaining_text;
    } catch (e) { /* offline for a moment: the next task refreshes them */ }
  }

  // Count on the page at once; the server's figures follow. "1000+" (a capped count) stays as it is.
  function bump(id, by) {
    const n = Number($(id).textContent);
    if (Number.isInteger(n)) $(id).textContent = String(Math.max(0, n + by));
  }

  function setStatus(text) { $("status").textContent = text; $("status").hidden = !text; }
  function setError(text) { $("form-error").textContent = text || ""; }

  // Active time: only while the page is visible.
  function activeMs() {
    if (!current) return null;
    let ms = current.activeMs;
    if (current.visibleSince !== null) ms += performance.now() - current.visibleSince;
    return Math.round(ms);
  }
  document.addEventListener("visibilitychange", () => {
    if (!current) return;
    if (document.hidden && current.visibleSince !== null) {
      current.activeMs += performance.now() - current.visibleSince; current.visibleSince = null;
    } else if (!document.hidden && current.visibleSince === null) {
      current.visibleSince = performance.now();
    }
  });

  function renderStrengths() {
    const box = $("strengths");
    box.replaceChildren();
    $("strength-set").hidden = scale.strengths.length === 0;
    scale.strengths.forEach((s) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio"; input.name = "strength"; input.value = String(s.value);
      label.append(input, " " + s.label + " ");
      const k = document.createElement("span"); k.className = "kbd"; k.textContent = String(s.value);
      label.append(k); box.append(label);
    });
  }

  function renderTask(a) {
    const prompt = $("prompt");
    prompt.replaceChildren();
    a.prompt.messages.forEach((m) => {
      const turn = document.createElement("div");
      turn.className = "turn " + m.role;
      const who = document.createElement("div"); who.className = "role"; who.textContent = m.role;
      const body = document.createElement("div"); body.className = "markdown"; body.innerHTML = m.html;
      turn.append(who, body); prompt.append(turn);
    });
    $("left").innerHTML = a.left.html;
    $("right").innerHTML = a.right.html;
    form.reset(); showChoice(); setError(""); $("skip-box").hidden = true;
    $("tie-option").hidden = !a.scale.allows_tie;
    $("both-bad-option").hidden = !a.allow_both_bad;
    $("rationale-req").textContent = a.rationale_required ? "(required)" : "(optional)";
    current = {assignment: a, key: newKey(), activeMs: 0, visibleSince: document.hidden ? null : performance.now()};
    $("task").hidden = false; setStatus("");
    window.scrollTo(0, 0);
    document.activeElement && document.activeElement.blur();
  }

  async function loadNext() {
    current = null; $("task").hidden = true; setStatus("Loading your next task…");
    const r = await api(`/api/v1/projects/${slug}/assignments/next`);
    refreshProgress();
    if (r.status === 204) { setStatus("All done: there is nothing left for you in this project. Thank you!"); return; }
    const body = await r.json().catch(() => ({}));
    if (r.status === 409 && body.error === "guideline_not_acknowledged") { window.location = root.dataset.guidelineUrl; return; }
    if (r.status === 409 && body.error === "quiz_required") { window.location = root.dataset.quizUrl; return; }
    if (!r.ok) { setStatus(body.detail || `Could not load a task (HTTP ${r.status}).`); return; }
    renderTask(body);
  }

  function answer() {
    const choice = form.querySelector('input[name="choice"]:checked');
    const strength = form.querySelector('input[name="strength"]:checked');
    return {
      choice: choice ? choice.value : null,
      strength: strength && choice && (choice.value === "left" || choice.value === "right") ? Number(strength.value) : null,
      rationale: $("rationale").value,
      flags: Array.from(form.querySelectorAll('input[name="flags"]:checked'), (x) => x.value),
      active_ms: activeMs(),
    };
  }

  async function submit() {
    if (!current || busy) return;
    const body = answer();
    if (!body.choice) { setError("Choose left, right" + (scale.allows_tie ? ", tie" : "") + " first."); return; }
    const sided = body.choice === "left" || body.choice === "right";
    if (sided && scale.strengths.length && body.strength === null) { setError("Choose a strength (1–" + scale.strengths.length + ")."); return; }
    if (current.assignment.rationale_required && !body.rationale.trim()) { setError("This project requires a rationale (R)."); return; }
    busy = true;
    try {
      const r = await api(`/api/v1/assignments/${current.assignment.assignment_id}/judgment`, body, {"Idempotency-Key": current.key});
      const out = await r.json().catch(() => ({}));
      if (r.status === 201 || r.status === 200) {
        if (r.status === 201) { bump("done-today", 1); bump("done-count", 1); bump("remaining", -1); }
        await loadNext();
      } else if (r.status === 409 && out.error === "lease_lost") {
        setStatus(out.detail); current = null; $("task").hidden = true;
        setTimeout(loadNext, 1500);
      } else {
        setError(out.detail || `Not saved (HTTP ${r.status}).`);
      }
    } catch (e) {
      setError("Network problem: not confirmed. Press Enter to retry (it will not be counted twice).");
    } finally { busy = false; }
  }

  async function skip() {
    const reason = $("skip-reason").value.trim();
    if (!reason) { setError("Say why you skip."); return; }
    busy = true;
    try {
      const r = await api(`/api/v1/assignments/${current.assignment.assignment_id}/skip`, {reason});
      const out = await r.json().catch(() => ({}));
      if (r.ok || (r.status === 409 && out.error === "lease_lost")) await loadNext(); else setError(out.detail || "Could not skip.");
    } finally { busy = false; }
  }

  function check(selector) { const el = form.querySelector(selector); if (el && !el.closest("[hidden]")) el.checked = true; }
  function toggle(selector) { const el = form.querySelector(selector); if (el) el.checked = !el.checked; }

  document.addEventListener("keydown", (ev) => {
    if (!current || ev.altKey || ev.metaKey) return;
    const t = ev.target;
    if (t === $("rationale")) {
      if (ev.key === "Escape") { t.blur(); ev.preventDefault(); }
      else if (ev.key === "Enter" && ev.ctrlKey) { ev.preventDefault(); submit(); }
      return;
    }
    if (t === $("skip-reason")) {
      if (ev.key === "Escape") { $("skip-box").hidden = true; t.blur(); ev.preventDefault(); }
      else if (ev.key === "Enter") { ev.preventDefault(); skip(); }
      return;
    }
    if (ev.ctrlKey) return;
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    const handled = {
      ArrowLeft: () => check('input[name="choice"][value="left"]'),
      ArrowRight: () => check('input[name="choice"][value="right"]'),
      t: () => check('input[name="choice"][value="tie"]'),
      b: () => check('input[name="choice"][value="both_bad"]'),
      u: () => toggle('input[name="flags"][value="unsafe"]'),
      c: () => toggle('input[name="flags"][value="cannot_judge"]'),
      r: () => $("rationale").focus(),
      s: () => { $("skip-box").hidden = false; $("skip-reason").focus(); },
      Enter: () => submit(),
    }[key];
    if (handled) { ev.preventDefault(); handled(); showChoice(); return; }
    if (/^[1-9]$/.test(key)) check(`input[name="strength"][value="${key}"]`);
  });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
  form.addEventListener("change", showChoice);
  $("skip").addEventListener("click", () => { $("skip-box").hidden = false; $("skip-reason").focus(); });

  renderStrengths();
  loadNext();
})();
