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

  // A box that opens with the last search in it has it selected, so the
  // next scan or search replaces it instead of being added to its end.
  var opening = document.activeElement;
  if (!invalid && opening && opening.matches && opening.matches("input[type=text][autofocus], input[type=search][autofocus]") && opening.value) {
    opening.select();
  }

  // A link in the error summary focuses its field and shows its label,
  // instead of only scrolling the field to the top edge.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest('.error-summary a[href^="#"]');
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var label = document.querySelector('label[for="' + field.id + '"]');
    (label || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });

  // ---- The desk: scans without a full reload -------------------------------
  //
  // A form marked data-fragment="ID" is sent in the background; the answer
  // (the part of the page that changed, rendered by the server) replaces the
  // element ID, or with data-mode="prepend" goes on top of it. Sends go one at
  // a time, in the order scanned. Each carries a request id; when Lectern
  // cannot be reached, answers too slowly, or the session ended, the send
  // stays at the head of the queue and is tried again with the same id, so
  // nothing is lent or returned twice, and what was scanned meanwhile waits
  // behind it.

  var connection = document.getElementById("connection");
  var queue = [];
  var sending = false;
  var retryDelay = 0;
  var recovering = false;
  var SLOW_MS = 2500;
  var GIVE_UP_MS = 20000;

  function text(id) {
    var holder = document.querySelector("[data-text-" + id + "]");
    return holder ? holder.getAttribute("data-text-" + id) : "";
  }

  function say(message, kind) {
    if (!connection) { return; }
    connection.textContent = message;
    connection.className = "connection" + (kind ? " connection-" + kind : "");
    connection.hidden = !message;
  }

  function newRequestId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function scanBox() {
    return document.querySelector("[data-scan-box]");
  }

  function focusNext(scope) {
    var wanted = scope && scope.querySelector && scope.querySelector("[data-autofocus]");
    var box = wanted || scanBox();
    if (box) { box.focus(); }
  }

  function showPending() {
    var list = document.getElementById("pending");
    if (!list) { return; }
    list.replaceChildren();
    queue.forEach(function (item) {
      if (!item.label) { return; }
      var li = document.createElement("li");
      li.textContent = item.label;
      list.appendChild(li);
    });
    list.hidden = list.children.length === 0;
  }

  // Short tones, made on the spot (no sound files): one high for yes, two
  // low for no. Browsers allow sound after a key press, which a scan is.
  var audio = null;
  function tone(outcome) {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      var beeps = outcome === "ok" ? [[880, 0, 0.12]] : [[220, 0, 0.15], [220, 0.22, 0.15]];
      beeps.forEach(function (beep) {
        var oscillator = audio.createOscillator();
        var gain = audio.createGain();
        oscillator.type = outcome === "ok" ? "sine" : "square";
        oscillator.frequency.value = beep[0];
        gain.gain.value = 0.08;
        oscillator.connect(gain).connect(audio.destination);
        oscillator.start(audio.currentTime + beep[1]);
        oscillator.stop(audio.currentTime + beep[1] + beep[2]);
      });
    } catch (ignored) { /* no sound is no loss */ }
  }

  function parse(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fragment = document.createDocumentFragment();
    Array.prototype.slice.call(doc.body.childNodes).forEach(function (node) {
      fragment.appendChild(document.importNode(node, true));
    });
    return fragment;
  }

  function place(item, html) {
    var target = document.getElementById(item.target);
    if (!target) { return null; }
    var fragment = parse(html);
    var first = fragment.firstElementChild;
    if (item.mode === "prepend") {
      target.insertBefore(fragment, target.firstChild);
    } else {
      target.replaceChildren(fragment);
      first = target;
    }
    var outcome = first && (first.matches && first.matches("[data-outcome]") ? first : first.querySelector("[data-outcome]"));
    if (outcome) { tone(outcome.getAttribute("data-outcome")); }
    // The page's address follows what is shown (the reader at the desk), so
    // a reload or a language switch comes back to it.
    var here = first && first.querySelector && first.querySelector("[data-here]");
    if (here && window.history && history.replaceState) {
      var path = here.getAttribute("data-here");
      history.replaceState(null, "", path);
      document.querySelectorAll('input[name="back"]').forEach(function (input) { input.value = path; });
    }
    return first;
  }

  function refreshCsrf() {
    return fetch("/csrf", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body || !body.token) { return false; }
        csrfToken = body.token;
        if (meta) { meta.setAttribute("content", csrfToken); }
        document.querySelectorAll('input[name="csrf"]').forEach(function (input) { input.value = csrfToken; });
        queue.forEach(function (item) { if (item.body) { item.body.set("csrf", csrfToken); } });
        return true;
      })
      .catch(function () { return false; });
  }

  function later() {
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 1000, 8000);
    setTimeout(pump, retryDelay);
  }

  function pump() {
    if (sending || queue.length === 0) { return; }
    var item = queue[0];
    sending = true;
    if (!item.body) {
      // What was typed is as it was when scanned; the reader it goes to is
      // the one in view when it is sent (the hidden inputs that belong to
      // the form from outside it), so a book scanned while the reader's
      // card was still on its way goes to that reader. Kept for retries.
      item.body = new URLSearchParams();
      item.fields.forEach(function (pair) { item.body.append(pair[0], pair[1]); });
      document.querySelectorAll('input[type="hidden"][form="' + item.form + '"]').forEach(function (input) {
        item.body.set(input.name, input.value);
      });
      item.body.set("request_id", item.requestId);
    }
    var controller = window.AbortController ? new AbortController() : null;
    var slow = setTimeout(function () { say(text("slow"), "slow"); }, SLOW_MS);
    var giveUp = setTimeout(function () { if (controller) { controller.abort(); } }, GIVE_UP_MS);
    fetch(item.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-Lectern-Fragment": "1", "Content-Type": "application/x-www-form-urlencoded" },
      body: item.body.toString(),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.text().then(function (html) { return { response: response, html: html }; });
    }).then(function (answer) {
      clearTimeout(slow);
      clearTimeout(giveUp);
      sending = false;
      var status = answer.response.status;
      if (status === 401) {
        // Signed out elsewhere: say so, keep everything, and try again
        // once the librarian has signed in (in another tab).
        say("", "");
        if (connection) { connection.replaceChildren(parse(answer.html)); connection.hidden = false; }
        tone("refused");
        later();
        return;
      }
      if (status === 403 && !item.csrfRefreshed) {
        item.csrfRefreshed = true;
        refreshCsrf().then(pump);
        return;
      }
      if (status === 502 || status === 503 || status === 504) {
        say(text("offline"), "offline");
        later();
        return;
      }
      queue.shift();
      if (retryDelay > 0) { recovering = true; }
      retryDelay = 0;
      // "Back again" stays until everything kept has been sent.
      if (recovering && queue.length === 0) {
        say(text("back"), "back");
        recovering = false;
      } else if (!recovering) {
        say("", "");
      }
      var placed = place(item, answer.html);
      showPending();
      if (queue.length === 0) { focusNext(placed); }
      pump();
    }).catch(function () {
      clearTimeout(slow);
      clearTimeout(giveUp);
      sending = false;
      say(text("offline"), "offline");
      showPending();
      later();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var target = form.getAttribute("data-fragment");
    if (!target || !window.fetch || !window.URLSearchParams) { return; }
    event.preventDefault();
    var fields = [];
    new FormData(form).forEach(function (value, name) { fields.push([name, value]); });
    var submitter = event.submitter;
    if (submitter && submitter.name) { fields.push([submitter.name, submitter.value]); }
    var box = form.querySelector("[data-scan-box]");
    var label = "";
    if (box) {
      label = box.value.trim();
      if (!label) { box.focus(); return; }
      box.value = "";
      // Options such as "damaged" are for one book only.
      form.querySelectorAll("[data-reset-after]").forEach(function (input) {
        if (input.type === "checkbox") { input.checked = false; } else { input.value = ""; }
      });
    }
    if (!form.id) { form.id = "form-" + newRequestId(); }
    queue.push({
      form: form.id,
      action: form.getAttribute("action"),
      target: target,
      mode: form.getAttribute("data-mode") || "replace",
      fields: fields,
      label: label,
      requestId: newRequestId(),
      body: null
    });
    showPending();
    pump();
    if (box) { box.focus(); }
  });

  // Esc clears the scan box and puts the focus back in it, from anywhere.
  // F2 on the returns screen marks the next book as damaged.
  document.addEventListener("keydown", function (event) {
    var box = scanBox();
    if (!box) { return; }
    if (event.key === "Escape") {
      box.value = "";
      box.focus();
      event.preventDefault();
    } else if (event.key === "F2") {
      var damaged = document.querySelector("[data-damaged-toggle]");
      if (damaged) {
        damaged.checked = !damaged.checked;
        damaged.dispatchEvent(new Event("change", { bubbles: true }));
        box.focus();
        event.preventDefault();
      }
    }
  });

  // Buttons that print the page (receipts, slips, lists).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (!button) { return; }
    event.preventDefault();
    window.print();
  });
}());
