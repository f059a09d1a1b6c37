// The console's only script besides htmx (the Content-Security-Policy allows no inline script).

// Every htmx request carries the CSRF token of the page (the server refuses a POST without it).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});

document.addEventListener("DOMContentLoaded", function () {
  // A field that, once changed, ticks the choice it belongs to (the intake form's "other day" date).
  document.querySelectorAll("[data-checks]").forEach(function (field) {
    field.addEventListener("change", function () {
      var choice = document.getElementById(field.dataset.checks);
      if (choice) { choice.checked = true; }
    });
  });
  // A form that asks first (cancelling a job): the browser's confirm, no inline handler.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
  // The reports' bars: a width set from the script, as the policy refuses style attributes.
  document.querySelectorAll(".bar[data-width]").forEach(function (bar) {
    bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.width) || 0)) + "%";
  });
});

// ---- The keyboard (the help overlay, key ?, lists the keys; console/_keyboard.html) --------------
// Templates mark what a key does with data-key: a form is submitted, a field is focused, a button is
// pressed. No shortcut fires while the agent types in a field, but Escape (leave it) and Ctrl+Enter
// (submit its form), so a reply can never be sent or a ticket resolved by a stray letter.
(function () {
  function typing(element) {
    return !!element && (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }
  function visible(element) { return element && element.offsetParent !== null; }
  function help() { return document.getElementById("keys-help"); }
  function focusHome() {
    var home = document.querySelector("[data-focus-home]") || document.querySelector("[data-focus-first]");
    if (home) { home.focus(); } else if (document.activeElement) { document.activeElement.blur(); }
  }
  function toggleHelp() {
    var overlay = help();
    if (!overlay) { return; }
    overlay.hidden = !overlay.hidden;
    if (overlay.hidden) { focusHome(); } else { overlay.focus(); }
  }
  function submit(form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }
  function act(target) {
    if (target.tagName === "FORM") { submit(target); return; }
    if (typing(target)) { target.focus(); if (target.select && target.tagName === "INPUT") { target.select(); } return; }
    target.click();
  }
  function insertCanned(number) {
    var button = document.querySelector('[data-canned="' + number + '"]');
    var box = document.getElementById("reply-text");
    if (!button || !box) { return false; }
    var start = box.selectionStart === undefined ? box.value.length : box.selectionStart;
    var end = box.selectionEnd === undefined ? box.value.length : box.selectionEnd;
    if (document.activeElement !== box) { start = end = box.value.length; }
    box.value = box.value.slice(0, start) + button.dataset.text + box.value.slice(end);
    box.focus();
    box.selectionStart = box.selectionEnd = start + button.dataset.text.length;
    return true;
  }

  // The queue: j/k move between rows (the focus is on a row's summary link, Enter opens it), c claims
  // the row in focus. The rows are redrawn by polling, so the focused row is found again after a swap.
  function rowLink(row) { return row.querySelector('a[href$="/tickets/' + row.dataset.ticket + '"]:not(.button)'); }
  function rowLinks() {
    return Array.prototype.map.call(document.querySelectorAll("#queue-rows tr[data-ticket]"), rowLink).filter(Boolean);
  }
  function moveInQueue(step) {
    var links = rowLinks();
    if (!links.length) { return false; }
    var at = links.indexOf(document.activeElement);
    links[Math.max(0, Math.min(links.length - 1, at < 0 ? 0 : at + step))].focus();
    return true;
  }
  function claimFocusedRow() {
    var row = document.activeElement && document.activeElement.closest ? document.activeElement.closest("tr[data-ticket]") : null;
    var form = row ? row.querySelector("form.claim") : null;
    if (form) { submit(form); }
    return !!form;
  }
  var focusedTicket = null;
  document.addEventListener("htmx:beforeSwap", function () {
    var row = document.activeElement && document.activeElement.closest ? document.activeElement.closest("#queue-rows tr[data-ticket]") : null;
    focusedTicket = row ? row.dataset.ticket : null;
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (!focusedTicket) { return; }
    var row = document.querySelector('#queue-rows tr[data-ticket="' + focusedTicket + '"]');
    var link = row ? rowLink(row) : null;
    if (link) { link.focus(); } else { moveInQueue(0); }
    focusedTicket = null;
  });

  document.addEventListener("keydown", function (event) {
    // A Chinese input method's Enter picks the characters being composed: it is not ours.
    if (event.isComposing || event.keyCode === 229) { return; }
    var here = document.activeElement;
    var overlay = help();
    if (event.key === "Escape") {
      if (overlay && !overlay.hidden) { toggleHelp(); event.preventDefault(); return; }
      if (typing(here)) { here.blur(); focusHome(); event.preventDefault(); }
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && here && here.form) {
      event.preventDefault();
      submit(here.form);
      return;
    }
    if (event.key === "Enter" && here && here.hasAttribute("data-submit-on-enter") && here.form) {
      event.preventDefault();
      submit(here.form);
      return;
    }
    var digit = /^Digit([1-9])$/.exec(event.code || "");
    if (event.altKey && !event.ctrlKey && digit) {
      if (insertCanned(digit[1])) { event.preventDefault(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(here)) { return; }
    if (event.key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (overlay && !overlay.hidden) { return; }
    if (event.key === "/") {
      var search = document.querySelector("[data-key='/']") || document.querySelector("header input[type=search]");
      if (search) { event.preventDefault(); act(search); }
      return;
    }
    if ((event.key === "j" || event.key === "k") && moveInQueue(event.key === "j" ? 1 : -1)) {
      event.preventDefault();
      return;
    }
    if (event.key === "c" && claimFocusedRow()) { event.preventDefault(); return; }
    var targets = Array.prototype.filter.call(
      document.querySelectorAll("[data-key]"),
      function (element) { return element.dataset.key === event.key && (element.tagName === "FORM" || visible(element)); }
    );
    if (targets.length) { event.preventDefault(); act(targets[0]); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-canned]").forEach(function (button) {
      button.addEventListener("click", function () { insertCanned(button.dataset.canned); });
    });
    var first = document.querySelector("[data-focus-first]");
    if (first && !typing(document.activeElement)) { first.focus(); }
  });
})();

// ---- Wait timers (console/tickets/_wait.html) -------------------------------------------------
// The page says how many seconds a ticket had waited when it was drawn; the timer counts on from the
// moment the browser first saw it (performance.now, immune to a wrong PC clock), in the page's words.
(function () {
  function words(name, fields) {
    var meta = document.querySelector('meta[name="wait-formats"]');
    var text = meta ? meta.dataset[name] || "" : "";
    Object.keys(fields).forEach(function (key) { text = text.split("{" + key + "}").join(String(fields[key])); });
    return text;
  }
  function shown(seconds) {
    var minutes = Math.floor(seconds / 60), days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60);
    if (days) { return words("daysHours", { days: days, hours: hours }); }
    if (hours) { return words("hoursMinutes", { hours: hours, minutes: minutes % 60 }); }
    return words("minutes", { minutes: minutes });
  }
  function tick() {
    var now = performance.now();
    document.querySelectorAll(".wait[data-running]").forEach(function (timer) {
      if (!timer.dataset.seenAt) { timer.dataset.seenAt = String(now); }
      var seconds = Number(timer.dataset.wait) + (now - Number(timer.dataset.seenAt)) / 1000;
      var target = Number(timer.dataset.target), near = Number(timer.dataset.near);
      var state = seconds >= target ? "late" : seconds >= near * target ? "near" : "ok";
      timer.classList.remove("wait-ok", "wait-near", "wait-late");
      timer.classList.add("wait-" + state);
      var text = shown(seconds);
      if (text && timer.textContent !== text) { timer.textContent = text; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); window.setInterval(tick, 1000); });
  document.addEventListener("htmx:afterSwap", tick);  // the queue's rows are redrawn every few seconds
})();
