// The kiosk's script. The kiosk works without it (every screen is a form
// the server answers); this only makes it quicker and kinder:
// - forms marked data-kiosk-form are sent in the background and the
//   answer replaces the screen (in return mode, goes on top of the list),
//   so the scanner never waits for a page load, and scans made while one
//   is on its way are sent after it, each with a request id of its own;
// - the PIN pad types into the PIN box;
// - a yes plays a rising "ding-ding", a no a low "buzz" (WebAudio, no files);
// - the idle timer: after the limit (body data-idle, seconds) with no tap
//   or key, a signed-in reader is signed out (a warning shows for the last
//   seconds) and any other screen goes back to the start; a tap tells the
//   server too, which keeps its own clock of the reader's last action.
(function () {
  "use strict";

  var lastActive = Date.now();
  var lastPing = Date.now();
  var queue = [];
  var busy = false;
  var audio = null;

  function body() { return document.body; }
  function idleLimit() { return (parseInt(body().getAttribute("data-idle"), 10) || 30) * 1000; }
  function signedIn() { return body().hasAttribute("data-signed-in"); }
  function screen() { return body().getAttribute("data-screen") || ""; }
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // A request id (UUID v4 form) from getRandomValues, which works on a
  // school network's plain-HTTP address too.
  function newRequestId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // Sounds: yes rises, no is low and rough; different in shape, not only pitch.
  function tone(context, frequency, start, length, type, volume) {
    var oscillator = context.createOscillator();
    var gain = context.createGain();
    oscillator.type = type;
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, context.currentTime + start);
    gain.gain.exponentialRampToValueAtTime(volume, context.currentTime + start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, context.currentTime + start + length);
    oscillator.connect(gain);
    gain.connect(context.destination);
    oscillator.start(context.currentTime + start);
    oscillator.stop(context.currentTime + start + length + 0.05);
  }

  function play(kind) {
    body().setAttribute("data-sound", kind);
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") { audio.resume(); }
      if (kind === "yes") {
        tone(audio, 660, 0, 0.14, "sine", 0.3);
        tone(audio, 990, 0.15, 0.22, "sine", 0.3);
      } else {
        tone(audio, 180, 0, 0.22, "square", 0.15);
        tone(audio, 140, 0.26, 0.32, "square", 0.15);
      }
    } catch (error) {
      // No sound device: the screen still says yes or no.
    }
  }

  function playOutcome(root) {
    var outcome = root.querySelector("[data-outcome]");
    if (outcome) { play(outcome.getAttribute("data-outcome")); }
  }

  // The screen is ready: focus the box, show the pad, print button.
  function ready() {
    var box = document.querySelector("[data-scan], [data-pin]");
    if (box) { box.focus(); }
    var pad = document.querySelector("[data-pad]");
    if (pad) {
      pad.hidden = false;
      pad.closest("form").classList.add("has-pad");
    }
    var print = document.querySelector("[data-print]");
    if (print) { print.hidden = false; }
  }

  function pathOf(name) { return name === "returns" ? "/kiosk/returns" : "/kiosk"; }

  // Puts the answer on screen: in return mode on top of the list, else the
  // whole screen.
  function show(html, prepend) {
    var next = new DOMParser().parseFromString(html, "text/html");
    if (!next.body || !next.body.classList.contains("kiosk")) {
      window.location.assign(pathOf(screen()));
      return;
    }
    var list = document.getElementById("kiosk-return-list");
    var nextList = next.getElementById("kiosk-return-list");
    if (prepend && list && nextList && next.body.getAttribute("data-screen") === screen()) {
      var items = Array.prototype.slice.call(nextList.children);
      for (var i = items.length - 1; i >= 0; i--) { list.insertBefore(document.adoptNode(items[i]), list.firstChild); }
      while (list.children.length > 8) { list.removeChild(list.lastChild); }
      var box = document.querySelector("[data-scan]");
      if (box) { box.value = ""; box.focus(); }
      if (items.length) { playOutcome(items[0]); }
      return;
    }
    document.title = next.title;
    document.documentElement.setAttribute("lang", next.documentElement.getAttribute("lang") || "zh-CN");
    var meta = next.querySelector('meta[name="csrf-token"]');
    var ours = document.querySelector('meta[name="csrf-token"]');
    if (meta && ours) { ours.setAttribute("content", meta.getAttribute("content")); }
    document.body.replaceWith(document.adoptNode(next.body));
    window.history.replaceState(null, "", pathOf(screen()));
    lastActive = Date.now();
    ready();
    playOutcome(document.getElementById("kiosk-main") || document);
  }

  function send(item, attempt) {
    busy = true;
    fetch(item.action, {
      method: "POST",
      body: item.data,
      credentials: "same-origin",
      headers: { "x-lectern-kiosk": "1" }
    }).then(function (response) {
      return response.text().then(function (html) {
        if (response.status >= 500 && attempt < 2) { throw new Error("server " + response.status); }
        show(html, item.prepend);
      });
    }).then(function () {
      busy = false;
      next();
    }, function () {
      if (attempt < 2) {
        // The same request id again: the server acts once.
        window.setTimeout(function () { send(item, attempt + 1); }, 1500);
      } else {
        // Give up quietly: the next screen load shows where things stand.
        busy = false;
        queue = [];
        window.location.assign(pathOf(screen()));
      }
    });
  }

  function next() {
    if (!busy && queue.length) { send(queue.shift(), 0); }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-kiosk-form") || !window.fetch || !window.DOMParser) { return; }
    event.preventDefault();
    var id = form.querySelector("[data-request-id]");
    if (id) { id.value = newRequestId(); }
    var data = new URLSearchParams(new FormData(form));
    var prepend = screen() === "returns";
    queue.push({ action: form.getAttribute("action"), data: data, prepend: prepend });
    var box = form.querySelector("[data-scan]");
    if (box && prepend) { box.value = ""; }
    if (box && !prepend && busy) { box.value = ""; }
    next();
  });

  // The PIN pad.
  document.addEventListener("click", function (event) {
    var key = event.target.closest("[data-digit], [data-clear], [data-print]");
    if (!key) { return; }
    if (key.hasAttribute("data-print")) { window.print(); return; }
    var pin = document.querySelector("[data-pin]");
    if (!pin) { return; }
    if (key.hasAttribute("data-clear")) {
      pin.value = "";
    } else if (pin.value.length < 8) {
      pin.value += key.getAttribute("data-digit");
    }
    pin.focus();
  });

  // Activity and the idle timer.
  function active() {
    lastActive = Date.now();
    var warning = document.getElementById("kiosk-still-there");
    if (warning) { warning.hidden = true; }
    if (signedIn() && Date.now() - lastPing > idleLimit() / 3) {
      lastPing = Date.now();
      fetch("/kiosk/still-here", { method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrf() } })
        .then(function (response) {
          if (response.status === 401) { window.location.assign("/kiosk?bye=idle"); }
        }, function () { /* offline: the timer still runs */ });
    }
  }
  ["pointerdown", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, active, true);
  });

  var leaving = false;
  function tick() {
    if (leaving) { return; }
    var idle = Date.now() - lastActive;
    var limit = idleLimit();
    var warnFor = Math.min(10000, Math.floor(limit / 3));
    var warning = document.getElementById("kiosk-still-there");
    if (signedIn() && warning) {
      var left = Math.ceil((limit - idle) / 1000);
      if (idle >= limit - warnFor && left > 0) {
        warning.textContent = warning.getAttribute("data-text").replace("{seconds}", String(left));
        warning.hidden = false;
      }
    }
    if (idle < limit || busy) { return; }
    if (signedIn()) {
      var form = document.getElementById("kiosk-idle-signout");
      if (form) { leaving = true; form.submit(); }
    } else if (screen() !== "welcome" && screen() !== "setup") {
      leaving = true;
      window.location.assign("/kiosk");
    } else if (body().hasAttribute("data-foreign-language")) {
      // Someone chose another language and left: the kiosk's own again.
      leaving = true;
      window.location.assign("/kiosk?bye=lang");
    } else {
      var box = document.querySelector("[data-scan]");
      if (box && box.value) { box.value = ""; }
      lastActive = Date.now();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    ready();
    playOutcome(document.getElementById("kiosk-main") || document);
    window.setInterval(tick, 250);
  });
})();
