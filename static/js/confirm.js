// A form with data-confirm asks before it is sent: a modal dialog repeats what the click
// will do (the amount, the partner) with Cancel focused first. Without JavaScript the form
// is sent as it is; the server checks everything either way.
(function () {
  "use strict";
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const text = dialog.querySelector("[data-confirm-text]");
  const ok = dialog.querySelector("[data-confirm-ok]");
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (form.dataset.confirmed === "yes") return;
    event.preventDefault();
    const submitter = event.submitter;
    text.textContent = form.dataset.confirm;
    ok.textContent = form.dataset.confirmButton || "Confirm";
    dialog.returnValue = "";
    dialog.addEventListener(
      "close",
      function () {
        if (dialog.returnValue !== "ok") return;
        form.dataset.confirmed = "yes";
        if (submitter) submitter.disabled = false;
        form.requestSubmit(submitter || undefined);
      },
      { once: true }
    );
    dialog.showModal();
  });
})();
