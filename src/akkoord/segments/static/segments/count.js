// Live count while editing a segment: posts the conditions (debounced) and shows the number.
(function () {
  "use strict";
  var form = document.querySelector("form[data-count-url]");
  if (!form) return;
  var area = form.querySelector("textarea[name=definition]");
  var out = document.getElementById("segment-count");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  function update() {
    fetch(form.dataset.countUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: area.value,
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        out.textContent = data.error ? data.error : "= " + data.count;
      })
      .catch(function () {});
  }
  area.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  });
})();
