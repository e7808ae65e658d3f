// The code editor: CodeMirror 6 over a textarea marked data-code-editor. The textarea stays
// in its form, hidden and kept in sync, so that the form sends it as before and a page
// without JavaScript keeps the plain textarea.
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentMore, indentLess } from "@codemirror/commands";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting, HighlightStyle } from "@codemirror/language";
import { python } from "@codemirror/lang-python";
import { tags } from "@lezer/highlight";

// CodeMirror's default colours, but each at 4.5:1 or more on the editor's white and on the
// active line's tint (WCAG AA for text; axe checks it in the browser tests): the default's
// orange escapes (#e40), red errors (#f00) and green type names (#085) were below it.
const highlightStyle = HighlightStyle.define([
  { tag: tags.meta, color: "#404740" },
  { tag: tags.keyword, color: "#708" },
  { tag: [tags.atom, tags.bool, tags.url, tags.contentSeparator, tags.labelName], color: "#219" },
  { tag: [tags.literal, tags.inserted], color: "#164" },
  { tag: [tags.string, tags.deleted], color: "#a11" },
  { tag: [tags.regexp, tags.escape, tags.special(tags.string)], color: "#b52d00" },
  { tag: tags.definition(tags.variableName), color: "#00f" },
  { tag: tags.local(tags.variableName), color: "#30a" },
  { tag: [tags.typeName, tags.namespace], color: "#00704a" },
  { tag: tags.className, color: "#167" },
  { tag: [tags.special(tags.variableName), tags.macroName], color: "#256" },
  { tag: tags.definition(tags.propertyName), color: "#00c" },
  { tag: tags.comment, color: "#940", fontStyle: "italic" },
  { tag: tags.invalid, color: "#c00" },
]);

// CodeMirror writes its theme into a <style> element: it gets the nonce this script was given.
const styleNonce = (document.currentScript && document.currentScript.nonce) || "";

function enhance(textarea) {
  const label = document.querySelector('label[for="' + textarea.id + '"]');
  if (label && !label.id) label.id = textarea.id + "-label";
  // Escape hands Tab back to the page until the learner types again or comes back, as the
  // textarea did: a keyboard user is never trapped in the editor.
  let tabReleased = false;
  const tab = (command) => (view) => (tabReleased ? false : command(view));
  // tabindex 0 says outright what contenteditable already means: the text, which scrolls
  // sideways past a long line, is a tab stop (axe's scrollable-region-focusable counts only it).
  const contentAttributes = { "aria-multiline": "true", spellcheck: "false", autocapitalize: "off", autocorrect: "off", tabindex: "0" };
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
        syntaxHighlighting(highlightStyle),
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
