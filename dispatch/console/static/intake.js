// The intake forms' helpers (loaded by those pages only; no inline script under the CSP).
(function () {
  "use strict";

  // ---- The site picker's filter: narrow the select by the IVR's number (8, 8-2) or by a name ---------
  function normal(text) {
    return (text || "").normalize("NFKC").trim().toLowerCase().replace(/\s*[#*\-\s]\s*/g, "-");
  }
  // How well an option fits what was typed: 3 its exact number, 2 its town's number (the town's
  // villages), 1 a name containing the text, 0 not at all.
  function fit(option, typed) {
    var key = option.dataset.key || "";
    if (!typed) { return 1; }
    if (key && key === typed) { return 3; }
    if (/^\d+$/.test(typed)) { return key.split("-")[0] === typed ? 2 : 0; }
    var names = (option.dataset.search || "") + " " + option.textContent.toLowerCase();
    return names.indexOf(typed.replace(/-/g, " ")) >= 0 || names.indexOf(typed) >= 0 ? 1 : 0;
  }
  function filterSites(input, select) {
    var typed = normal(input.value);
    var best = null, bestFit = 0;
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) { return; }
      var score = fit(option, typed);
      option.hidden = score === 0;
      if (score > bestFit) { best = option; bestFit = score; }
    });
    Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
      group.hidden = !Array.prototype.some.call(group.children, function (option) { return !option.hidden; });
    });
    if (typed && best) {
      select.value = best.value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  function nextField(element) {
    var fields = Array.prototype.filter.call(element.form.elements, function (field) {
      return !field.hidden && !field.disabled && field.type !== "hidden";
    });
    return fields[fields.indexOf(element) + 1];
  }
  function setUpSiteFilter(input) {
    var select = document.getElementById(input.dataset.siteFilter);
    if (!select) { return; }
    input.hidden = false;
    input.addEventListener("input", function () { filterSites(input, select); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  // the choice is made: on to the field after the list, no submit
        event.preventDefault();
        var next = nextField(select);
        if (next) { next.focus(); }
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        select.focus();
      } else if (event.key === "Escape" && input.value) {
        event.stopPropagation();
        input.value = "";
        filterSites(input, select);
      }
    });
  }

  // ---- A known employer's site and address, filled after the phone lookup (unless typed already) ---
  function touched(field) { return field.dataset.touched === "1"; }
  function fillFromCard(card) {
    var form = card.closest("form");
    if (!form) { return; }
    var site = form.querySelector('select[name="site"]');
    var address = form.querySelector('input[name="address"]');
    if (site && card.dataset.site && !touched(site) && !site.value) {
      site.value = card.dataset.site;
    }
    if (address && card.dataset.address && !touched(address) && !address.value) {
      address.value = card.dataset.address;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-site-filter]").forEach(setUpSiteFilter);
    document.querySelectorAll('.intake-form select[name="site"], .intake-form input[name="address"]')
      .forEach(function (field) {
        // The agent's own choice is never overwritten by a later lookup.
        field.addEventListener("input", function (event) {
          if (event.isTrusted) { field.dataset.touched = "1"; }
        });
      });
  });
  document.addEventListener("htmx:afterSettle", function () {
    var card = document.getElementById("employer-card");
    if (card) { fillFromCard(card); }
  });
})();
