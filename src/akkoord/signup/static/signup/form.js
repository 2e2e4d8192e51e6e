/* Akkoord hosted sign-up page: record the page address and announce errors. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-akkoord-signup]");
  if (!form) { return; }
  var page = form.querySelector("input[name=page_url]");
  if (page) { page.value = window.location.href; }
  var status = form.querySelector("[data-akkoord-status]");
  var invalid = form.querySelector("[aria-invalid=true]");
  if (status && status.textContent.trim()) { status.focus(); }
  else if (invalid) { invalid.focus(); }
})();
