// The code editor: CodeMirror 6 over a textarea marked data-code-editor. The textarea stays
// in its form, hidden and kept in sync, so that the form sends it as before and a page
// without JavaScript keeps the plain textarea.
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentMore, indentLess } from "@codemirror/commands";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { python } from "@codemirror/lang-python";

// CodeMirror writes its theme into a <style> element: it gets the nonce this script was given.
const styleNonce = (document.currentScript && document.currentScript.nonce) || "";

function enhance(textarea) {
  const label = document.querySelector('label[for="' + textarea.id + '"]');
  if (label && !label.id) label.id = textarea.id + "-label";
  // Escape hands Tab back to the page until the learner types again or comes back, as the
  // textarea did: a keyboard user is never trapped in the editor.
  let tabReleased = false;
  const tab = (command) => (view) => (tabReleased ? false : command(view));
  const contentAttributes = { "aria-multiline": "true", spellcheck: "false", autocapitalize: "off", autocorrect: "off" };
  if (label) contentAttributes["aria-labelledby"] = label.id;
  const describedBy = textarea.getAttribute("aria-describedby");
  if (describedBy) contentAttributes["aria-describedby"] = describedBy;
  if (textarea.getAttribute("aria-invalid")) contentAttributes["aria-invalid"] = textarea.getAttribute("aria-invalid");

  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        indentOnInput(),
        bracketMatching(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        python(),
        keymap.of([
          { key: "Mod-Enter", run: () => (textarea.form.requestSubmit(), true) },
          { key: "Escape", run: () => ((tabReleased = true), false) },
          { key: "Tab", run: tab(indentMore), shift: tab(indentLess) },
          ...defaultKeymap,
          ...historyKeymap,
        ]),
        EditorView.cspNonce.of(styleNonce),
        EditorView.contentAttributes.of(contentAttributes),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          tabReleased = false;
          textarea.value = update.state.doc.toString();
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
        EditorView.domEventHandlers({ focus: () => void (tabReleased = false) }),
      ],
    }),
  });
  view.dom.classList.add("code-editor");
  textarea.after(view.dom);
  textarea.hidden = true;
  // The textarea's own line numbers, if the page drew them, are the editor's now.
  const gutter = textarea.parentElement.querySelector(".gutter");
  if (gutter) gutter.hidden = true;
  if (label) label.addEventListener("click", () => view.focus());
  // A value written into the textarea by another script (a restored draft) reaches the editor.
  textarea.addEventListener("change", () => {
    if (textarea.value !== view.state.doc.toString()) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: textarea.value } });
    }
  });
  textarea.codeEditor = view;
}

document.querySelectorAll("textarea[data-code-editor]").forEach(enhance);
