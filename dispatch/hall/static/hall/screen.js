// The hall's big screen: polls its JSON, pages through long lists, runs the clock.
// Every word comes from the server (the page and the JSON carry both languages); this file has none.
// A failed poll keeps the list shown and raises the "reconnecting" notice; the next good one lowers it.
(function () {
  "use strict";

  var body = document.body;
  var jsonUrl = body.dataset.json;
  var pollMs = Number(body.dataset.pollSeconds) * 1000;
  var rotateMs = Number(body.dataset.rotateSeconds) * 1000;
  var perPage = Number(body.dataset.rowsPerPage);
  var zone = body.dataset.zone;

  var rows = document.getElementById("rows");
  var template = document.getElementById("row-template");
  var jobs = null; // null until the first good poll: the server's first page stays until then
  var page = 0;

  function pageCount() {
    return Math.max(1, Math.ceil((jobs ? jobs.length : 0) / perPage));
  }

  function fill(row, job) {
    row.dataset.code = job.code;
    row.querySelectorAll("[data-field]").forEach(function (cell) {
      var name = cell.dataset.field;
      if (name === "code") {
        cell.textContent = job.code;
      } else {
        var parts = name.split(".");
        cell.textContent = (job.text[parts[0]] || {})[parts[1]] || "";
      }
    });
    return row;
  }

  function render() {
    if (jobs === null) {
      return;
    }
    var pages = pageCount();
    if (page >= pages) {
      page = 0;
    }
    var shown = jobs.slice(page * perPage, (page + 1) * perPage);
    var fresh = document.createDocumentFragment();
    shown.forEach(function (job) {
      fresh.appendChild(fill(template.content.firstElementChild.cloneNode(true), job));
    });
    rows.replaceChildren(fresh);
    document.getElementById("count").textContent = String(jobs.length);
    document.getElementById("page-number").textContent = String(page + 1);
    document.getElementById("page-count").textContent = String(pages);
    document.getElementById("empty").hidden = jobs.length > 0;
  }

  function showStale(stale) {
    document.getElementById("stale").hidden = !stale;
  }

  function poll() {
    // no-cache: the browser asks again each time, with the ETag; a 304 gives back the body it kept.
    fetch(jsonUrl, { cache: "no-cache", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (body.dataset.reloadWhenBack && response.status === 404) {
          window.location.reload(); // the database is back, and says there is no such site
        }
        if (!response.ok) {
          throw new Error("screen poll: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (body.dataset.reloadWhenBack && !data.stale) {
          // Opened while the database was away: the page itself (the site's name) comes now.
          window.location.reload();
          return;
        }
        jobs = data.jobs;
        showStale(Boolean(data.stale));
        render();
      })
      .catch(function () {
        showStale(true); // keep the last list
      })
      .finally(function () {
        window.setTimeout(poll, pollMs);
      });
  }

  function rotate() {
    if (jobs !== null && pageCount() > 1) {
      page = (page + 1) % pageCount();
      render();
    }
  }

  var timeFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false,
  });
  var dateFormat = new Intl.DateTimeFormat("zh-CN", {
    timeZone: zone, month: "long", day: "numeric", weekday: "long",
  });
  var dateFormatEn = new Intl.DateTimeFormat("en-GB", {
    timeZone: zone, weekday: "long", day: "numeric", month: "long",
  });

  function tick() {
    var now = new Date();
    document.getElementById("clock-time").textContent = timeFormat.format(now);
    document.getElementById("clock-date").textContent = dateFormat.format(now);
    document.getElementById("clock-date-en").textContent = dateFormatEn.format(now);
  }

  tick();
  window.setInterval(tick, 1000);
  window.setInterval(rotate, rotateMs);
  poll();
})();
