// Practice pages: the confidence slider, time spent, one submission per form, a code
// textarea that indents, and the grading page that waits for its verdict.
(function () {
  "use strict";
  const openedAt = Date.now();

  // Confidence: the hidden field is set only once the learner rates, so that a slider
  // left at its starting position is not taken for an answer.
  const slider = document.getElementById("confidence-slider");
  if (slider) {
    const hidden = document.getElementById("confidence");
    const label = document.getElementById("confidence-label");
    const labels = Array.from(document.querySelectorAll(".scale li")).map((li) => li.textContent);
    const rate = () => {
      hidden.value = slider.value;
      slider.removeAttribute("data-unset");
      label.textContent = labels[Number(slider.value)];
    };
    slider.addEventListener("input", rate);
    slider.addEventListener("change", rate);
    slider.addEventListener("pointerup", rate);
    // A key that rates (even at the end of the scale, where no input event fires); Tab
    // moving through the slider does not.
    const RATING_KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown", " ", "Enter"];
    slider.addEventListener("keyup", (event) => {
      if (RATING_KEYS.includes(event.key)) rate();
    });
  }

  // One submission per form; the time on the page goes with it.
  const forms = Array.from(document.querySelectorAll("form[data-once]"));
  forms.forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sent === "true") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "true";
      const seconds = form.querySelector("[name=seconds_spent]");
      if (seconds) seconds.value = String(Math.min(3600, Math.round((Date.now() - openedAt) / 1000)));
    });
  });
  // Coming back with the browser's Back button restores the page as it was left.
  window.addEventListener("pageshow", () => forms.forEach((form) => delete form.dataset.sent));

  // Code: Tab indents and Shift+Tab dedents, until Escape hands Tab back to the page.
  const code = document.getElementById("code");
  if (code) {
    const INDENT = "    ";
    code.addEventListener("focus", () => (code.dataset.tabReleased = "false"));
    code.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        code.dataset.tabReleased = "true";
        return;
      }
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        code.form.requestSubmit();
        return;
      }
      if (event.key !== "Tab" || code.dataset.tabReleased === "true") return;
      event.preventDefault();
      const start = code.selectionStart;
      const lineStart = code.value.lastIndexOf("\n", start - 1) + 1;
      if (event.shiftKey) {
        const removable = code.value.slice(lineStart, lineStart + INDENT.length).match(/^ */)[0].length;
        code.setRangeText("", lineStart, lineStart + removable, "preserve");
      } else {
        code.setRangeText(INDENT, start, code.selectionEnd, "end");
      }
    });
  }

  // Grading: poll the step's status; open the verdict when it is in.
  const grading = document.getElementById("grading");
  if (grading) {
    const status = document.getElementById("grading-status");
    const seconds = document.getElementById("grading-seconds");
    let lost = false;
    const tick = setInterval(() => {
      seconds.textContent = String(Math.round((Date.now() - openedAt) / 1000));
    }, 1000);
    const poll = () => {
      fetch(grading.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => response.json())
        .then((step) => {
          if (lost) {
            lost = false;
            status.textContent = "Back in contact; still grading.";
          }
          if (step.finished) {
            clearInterval(tick);
            status.textContent = "Graded. Opening the verdict…";
            window.location.replace(grading.dataset.feedbackUrl);
          } else if (step.state !== "grading") {
            // The code came back without a verdict: the step asks for it again.
            clearInterval(tick);
            status.textContent = "Your code could not be graded. Opening the step again…";
            window.location.replace(grading.dataset.feedbackUrl);
          } else {
            setTimeout(poll, 1000);
          }
        })
        .catch(() => {
          if (!lost) status.textContent = "Lost contact with the server; retrying…";
          lost = true;
          setTimeout(poll, 3000);
        });
    };
    setTimeout(poll, 500);
  }
})();
