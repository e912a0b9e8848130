// Progressive enhancement of the tagging page: without this script the page
// works with plain form posts; with it, predictions and feedback go through
// the JSON API and the page updates in place.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const predictForm = $("predict-form");
  const feedbackForm = $("feedback-form");
  if (!predictForm || !feedbackForm || !window.fetch) return;

  const title = $("title");
  const titleError = $("title-error");
  const result = $("result");
  const tagsList = $("tags");
  const noTags = $("no-tags");
  const feedbackError = $("feedback-error");
  const thanks = $("thanks");
  const filter = $("missing-filter");
  let lastSubmitter = null;

  function showError(el, message) {
    el.textContent = message;
    el.hidden = !message;
  }

  async function postJSON(url, body) {
    let res;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (e) {
      return { ok: false, data: { error: "The server could not be reached; check your connection and try again." } };
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = { error: "The server sent an unreadable answer (HTTP " + res.status + ")." }; }
    return { ok: res.ok, status: res.status, data: data };
  }

  function widthClass(score) { return "w-" + Math.round(score * 20) * 5; }

  function render(p) {
    $("result-title").textContent = p.title;
    $("prediction-id").value = p.prediction_id;
    tagsList.replaceChildren();
    const tpl = $("tag-row-template");
    for (const t of p.tags) {
      const row = tpl.content.firstElementChild.cloneNode(true);
      row.querySelector(".tag-name").textContent = t.tag;
      row.querySelector(".bar").classList.add(widthClass(t.score));
      const pct = Math.round(t.score * 100);
      row.querySelector(".pct").textContent = pct + "%";
      const sr = document.createElement("span");
      sr.className = "sr-only";
      sr.textContent = " sure";
      row.querySelector(".pct").appendChild(sr);
      row.querySelector(".choices").setAttribute("aria-label", "Is " + t.tag + " right?");
      for (const input of row.querySelectorAll("input[type=radio]")) input.name = "tag:" + t.tag;
      tagsList.appendChild(row);
    }
    noTags.hidden = p.tags.length > 0;
    for (const box of feedbackForm.querySelectorAll("input[name=missing]")) box.checked = false;
    feedbackForm.querySelector("details").open = false;
    showError(feedbackError, "");
    feedbackForm.hidden = false;
    result.classList.remove("answered");
    thanks.hidden = true;
    result.hidden = false;
    history.replaceState(null, "", "/?p=" + encodeURIComponent(p.prediction_id));
    document.title = "Tags for \u201c" + p.title + "\u201d \u00b7 REMLA tag predictor";
    $("result-heading").focus();
  }

  $("enter-hint").hidden = false;
  title.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      predictForm.requestSubmit();
    }
  });

  predictForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = predictForm.querySelector("button[type=submit]");
    button.disabled = true;
    const r = await postJSON("/api/v1/predict", { title: title.value });
    button.disabled = false;
    if (!r.ok) {
      showError(titleError, r.data.error || "Something went wrong.");
      title.setAttribute("aria-invalid", "true");
      title.focus();
      return;
    }
    showError(titleError, "");
    title.removeAttribute("aria-invalid");
    render(r.data);
  });

  // Remember which of Yes / No was pressed (SubmitEvent.submitter is not
  // everywhere yet).
  for (const b of feedbackForm.querySelectorAll("button[name=happy]")) {
    b.addEventListener("click", () => { lastSubmitter = b; });
  }

  feedbackForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const submitter = e.submitter || lastSubmitter;
    if (!submitter) return;
    const body = {
      prediction_id: $("prediction-id").value,
      happy: submitter.value === "yes",
      correct_tags: [], wrong_tags: [], missing_tags: [],
    };
    for (const input of tagsList.querySelectorAll("input[type=radio]:checked")) {
      const tag = input.name.slice("tag:".length);
      (input.value === "right" ? body.correct_tags : body.wrong_tags).push(tag);
    }
    for (const box of feedbackForm.querySelectorAll("input[name=missing]:checked")) body.missing_tags.push(box.value);
    const buttons = feedbackForm.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    const r = await postJSON("/api/v1/feedback", body);
    buttons.forEach((b) => { b.disabled = false; });
    if (!r.ok) {
      showError(feedbackError, r.data.error || "Something went wrong.");
      return;
    }
    feedbackForm.hidden = true;
    result.classList.add("answered");
    thanks.hidden = false;
    thanks.setAttribute("tabindex", "-1");
    thanks.focus();
  });

  if (filter) {
    filter.hidden = false;
    document.querySelector(".filter-label").hidden = false;
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const label of $("tag-grid").querySelectorAll("label")) {
        label.hidden = q !== "" && !label.textContent.toLowerCase().includes(q);
      }
    });
  }
})();
