// Herald's enrollment widget. A customer embeds it as
//   <script src="https://herald.example.com/enroll/widget.js" data-program="prg_…"></script>
// and it draws the program's sign-up form right after the script tag. The
// form comes from the server as HTML (the same as the hosted page's), and
// is posted with fetch, without cookies, as a form body so that no CORS
// preflight is needed. Errors come back as JSON and are shown next to their
// fields, linked with aria-describedby, and focus moves to the first one.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var program = script.getAttribute("data-program") || "";
  if (!/^prg_[0-9a-z]{26}$/.test(program)) {
    if (window.console) {
      console.error("Herald enrollment widget: data-program must be a program id such as prg_01…");
    }
    return;
  }
  var base = script.src.replace(/widget\.js(\?.*)?$/, "");
  var endpoint = base + program;
  var mount = document.createElement("div");
  script.parentNode.insertBefore(mount, script.nextSibling);
  if (!document.querySelector("link[data-herald-enroll]")) {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "enroll.css";
    css.setAttribute("data-herald-enroll", "");
    document.head.appendChild(css);
  }

  function byId(id) {
    return mount.querySelector("#" + id);
  }

  function load(notice) {
    fetch(endpoint + "/form", { credentials: "omit" })
      .then(function (res) {
        if (!res.ok) {
          throw new Error("status " + res.status);
        }
        return res.text();
      })
      .then(function (html) {
        mount.innerHTML = html; // Herald's own markup, escaped by its templates
        wire(notice);
      })
      .catch(function () {
        mount.textContent = "The sign-up form could not be loaded. Please try again later.";
      });
  }

  function showAlert(text) {
    var alert = byId("he-alert");
    alert.textContent = text;
    alert.hidden = false;
  }

  function clearErrors(form) {
    byId("he-alert").hidden = true;
    var inputs = form.querySelectorAll("input[aria-invalid]");
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].removeAttribute("aria-invalid");
      var hint = byId(inputs[i].id + "-hint");
      if (hint) {
        inputs[i].setAttribute("aria-describedby", hint.id);
      } else {
        inputs[i].removeAttribute("aria-describedby");
      }
    }
    var errs = form.querySelectorAll(".he-error");
    for (var j = 0; j < errs.length; j++) {
      errs[j].hidden = true;
      errs[j].textContent = "";
    }
  }

  function showErrors(form, err) {
    var list = (err.detail && err.detail.errors) || (err.field ? [err] : []);
    var first = null;
    for (var i = 0; i < list.length; i++) {
      var input = byId("he-" + list[i].field);
      var msg = byId("he-" + list[i].field + "-error");
      if (!input || !msg) {
        continue;
      }
      msg.textContent = list[i].message;
      msg.hidden = false;
      input.setAttribute("aria-invalid", "true");
      var hint = byId(input.id + "-hint");
      input.setAttribute("aria-describedby", (hint ? hint.id + " " : "") + msg.id);
      first = first || input;
    }
    if (first) {
      first.focus();
      return;
    }
    showAlert(err.message || "Something went wrong. Please try again.");
    byId("he-alert").focus();
  }

  function done(message) {
    var box = document.createElement("div");
    box.className = "he-result";
    box.id = "he-result";
    box.setAttribute("role", "status");
    box.tabIndex = -1;
    var p = document.createElement("p");
    p.textContent = message;
    box.appendChild(p);
    var form = mount.querySelector("form");
    form.parentNode.replaceChild(box, form);
    box.focus();
  }

  function wire(notice) {
    var form = mount.querySelector("form");
    if (!form) {
      return;
    }
    form.action = endpoint;
    byId("he-alert").tabIndex = -1;
    if (notice) {
      showAlert(notice);
    }
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearErrors(form);
      var body = new URLSearchParams(new FormData(form));
      body.set("page", window.location.href);
      button.disabled = true;
      fetch(endpoint, { method: "POST", body: body, credentials: "omit", headers: { Accept: "application/json" } })
        .then(function (res) {
          return res.json().then(function (data) {
            return { ok: res.ok, data: data };
          });
        })
        .then(function (r) {
          if (r.ok) {
            done(r.data.message);
            return;
          }
          var err = r.data.error || {};
          if (err.code === "disclosure_changed") {
            load(err.message); // show the new wording before asking again
            return;
          }
          showErrors(form, err);
        })
        .catch(function () {
          showAlert("The form could not be sent. Check your connection and try again.");
        })
        .then(function () {
          button.disabled = false;
        });
    });
  }

  load("");
})();
