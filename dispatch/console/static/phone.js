// The console's softphone and phone bar (dispatch/console/phone/). No inline script: the page's
// Content-Security-Policy refuses it, so everything the bar needs is in data-* attributes.
//
// The device is Twilio's Voice SDK (Twilio.Device, vendored at install) when the token endpoint says
// mode "twilio", or the simulator's window.OfflineDevice (phone_offline.js) in mode "offline". Both offer
// the subset of the Voice SDK 2.x this file uses (see docs/INTERFACE: device.connect({params}) -> call;
// call.on('accept'|'disconnect'|'cancel'|'error'); call.disconnect(); call.sendDigits(d)).
(function () {
  "use strict";

  var HEARTBEAT_MS = 30000; // under CONSOLE_IDLE_SECONDS; the server sets a silent console away
  var POLL_MS = 5000; // the bar's state (presence, callers waiting) while the page is visible
  var RETURN_BEAT_MS = 5000; // a second beat soon after load, in case the last page's beacon came late

  var bar = document.getElementById("phone-bar");
  if (!bar) { return; }
  var pop = document.getElementById("phone-pop");
  var el = function (id) { return document.getElementById(id); };
  var text = function (name) { return bar.getAttribute("data-text-" + name) || ""; };
  var csrf = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  var mode = bar.getAttribute("data-phone-mode");
  var unconfigured = mode === "unconfigured";
  var device = null; // made on first use
  var microphone = false; // allowed once (twilio mode): asked before a caller is reserved
  var current = null; // {id, call, acceptedAt, endedUrl, abandonUrl, popUrl}
  var timer = null;
  var shownPop = ""; // the pop on screen: not loaded again (the agent may be typing the note)

  // -- talking to the server ------------------------------------------------------------------------

  function signedOut(response) {
    // A console route answers a visitor without a session with a redirect to the sign-in page.
    if (response.type === "opaqueredirect" || response.status === 401) {
      say(text("signed-out"));
      return true;
    }
    return false;
  }

  function request(method, url, data) {
    var options = {
      method: method,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf() },
    };
    if (method === "POST") {
      options.body = data instanceof FormData ? data : new URLSearchParams(data || {});
    }
    return fetch(url, options).then(function (response) {
      if (signedOut(response)) { throw new Error("signed out"); }
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        if (!response.ok) { throw new Error(text("failed")); }
        return response.text().then(function (body) { return { html: body }; });
      }
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || text("failed")); }
        return body;
      });
    });
  }

  function say(message) {
    el("phone-message").textContent = message || "";
  }

  function fail(error) {
    if (error && error.message !== "signed out") { say(error.message || text("failed")); }
  }

  // -- the bar --------------------------------------------------------------------------------------

  function render(state) {
    if (!state || !state.status) { return; }
    bar.setAttribute("data-status", state.status);
    bar.className = "phone-bar phone-" + state.status;
    var status = el("phone-status");
    status.textContent = state.label;
    status.setAttribute("data-status", state.status);
    el("phone-waiting").textContent = state.status === "available" || state.status === "away" ? state.waiting_label : "";
    el("phone-available").disabled = state.status === "available" || state.status === "busy";
    el("phone-away").disabled = state.status === "away";
    // No softphone on this server ("unconfigured"): nothing to answer with.
    el("phone-next").hidden = unconfigured;
    el("phone-next").disabled = state.status === "busy" || state.status === "wrap_up" || !!current;
    // A call this page did not place (another tab's, or one a page change dropped): its pop, so the
    // agent can see it and wrap it up.
    if ((state.status === "wrap_up" || state.status === "busy") && state.pop_url && !current) { openPop(state.pop_url); }
  }

  function refresh() {
    return request("GET", bar.getAttribute("data-url-state")).then(render, fail);
  }

  function beat() {
    return request("POST", bar.getAttribute("data-url-heartbeat")).then(render, fail);
  }

  document.querySelectorAll("form[data-phone-presence]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      say("");
      request("POST", form.action, new FormData(form)).then(render, fail);
    });
  });

  // -- the device -----------------------------------------------------------------------------------

  function fetchToken() {
    return request("GET", bar.getAttribute("data-url-token"));
  }

  function makeDevice(token) {
    if (token.mode === "twilio") {
      if (!window.Twilio || !window.Twilio.Device) { return Promise.reject(new Error(text("no-sdk"))); }
      var twilioDevice = new window.Twilio.Device(token.token, { closeProtection: text("leave") });
      twilioDevice.on("tokenWillExpire", function () {
        fetchToken().then(function (fresh) { twilioDevice.updateToken(fresh.token); }, fail);
      });
      return Promise.resolve(twilioDevice);
    }
    var Offline = window.OfflineDevice;
    if (!Offline) { return Promise.reject(new Error(text("no-offline"))); }
    if (typeof Offline.create === "function") { return Promise.resolve(Offline.create(token)); }
    return Promise.resolve(new Offline(token));
  }

  function askMicrophone() {
    // Twilio's softphone needs the microphone; refused, the call could never connect: found out here,
    // before "answer next" reserves a caller who would wait for nothing.
    if (microphone || mode !== "twilio") { return Promise.resolve(); }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject(new Error(text("microphone")));
    }
    return navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      microphone = true;
    }, function () { throw new Error(text("microphone")); });
  }

  function ready() {
    // The device made (SDK there, token given) and the microphone allowed, before the server reserves
    // anyone: a softphone that cannot connect must not hold a caller.
    return getDevice().then(function (made) { return askMicrophone().then(function () { return made; }); });
  }

  function getDevice() {
    if (device) { return Promise.resolve(device); }
    return fetchToken().then(makeDevice).then(function (made) {
      device = made;
      if (typeof device.on === "function") {
        device.on("error", function (error) { fail(error instanceof Error ? error : new Error(text("failed"))); });
      }
      return device;
    });
  }

  // -- a call ---------------------------------------------------------------------------------------

  function showCall(state) {
    el("phone-call").hidden = !state;
    el("phone-call-state").textContent = state || "";
    el("phone-next").disabled = !!state;
  }

  function tick() {
    if (!current || !current.acceptedAt) { return; }
    var seconds = Math.floor((Date.now() - current.acceptedAt) / 1000);
    var rest = seconds % 60;
    el("phone-timer").textContent = Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function ended(how) {
    if (!current) { return; }
    var done = current;
    current = null;
    window.clearInterval(timer);
    showCall(null);
    say(text("ended"));
    // With Twilio the dial-status callback records the end, but only of a call Twilio was given: one
    // that never got there (the device failed) is reported as abandoned, or the caller reserved for
    // it would stay reserved. Offline, the softphone says how the call ended.
    var status = done.acceptedAt ? "completed" : how === "error" ? "failed" : "canceled";
    var told = Promise.resolve(null);
    if (mode === "offline") {
      told = request("POST", done.endedUrl, { dial_status: status });
    } else if (!done.acceptedAt && done.abandonUrl) {
      told = request("POST", done.abandonUrl);
    }
    told.then(function (state) { return state || refresh(); }, fail).then(function (state) {
      if (state) { render(state); }
      openPop(done.popUrl);
    });
  }

  function connect(answer) {
    // answer: the server's {agent_call_id, params, pop_url, ended_url}
    say("");
    current = {
      id: answer.agent_call_id,
      popUrl: answer.pop_url,
      endedUrl: answer.ended_url,
      abandonUrl: answer.abandon_url,
      acceptedAt: 0,
    };
    showCall(text("connecting"));
    el("phone-timer").textContent = "0:00";
    openPop(answer.pop_url);
    return getDevice()
      .then(function (made) { return made.connect({ params: answer.params }); })
      .then(function (call) {
        if (!current || current.id !== answer.agent_call_id) { return; }
        current.call = call;
        showCall(text("ringing"));
        call.on("accept", function () {
          current.acceptedAt = Date.now();
          showCall(text("on-call"));
          timer = window.setInterval(tick, 1000);
        });
        call.on("disconnect", function () { ended("disconnect"); });
        call.on("cancel", function () { ended("cancel"); });
        call.on("error", function () { ended("error"); });
      })
      .catch(function (error) {
        fail(error);
        ended("error");
      });
  }

  el("phone-next").addEventListener("click", function () {
    say("");
    ready().then(function () {
      return request("POST", bar.getAttribute("data-url-next"));
    }).then(function (answer) {
      if (answer.none) { say(answer.message); return null; }
      return connect(answer);
    }, fail);
  });

  el("phone-hangup").addEventListener("click", function () {
    if (current && current.call) { current.call.disconnect(); } else { ended("cancel"); }
  });

  el("phone-digits").addEventListener("input", function (event) {
    var field = event.target;
    var digits = field.value.replace(/[^0-9*#]/g, "");
    if (digits && current && current.call && typeof current.call.sendDigits === "function") {
      current.call.sendDigits(digits);
    }
    field.value = "";
  });

  // Click-to-call buttons (ticket, person and job pages, the call-back list).
  document.querySelectorAll("form[data-phone-dial]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (current) { say(""); return; }
      ready().then(function () {
        return request("POST", form.action, new FormData(form));
      }).then(connect, fail);
    });
  });

  // -- the screen pop -------------------------------------------------------------------------------

  function openPop(url) {
    if (!url || url === shownPop) { return; }
    shownPop = url;
    var part = url + (url.indexOf("?") === -1 ? "?" : "&") + "part=1";
    request("GET", part).then(function (body) {
      pop.innerHTML = body.html || "";
      pop.hidden = false;
      var form = pop.querySelector("form[data-phone-wrap]");
      if (form) { wireWrapUp(form); }
    }, fail);
  }

  function wireWrapUp(form) {
    var pressed = null;
    form.querySelectorAll("button[name=resolve]").forEach(function (button) {
      button.addEventListener("click", function () { pressed = button.value; });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      data.set("resolve", pressed || "0");
      request("POST", form.action, data).then(function (state) {
        pop.hidden = true;
        pop.innerHTML = "";
        shownPop = "";
        render(state);
        say(state.message);
      }, fail);
    });
  }

  // -- presence while the console is open ---------------------------------------------------------

  // A page closing (or left for another) says so; the next page's heartbeat undoes it (phone/away.py).
  window.addEventListener("pagehide", function () {
    if (!navigator.sendBeacon) { return; }
    var data = new FormData();
    data.append("csrf_token", csrf());
    // A call still connecting goes with the page: its reserved caller waits again (the server ends
    // only a call Twilio never had, or one not yet bridged offline).
    if (current && !current.acceptedAt && current.abandonUrl) { navigator.sendBeacon(current.abandonUrl, data); }
    navigator.sendBeacon(bar.getAttribute("data-url-left"), data);
  });
  // Leaving the page drops the call: ask first.
  window.addEventListener("beforeunload", function (event) {
    if (current) { event.preventDefault(); event.returnValue = text("leave"); }
  });

  window.setInterval(beat, HEARTBEAT_MS);
  window.setInterval(function () { if (!document.hidden) { refresh(); } }, POLL_MS);
  beat();
  window.setTimeout(beat, RETURN_BEAT_MS);
})();
