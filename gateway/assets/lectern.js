// Lectern: small progressive enhancement. Every page works without it.
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") || "" : "";

  // JSON calls to the gateway with the page's session cookie; the CSRF token
  // travels in a header, as the gateway asks of cookie-authenticated calls.
  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": csrfToken
      },
      body: JSON.stringify(body === undefined ? {} : body)
    });
  }

  window.lectern = { post: post, csrfToken: function () { return csrfToken; } };

  // After a refused form, the first field with an error has the focus
  // (autofocus does not always take, e.g. after the back button).
  var invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid && document.activeElement !== invalid) {
    invalid.focus();
  }

  // A link in the error summary focuses its field and shows its label,
  // instead of only scrolling the field to the top edge.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest('a[href^="#"]');
      if (!link) { return; }
      var field = document.getElementById(link.getAttribute("href").slice(1));
      if (!field) { return; }
      event.preventDefault();
      var label = document.querySelector('label[for="' + field.id + '"]');
      (label || field).scrollIntoView();
      field.focus({ preventScroll: true });
    });
  }
}());
