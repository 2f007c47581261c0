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
