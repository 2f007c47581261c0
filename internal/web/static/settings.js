// Settings: copying a secret shown once. Without this file the secret is
// still there to select and copy by hand.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    // A copy button is offered only where it can work.
    document.querySelectorAll("button[data-copy]").forEach(function (b) { b.hidden = false; });
  });

  // data-select-on-focus selects a read-only secret whole, ready to copy.
  document.addEventListener("focusin", function (e) {
    var input = e.target;
    if (input.matches && input.matches("input[data-select-on-focus]")) input.select();
  });

  // data-copy="id" copies the value of the input with that id.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.dataset.copy);
    if (!input) return;
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { input.select(); });
    } else {
      input.select();
      try { if (document.execCommand("copy")) done(); } catch (err) { /* the text stays selected to copy by hand */ }
    }
  });
})();
