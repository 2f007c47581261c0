// The SMS template editor's small behaviours: insert a merge tag at the
// cursor, and swap UCS-2 characters for their GSM-7 look-alikes. The
// editor works without this file (the tags are listed, the server counts);
// each change fires "input" so htmx asks the server to count again.
(function () {
  "use strict";

  function body() {
    return document.getElementById("body");
  }

  function changed(area) {
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }

  // Buttons are hidden until this script can make them work.
  function reveal(root) {
    root.querySelectorAll("[data-insert-tag], [data-use-lookalikes]").forEach(function (b) {
      if (body()) b.hidden = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:afterSwap", function () { reveal(document); });

  document.addEventListener("click", function (e) {
    var area = body();
    if (!area || !e.target.closest) return;
    var insert = e.target.closest("[data-insert-tag]");
    if (insert) {
      var tag = insert.dataset.insertTag;
      var start = area.selectionStart, end = area.selectionEnd;
      area.setRangeText(tag, start, end, "end");
      changed(area);
      return;
    }
    var swap = e.target.closest("[data-use-lookalikes]");
    if (swap) {
      var box = swap.closest("[data-lookalikes]");
      var map = JSON.parse(box.dataset.lookalikes || "{}");
      var text = area.value;
      Object.keys(map).forEach(function (ch) { text = text.split(ch).join(map[ch]); });
      area.value = text;
      changed(area);
    }
  });
})();
