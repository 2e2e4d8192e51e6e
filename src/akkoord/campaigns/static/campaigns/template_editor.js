// The template editor's live preview: while a marketer types, each language's
// subject, HTML and plain text are rendered by the server for a sample person
// and shown beside the fields. Without JavaScript the Preview button does the
// same with a page load.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var DELAY_MS = 350;
  var timers = {};
  var latest = {};

  function part(section, name) {
    return section.querySelector('[data-preview="' + name + '"]');
  }

  function showError(section, message) {
    var error = part(section, "error");
    error.textContent = message;
    error.hidden = false;
    section.dataset.previewState = "error";
  }

  function show(section, preview) {
    part(section, "error").hidden = true;
    part(section, "subject").textContent = preview.subject;
    // srcdoc in a frame sandboxed without scripts: the mail cannot act.
    part(section, "html").srcdoc = preview.html;
    part(section, "text").textContent = preview.text;
    section.dataset.previewState = "fresh";
  }

  function refresh(section) {
    var language = section.dataset.language;
    var data = new FormData(form);  // carries the CSRF token field
    data.set("language", language);
    var request = (latest[language] || 0) + 1;
    latest[language] = request;
    section.dataset.previewState = "loading";
    fetch(form.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (request !== latest[language]) { return; }  // a newer preview is on its way
        if (result.ok) { show(section, result.body); } else { showError(section, result.body.error); }
      })
      .catch(function () {
        if (request === latest[language]) { showError(section, form.dataset.unavailable); }
      });
  }

  form.addEventListener("input", function (event) {
    var match = /_(nl|en)$/.exec(event.target.name || "");
    if (!match) { return; }
    var section = form.querySelector('[data-language="' + match[1] + '"]');
    if (!section) { return; }
    clearTimeout(timers[match[1]]);
    timers[match[1]] = setTimeout(function () { refresh(section); }, DELAY_MS);
  });
})();
