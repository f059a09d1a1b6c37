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
