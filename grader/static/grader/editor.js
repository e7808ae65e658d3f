// Code editor (line numbers, Tab indentation) and a live verdict, polled from the API.
(function () {
  "use strict";
  const form = document.getElementById("code-form");
  if (!form) return;
  const code = document.getElementById("code");
  const gutter = document.getElementById("gutter");
  const status = document.getElementById("grade-status");
  const button = document.getElementById("submit-code");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const INDENT = "    ";

  function renumber() {
    const lines = code.value.split("\n").length;
    gutter.textContent = Array.from({ length: lines }, (_, i) => i + 1).join("\n");
    gutter.scrollTop = code.scrollTop;
  }

  function lineStart(text, index) {
    return text.lastIndexOf("\n", index - 1) + 1;
  }

  code.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (event.key !== "Tab") return;
    // Escape leaves the editor for keyboard users: Tab is ours only until then.
    if (code.dataset.tabReleased === "true") return;
    event.preventDefault();
    const { selectionStart: start, selectionEnd: end, value } = code;
    const first = lineStart(value, start);
    if (event.shiftKey) {
      const block = value.slice(first, end);
      code.setRangeText(block.replace(/^ {1,4}/gm, ""), first, end, "select");
    } else if (start !== end && value.slice(start, end).includes("\n")) {
      const block = value.slice(first, end);
      code.setRangeText(block.replace(/^/gm, INDENT), first, end, "select");
    } else {
      code.setRangeText(INDENT, start, end, "end");
    }
    renumber();
  });
  code.addEventListener("keyup", (event) => {
    if (event.key === "Escape") code.dataset.tabReleased = "true";
  });
  code.addEventListener("focus", () => (code.dataset.tabReleased = "false"));
  code.addEventListener("input", renumber);
  code.addEventListener("scroll", () => (gutter.scrollTop = code.scrollTop));
  renumber();

  function text(tag, content, className) {
    const element = document.createElement(tag);
    element.textContent = content;
    if (className) element.className = className;
    return element;
  }

  function show(submission) {
    const box = document.getElementById("verdict");
    box.hidden = false;
    document.getElementById("verdict-title").textContent =
      "Verdict: " + submission.status + (submission.score !== null ? " (" + Math.round(submission.score * 100) + "% of checks)" : "");
    document.getElementById("verdict-summary").textContent = submission.message || "";
    const list = document.getElementById("verdict-checks");
    list.replaceChildren();
    for (const check of submission.checks) {
      const item = text("li", "", check.passed ? "check-pass" : "check-fail");
      item.append(text("strong", (check.passed ? "✓ " : "✗ ") + check.id + ": "));
      item.append(document.createTextNode(check.message));
      const tags = check.misconceptions.concat(check.defects);
      if (!check.passed && tags.length) item.append(text("span", " [" + tags.join(", ") + "]", "meta"));
      list.append(item);
    }
    const codes = submission.misconceptions.map((m) => m.code + " " + m.title);
    document.getElementById("verdict-misconceptions").textContent = codes.length ? "Points to: " + codes.join("; ") : "";
    const output = document.getElementById("verdict-output");
    output.hidden = !submission.output;
    output.textContent = submission.output ? "Your code printed:\n" + submission.output : "";
  }

  function poll(url, started) {
    fetch(url, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((submission) => {
        if (submission.finished) {
          status.textContent = "Graded.";
          button.disabled = false;
          show(submission);
        } else {
          const waited = Math.round((Date.now() - started) / 1000);
          status.textContent = (submission.status === "running" ? "Running your code…" : "Waiting for a grader…") + " " + waited + " s";
          setTimeout(() => poll(url, started), 400);
        }
      })
      .catch(() => {
        status.textContent = "Lost contact with the server; retrying…";
        setTimeout(() => poll(url, started), 2000);
      });
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    status.textContent = "Submitting…";
    fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(
        Object.assign(
          { exercise: form.dataset.exercise, code: code.value },
          form.dataset.attempt ? { attempt: Number(form.dataset.attempt), slot: Number(form.dataset.slot) } : {}
        )
      ),
    })
      .then((response) => response.json().then((json) => ({ response, json })))
      .then(({ response, json }) => {
        if (!response.ok) {
          const error = json.error || {};
          status.textContent = "Not submitted: " + (Object.values(error.fields || {}).join(" ") || error.message);
          button.disabled = false;
          return;
        }
        poll(form.dataset.poll.replace(/0\/$/, json.id + "/"), Date.now());
      })
      .catch(() => {
        status.textContent = "Not submitted: the connection failed.";
        button.disabled = false;
      });
  });
})();
