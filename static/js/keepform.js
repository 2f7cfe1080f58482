// Forms marked data-keep-form never lose what someone entered:
// - they are sent without leaving the page, so when the server refuses them the refusal is
//   drawn in place and the chosen file stays chosen (core.middleware.KeptFormMiddleware);
// - before sending, the page asks whether the session is still signed in; if it expired,
//   a dialog offers to sign in again in a new tab while the form waits here, and the fresh
//   CSRF token is used for the next try;
// - what is typed is kept as a draft in this browser until the form is accepted, and
//   offered back if the page is opened again (after a crash, a closed tab, a sign-in).
// Without JavaScript the forms are ordinary forms.
(function () {
  "use strict";
  const SESSION_URL = "/session/";
  const SKIP = new Set(["file", "password", "hidden", "submit", "button", "reset"]);

  function draftKey(form) {
    return "draft:" + window.location.pathname + ":" + (form.getAttribute("action") || "");
  }

  function fields(form) {
    return Array.from(form.elements).filter(function (el) {
      return el.name && !SKIP.has(el.type) && el.name !== "csrfmiddlewaretoken";
    });
  }

  function saveDraft(form) {
    const values = {};
    fields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) values[el.name + "=" + el.value] = true;
      } else if (el.value) {
        values[el.name] = el.value;
      }
    });
    try {
      if (Object.keys(values).length) localStorage.setItem(draftKey(form), JSON.stringify(values));
      else localStorage.removeItem(draftKey(form));
    } catch (e) { /* storage full or disabled: the form still works */ }
  }

  function clearDraft(form) {
    try { localStorage.removeItem(draftKey(form)); } catch (e) { /* ignore */ }
  }

  function restoreDraft(form) {
    let values = null;
    try { values = JSON.parse(localStorage.getItem(draftKey(form)) || "null"); } catch (e) { values = null; }
    if (!values) return;
    // A refusal the server drew holds the entries already: it wins over an older draft.
    if (form.querySelector(".field--error, .alert--error")) return;
    let restored = 0;
    fields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (values[el.name + "=" + el.value] === true && !el.checked) {
          el.checked = true;
          restored += 1;
        }
      } else if (!el.value && Object.prototype.hasOwnProperty.call(values, el.name)) {
        el.value = values[el.name];
        restored += 1;
      }
    });
    if (!restored) return;
    const note = document.createElement("div");
    note.className = "alert alert--info draft-note";
    note.setAttribute("role", "status");
    note.innerHTML = "<p>What you typed here before was kept in this browser and is filled in again. " +
      "Choose the file again if there was one. <button type=\"button\" class=\"btn btn--secondary btn--small\">Discard it</button></p>";
    note.querySelector("button").addEventListener("click", function () {
      clearDraft(form);
      form.reset();
      note.remove();
    });
    form.prepend(note);
  }

  function showSessionDialog() {
    const dialog = document.getElementById("session-dialog");
    if (dialog && !dialog.open && typeof dialog.showModal === "function") dialog.showModal();
  }

  async function freshSession() {
    const answer = await fetch(SESSION_URL, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!answer.ok) throw new Error("session check failed");
    const state = await answer.json();
    return state.authenticated ? state.csrf : null;
  }

  function swapMain(html, oldForm) {
    const doc = new DOMParser().parseFromString(html, "text/html");
    const fresh = doc.querySelector("main");
    const main = document.querySelector("main");
    if (!fresh || !main) return false;
    const files = Array.from(oldForm.querySelectorAll("input[type=file]")).filter(function (el) {
      return el.files && el.files.length;
    });
    document.title = doc.title || document.title;
    main.replaceWith(fresh);
    files.forEach(function (old) {
      const twin = fresh.querySelector("input[type=file][name=\"" + old.name + "\"]");
      if (!twin) return;
      old.removeAttribute("aria-invalid");
      twin.replaceWith(old);
    });
    if (window.htmx) window.htmx.process(fresh);
    fresh.querySelectorAll("form[data-keep-form]").forEach(watch);
    const problem = fresh.querySelector("[role=alert], .field--error input, .field--error textarea");
    if (problem) {
      problem.setAttribute("tabindex", problem.getAttribute("tabindex") || "-1");
      problem.focus();
    }
    return true;
  }

  async function send(form, submitter) {
    let csrf;
    try {
      csrf = await freshSession();
    } catch (e) {
      form.submit();
      return;
    }
    if (csrf === null) {
      showSessionDialog();
      return;
    }
    const token = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (token) token.value = csrf;
    const body = new FormData(form, submitter || undefined);
    let answer;
    try {
      answer = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Keep-Form": "1", "X-CSRFToken": csrf },
      });
    } catch (e) {
      form.submit();
      return;
    }
    if (answer.status === 401) {
      showSessionDialog();
      return;
    }
    const target = answer.headers.get("X-Location");
    if (target) {
      clearDraft(form);
      window.location.assign(target);
      return;
    }
    const html = await answer.text();
    if (!swapMain(html, form)) {
      document.open();
      document.write(html);
      document.close();
    }
  }

  function watch(form) {
    if (form.dataset.keepFormWatched) return;
    form.dataset.keepFormWatched = "yes";
    restoreDraft(form);
    form.addEventListener("input", function () { saveDraft(form); });
    form.addEventListener("change", function () { saveDraft(form); });
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-keep-form")) return;
    if (event.defaultPrevented) return;
    event.preventDefault();
    const submitter = event.submitter;
    if (form.dataset.sending === "yes") return; // a double click sends once
    form.dataset.sending = "yes";
    saveDraft(form);
    send(form, submitter).finally(function () {
      delete form.dataset.sending;
    });
  });

  document.body.addEventListener("session-expired", showSessionDialog);
  document.querySelectorAll("form[data-keep-form]").forEach(watch);
  const sessionDialog = document.getElementById("session-dialog");
  if (sessionDialog) {
    sessionDialog.querySelector("[data-close]").addEventListener("click", function () {
      sessionDialog.close();
    });
  }
})();
