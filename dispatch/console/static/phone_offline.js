// window.OfflineDevice: the console's softphone on a first run (no Twilio account). It offers phone.js
// the subset of Twilio's Voice SDK 2.x Device/Call it uses (docs: INTERFACE), and does through the
// phone simulator (/sim/agent/..., dispatch/sim/line_views.py) what Twilio and /voice/agent would:
//   device.connect({params: {answer: id}}) takes the longest waiter of the reserved caller's queue;
//   device.connect({params: {dial: id}}) rings that number's simulated phone (/sim/phone/<number>);
//   call.on('accept'|'disconnect'|'cancel'|'error', fn); call.disconnect(); call.sendDigits(d).
// The voice is text: what the caller says appears in a small panel under the phone bar and is read
// aloud (speechSynthesis); the agent types (or, where the browser can, speaks) the replies.
// Its texts come from the server with the call, in the agent's language (none are written here).
(function () {
  "use strict";

  var POLL_MS = 1000;
  var BASE = "/sim";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function request(method, url, data) {
    var options = {
      method: method,
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf() }
    };
    if (method === "POST") { options.body = new URLSearchParams(data || {}); }
    return fetch(url, options).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) { throw new Error(String(response.status || "offline")); }
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || String(response.status)); }
        return body;
      });
    });
  }

  function fill(template, fields) {
    var value = template || "";
    Object.keys(fields || {}).forEach(function (name) { value = value.split("{" + name + "}").join(fields[name]); });
    return value;
  }

  function Emitter() { this.handlers = {}; }
  Emitter.prototype.on = function (name, fn) {
    (this.handlers[name] = this.handlers[name] || []).push(fn);
    return this;
  };
  Emitter.prototype.off = function (name, fn) {
    this.handlers[name] = (this.handlers[name] || []).filter(function (h) { return h !== fn; });
    return this;
  };
  Emitter.prototype.emit = function (name) {
    var args = Array.prototype.slice.call(arguments, 1);
    (this.handlers[name] || []).slice().forEach(function (fn) { fn.apply(null, args); });
  };

  // -- the device ---------------------------------------------------------------------------------------

  function OfflineDevice(token, options) {
    Emitter.call(this);
    this.token = token;
    this.base = (options && options.base) || BASE;
    this.calls = [];
    this.state = "unregistered";
  }
  OfflineDevice.prototype = Object.create(Emitter.prototype);
  OfflineDevice.create = function (token, options) { return new OfflineDevice(token, options); };

  OfflineDevice.prototype.register = function () {
    var device = this;
    device.state = "registered";
    window.setTimeout(function () { device.emit("registered"); }, 0);
    return Promise.resolve();
  };
  OfflineDevice.prototype.updateToken = function (token) { this.token = token; };
  OfflineDevice.prototype.disconnectAll = function () {
    this.calls.slice().forEach(function (call) { call.disconnect(); });
  };
  OfflineDevice.prototype.destroy = function () { this.disconnectAll(); this.state = "destroyed"; };

  OfflineDevice.prototype.connect = function (options) {
    var device = this;
    var params = (options && options.params) || {};
    return request("POST", device.base + "/agent/connect", params).then(function (answer) {
      var call = new OfflineCall(device, answer.line, answer.texts || {}, params, answer.language);
      device.calls.push(call);
      return call;
    });
  };

  // -- a call ---------------------------------------------------------------------------------------

  function OfflineCall(device, line, texts, params, language) {
    Emitter.call(this);
    this.language = language || ""; // the other side's, where the server knows it
    this.device = device;
    this.id = line.id;
    this.texts = texts;
    this.customParameters = params;
    this.parameters = { CallSid: line.call_sid };
    this.last = 0;
    this.accepted = false;
    this.closed = false;
    this.panel = makePanel(this);
    var call = this;
    // phone.js listens once connect() has resolved: the events come after.
    window.setTimeout(function () { call.update(line); call.poll(); }, 0);
  }
  OfflineCall.prototype = Object.create(Emitter.prototype);

  OfflineCall.prototype.url = function (path) {
    return this.device.base + "/agent/lines/" + this.id + (path || "") + "?after=" + this.last;
  };

  OfflineCall.prototype.status = function () {
    if (this.closed) { return "closed"; }
    return this.accepted ? "open" : "ringing";
  };

  OfflineCall.prototype.poll = function () {
    var call = this;
    if (call.closed) { return; }
    request("GET", call.url()).then(function (data) { call.update(data.line); }, function () { /* next time */ })
      .then(function () {
        if (!call.closed) { call.timer = window.setTimeout(function () { call.poll(); }, POLL_MS); }
      });
  };

  OfflineCall.prototype.update = function (line) {
    if (!line || this.closed) { return; }
    var call = this;
    if (line.state === "connected" && !call.accepted) {
      call.accepted = true;
      call.note(fill(call.texts.connected, { phone: line.phone || "" }));
      call.panel.hidden = false;
      call.panel.querySelector("input").focus();
      call.emit("accept", call);
    } else if (line.state === "ringing" && !call.rang) {
      call.rang = true;
      call.panel.hidden = false;
      call.note(fill(call.texts.ringing, { phone: line.phone || "" }));
    }
    line.said.forEach(function (entry) {
      if (entry.n <= call.last) { return; }
      call.last = entry.n;
      call.show(entry);
    });
    if (line.state === "ended") {
      if (line.ended_by !== "agent") { call.note(call.texts["ended_" + line.ended_by] || ""); }
      call.finish();
    }
  };

  OfflineCall.prototype.show = function (entry) {
    var item = document.createElement("li");
    item.className = "said " + entry.who;
    var who = entry.who === "agent" ? this.texts.you : this.texts.caller;
    item.textContent = fill(this.texts.said, { who: who, text: entry.text });
    var log = this.panel.querySelector("ol");
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (entry.who === "caller") { speak(entry.text, this.language); }
  };

  OfflineCall.prototype.note = function (message) {
    if (!message) { return; }
    var item = document.createElement("li");
    item.className = "note";
    item.textContent = message;
    this.panel.querySelector("ol").appendChild(item);
  };

  OfflineCall.prototype.say = function (words) {
    var call = this;
    words = (words || "").trim();
    if (!words || call.closed) { return Promise.resolve(); }
    return request("POST", call.url("/say"), { text: words }).then(function (data) { call.update(data.line); },
      function (error) { call.note(fill(call.texts.error, { text: error.message })); });
  };

  OfflineCall.prototype.disconnect = function () {
    var call = this;
    if (call.closed) { return; }
    request("POST", call.url("/hangup")).then(function (data) { call.update(data.line); }, function () {})
      .then(function () { call.finish(); });
  };

  // No audio, so no tones: the keys are noted on the panel (an agent's menu choice to the caller).
  OfflineCall.prototype.sendDigits = function (digits) { this.note(digits); };
  OfflineCall.prototype.mute = function () {};
  OfflineCall.prototype.isMuted = function () { return false; };
  OfflineCall.prototype.accept = function () {};
  OfflineCall.prototype.reject = function () { this.disconnect(); };

  OfflineCall.prototype.finish = function () {
    var call = this;
    if (call.closed) { return; }
    call.closed = true;
    window.clearTimeout(call.timer);
    if (window.speechSynthesis) { window.speechSynthesis.cancel(); }
    call.device.calls = call.device.calls.filter(function (c) { return c !== call; });
    call.panel.classList.add("ended");
    call.panel.querySelector("form").hidden = true;
    // Twilio's order: a call never answered is cancelled; either way it disconnects.
    if (!call.accepted) { call.emit("cancel"); }
    call.emit("disconnect", call);
  };

  // -- the panel: what was said, and the agent's words ----------------------------------------------

  function makePanel(call) {
    var old = document.getElementById("offline-line");
    if (old) { old.remove(); }
    if (!document.getElementById("offline-line-style")) {
      var style = document.createElement("link");
      style.id = "offline-line-style";
      style.rel = "stylesheet";
      style.href = call.device.base + "/static/offline_line.css";
      document.head.appendChild(style);
    }
    var texts = call.texts;
    var panel = document.createElement("section");
    panel.id = "offline-line";
    panel.className = "offline-line";
    panel.hidden = true;
    panel.setAttribute("aria-label", texts.title || "");
    var title = document.createElement("strong");
    title.textContent = texts.title || "";
    var log = document.createElement("ol");
    log.id = "offline-said";
    log.className = "offline-said";
    log.setAttribute("aria-live", "polite");
    var form = document.createElement("form");
    var input = document.createElement("input");
    input.type = "text";
    input.id = "offline-text";
    input.autocomplete = "off";
    input.placeholder = texts.say_placeholder || "";
    input.setAttribute("aria-label", texts.say_label || "");
    var send = document.createElement("button");
    send.type = "submit";
    send.className = "primary";
    send.textContent = texts.send || "";
    form.appendChild(input);
    form.appendChild(send);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var words = input.value;
      input.value = "";
      call.say(words);
    });
    var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    if (Recognition) {
      var mic = document.createElement("button");
      mic.type = "button";
      mic.textContent = texts.speak || "";
      mic.addEventListener("click", function () {
        var recognition = new Recognition();
        recognition.lang = document.documentElement.lang || "zh-CN";
        recognition.onresult = function (event) { call.say(event.results[0][0].transcript); };
        recognition.start();
      });
      form.appendChild(mic);
    }
    panel.appendChild(title);
    panel.appendChild(log);
    panel.appendChild(form);
    var bar = document.getElementById("phone-bar");
    if (bar && bar.parentNode) {
      bar.parentNode.insertBefore(panel, bar.nextSibling);
    } else {
      document.body.insertBefore(panel, document.body.firstChild);
    }
    return panel;
  }

  function speak(words, language) {
    // In the caller's language where the server knows it, else the page's.
    if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) { return; }
    var utterance = new SpeechSynthesisUtterance(words);
    utterance.lang = (language || document.documentElement.lang) === "en" ? "en-US" : "zh-CN";
    window.speechSynthesis.speak(utterance);
  }

  window.OfflineDevice = OfflineDevice;
})();
