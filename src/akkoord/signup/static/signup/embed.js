/* Akkoord sign-up embed. Usage on any website:
 * (example.org stands for the address of your own Akkoord install.)
 *   <div data-akkoord-form="https://example.org/f/KEY/"><a href="https://example.org/f/KEY/">Sign up</a></div>
 *   <script src="https://example.org/static/signup/embed.js" defer></script>
 * Loads the form from Akkoord, posts it to Akkoord, shows the answer in place.
 * No cookies, no third parties. Without JavaScript the link stays.
 */
(function () {
  "use strict";

  function clearErrors(form) {
    var boxes = form.querySelectorAll("[data-error-for]");
    for (var i = 0; i < boxes.length; i++) { boxes[i].textContent = ""; }
    var marked = form.querySelectorAll("[aria-invalid]");
    for (var j = 0; j < marked.length; j++) { marked[j].removeAttribute("aria-invalid"); }
  }

  function say(status, text, isError) {
    status.textContent = "";
    var p = document.createElement("p");
    p.className = isError ? "msg error" : "msg success";
    p.textContent = text;
    status.appendChild(p);
    status.focus();
  }

  function showErrors(form, errors) {
    Object.keys(errors || {}).forEach(function (name) {
      var box = form.querySelector('[data-error-for="' + name + '"]');
      if (!box) { return; }
      errors[name].forEach(function (message) {
        var p = document.createElement("p");
        p.textContent = message;
        box.appendChild(p);
      });
      var input = form.querySelector('[name="' + name + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); }
    });
  }

  function wire(box) {
    var form = box.querySelector("form[data-akkoord-signup]");
    if (!form) { return; }
    var status = form.querySelector("[data-akkoord-status]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("_js", "1");
      data.set("page_url", window.location.href);
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      fetch(form.action, { method: "POST", body: data, credentials: "omit", mode: "cors" })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          clearErrors(form);
          if (answer.ok) {
            var done = document.createElement("div");
            done.setAttribute("role", "status");
            done.setAttribute("tabindex", "-1");
            done.className = "akkoord-signup-done";
            done.textContent = answer.message;
            box.textContent = "";
            box.appendChild(done);
            done.focus();
            return;
          }
          showErrors(form, answer.errors);
          say(status, answer.message, true);
        })
        .catch(function () {
          say(status, form.getAttribute("data-network-error") || "Network error. Please try again.", true);
        })
        .then(function () { if (button) { button.disabled = false; } });
    });
  }

  function load(box) {
    var url = box.getAttribute("data-akkoord-form");
    if (!url) { return; }
    if (url.charAt(url.length - 1) !== "/") { url += "/"; }
    fetch(url + "embed/", { credentials: "omit", mode: "cors" })
      .then(function (response) {
        if (!response.ok) { throw new Error("form unavailable"); }
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        wire(box);
      })
      .catch(function () { /* keep the fallback link */ });
  }

  function start() {
    var boxes = document.querySelectorAll("[data-akkoord-form]");
    for (var i = 0; i < boxes.length; i++) { load(boxes[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
