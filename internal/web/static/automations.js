// The automation editor's one behaviour: show only the fields that apply.
// An element with data-when="name=value" is shown while the form's field
// of that name has that value (a checked radio or a select). Without this
// script every field shows, and the server reads only those that apply.
(function () {
  "use strict";

  function valueOf(form, name) {
    var field = form.elements[name];
    if (!field) return "";
    if (field instanceof RadioNodeList) return field.value;
    return field.value;
  }

  function apply(form) {
    form.querySelectorAll("[data-when]").forEach(function (el) {
      var parts = el.dataset.when.split("=");
      el.hidden = valueOf(form, parts[0]) !== parts[1];
    });
    form.querySelectorAll(".ao-js-hidden").forEach(function (el) { el.hidden = true; });
  }

  function applyAll(root) {
    (root || document).querySelectorAll("form.ao-auto-form").forEach(apply);
  }

  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.classList.contains("ao-auto-form")) apply(form);
  });
  document.addEventListener("DOMContentLoaded", function () { applyAll(document); });

  // A row button swaps the whole form, and the button pressed is gone:
  // put focus on the row just added, or on the list's add button after a
  // removal, so a keyboard user carries on where they were.
  var lastOp = "";
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("form.ao-auto-form button[name=op]") : null;
    lastOp = b ? b.value : "";
  });
  var focusAfter = {
    add_condition: "[name=cond_field]:not([type=hidden])",
    add_attribute: "[name=attr_field]:not([type=hidden])",
    add_send: "select[name=step_template]",
    add_wait: "[name=step_duration]:not([type=hidden])",
    remove_condition: "#auto-add-condition",
    remove_attribute: "#auto-add-attribute",
    remove_step: "#auto-add-send",
    step_up: "#auto-add-send"
  };
  // The form is swapped whole when a row is added or a save is refused.
  document.addEventListener("htmx:afterSettle", function () {
    applyAll(document);
    var op = lastOp.split(":")[0];
    lastOp = "";
    // A refused save: take the reader to the list of what to fix.
    var summary = document.querySelector("form.ao-auto-form .ao-error-summary");
    if (summary && (op === "save" || op === "publish")) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
      return;
    }
    var sel = focusAfter[op];
    if (!sel) return;
    var found = document.querySelectorAll("form.ao-auto-form " + sel);
    if (found.length) found[found.length - 1].focus();
  });
})();
