// Live progress on the campaign page: poll the progress endpoint while sending.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) { return; }
  var label = document.getElementById("status-label");
  var stalled = document.getElementById("stalled");
  function update() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        box.querySelectorAll("[data-field]").forEach(function (element) {
          var value = data[element.dataset.field];
          element.textContent = value === "" || value === null ? "–" : value;
        });
        if (label) { label.textContent = data.status_label; }
        if (stalled) { stalled.textContent = data.stalled; stalled.hidden = !data.stalled; }
        if (data.status === "sending" || data.status === "scheduled") { setTimeout(update, 3000); }
      });
  }
  setTimeout(update, 3000);
})();
