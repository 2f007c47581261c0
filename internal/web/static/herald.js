// Herald's small behaviours. Pages work without this file; it only adds
// conveniences, and every one is tied to a data- attribute.
(function () {
  "use strict";

  // data-select-all on a checkbox ticks or clears every checkbox named by
  // its value (the name of the boxes in the same form).
  document.addEventListener("change", function (e) {
    var box = e.target;
    if (!box.matches || !box.matches("input[type=checkbox][data-select-all]")) return;
    var form = box.form;
    if (!form) return;
    form.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]').forEach(function (b) {
      b.checked = box.checked;
    });
  });

  // A secret is shown once, in the answer to the form that made it. The
  // history entry of that answer is replaced by the page's own address
  // (data-shown-once), so a reload or Back asks for the page instead of
  // sending the form again: a second key, or a second account.
  var once = document.querySelector("[data-shown-once]");
  if (once && once.dataset.shownOnce && window.history.replaceState) {
    window.history.replaceState(null, "", once.dataset.shownOnce);
  }

  // After htmx swaps in content with an error, move focus to it so a
  // keyboard or screen-reader user hears what went wrong.
  document.addEventListener("htmx:afterSwap", function (e) {
    var alert = e.detail.target.querySelector('[role="alert"]');
    if (alert) {
      alert.setAttribute("tabindex", "-1");
      alert.focus();
    }
  });
})();
