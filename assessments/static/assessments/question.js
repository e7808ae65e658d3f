// Question page: confidence slider, autosave through the API, time spent, countdown.
(function () {
  "use strict";
  const form = document.getElementById("answer-form");
  if (!form) return;
  const api = form.dataset.api;
  const qtype = form.dataset.qtype;
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const slider = document.getElementById("confidence-slider");
  const hidden = document.getElementById("confidence");
  const label = document.getElementById("confidence-label");
  const status = document.getElementById("save-status");
  const secondsField = document.getElementById("seconds_spent");
  const labels = Array.from(document.querySelectorAll(".scale li")).map((li) => li.textContent);
  let countedUntil = Date.now();
  let timer = null;
  let saving = Promise.resolve();

  function secondsSinceCounted() {
    return Math.max(0, Math.min(3600, Math.round((Date.now() - countedUntil) / 1000)));
  }

  function setConfidence() {
    hidden.value = slider.value;
    slider.removeAttribute("data-unset");
    label.textContent = labels[Number(slider.value)];
  }

  function collect() {
    const data = new FormData(form);
    const choices = ["choice", "choice-tier1", "choice-tier2"]
      .flatMap((name) => data.getAll(name))
      .map(Number);
    const body = {
      choices: choices,
      confidence: hidden.value === "" ? null : Number(hidden.value),
      seconds_spent: secondsSinceCounted(),
    };
    let answered = choices.length > 0;
    if (qtype === "numeric") {
      const raw = String(data.get("numeric_value") || "").trim().replace(",", ".");
      body.numeric_value = raw === "" ? null : raw;
      answered = raw !== "";
    }
    if (qtype === "explain") {
      body.text = String(data.get("text") || "");
      answered = body.text.trim() !== "";
    }
    return { body: body, answered: answered };
  }

  function show(text, kind) {
    status.textContent = text;
    status.className = "save-status " + (kind || "");
  }

  function save() {
    const { body, answered } = collect();
    if (answered && body.confidence === null) {
      show("Rate your confidence to save this answer.", "pending");
      return;
    }
    const sentAt = Date.now();
    show("Saving…", "pending");
    saving = saving.then(() =>
      fetch(api, {
        method: "PUT",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      })
        .then((response) => response.json().then((json) => ({ response, json })))
        .then(({ response, json }) => {
          if (response.ok) {
            countedUntil = sentAt;
            show("Saved ✓", "ok");
          } else {
            const error = json.error || {};
            const fields = Object.values(error.fields || {});
            show("Not saved: " + (fields.length ? fields.join(" ") : error.message), "bad");
          }
        })
        .catch(() => show("Not saved: the connection failed. Your answer is kept when you press Next.", "bad"))
    );
  }

  function saveSoon(delay) {
    clearTimeout(timer);
    timer = setTimeout(save, delay);
  }

  ["input", "change"].forEach((event) =>
    slider.addEventListener(event, () => {
      setConfidence();
      saveSoon(300);
    })
  );
  // A click or a rating key on the slider counts as rating, even when it stays on the shown
  // value (at either end of the scale no input event fires). Tab arriving on it does not.
  const RATING_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"];
  slider.addEventListener("pointerup", () => { setConfidence(); saveSoon(300); });
  slider.addEventListener("keyup", (event) => {
    if (RATING_KEYS.includes(event.key)) { setConfidence(); saveSoon(300); }
  });

  form.addEventListener("change", (event) => {
    if (event.target !== slider) saveSoon(100);
  });
  form.addEventListener("input", (event) => {
    if (event.target.tagName === "TEXTAREA" || event.target.name === "numeric_value") saveSoon(800);
  });
  form.addEventListener("submit", () => {
    clearTimeout(timer);
    secondsField.value = secondsSinceCounted();
  });

  // Countdown, corrected for the difference between this clock and the server's.
  const timerBox = document.getElementById("timer");
  if (timerBox) {
    const deadline = Date.parse(timerBox.dataset.deadline);
    const skew = Date.parse(timerBox.dataset.serverNow) - Date.now();
    const value = document.getElementById("timer-value");
    const tick = () => {
      const left = Math.max(0, Math.floor((deadline - (Date.now() + skew)) / 1000));
      const minutes = Math.floor(left / 60);
      const seconds = String(left % 60).padStart(2, "0");
      value.textContent = minutes + ":" + seconds;
      timerBox.classList.toggle("urgent", left <= 60);
      if (left === 0) {
        clearInterval(interval);
        value.textContent = "0:00 — time is up. Your saved answers will be submitted.";
        form.querySelectorAll("input, textarea, button").forEach((el) => (el.disabled = true));
        setTimeout(() => (window.location.href = timerBox.dataset.review), 2500);
      }
    };
    const interval = setInterval(tick, 1000);
    tick();
  }
})();
