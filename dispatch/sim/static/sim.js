// The simulator's phone call: sends what the caller does to /sim/call/<action> and shows what the
// app's TwiML did (the server reads the TwiML; this script only draws it and keeps the call's state).
// Labels come from the page (#call-texts), in the page's language.
(function () {
  "use strict";

  var panel, texts, log, state;

  function $(id) { return document.getElementById(id); }

  function text(key, fields) {
    var value = texts[key] || key;
    Object.keys(fields || {}).forEach(function (name) { value = value.split("{" + name + "}").join(fields[name]); });
    return value;
  }

  // -- sound: the browser's speech synthesis for <Say>, an <audio> for <Play> --------------------

  var VOICE_LANGUAGES = { "cmn-CN": "zh-CN", "zh-CN": "zh-CN", "en-US": "en-US", "en-GB": "en-GB" };

  function soundOn() { return $("sound").checked; }

  function speak(event) {
    if (!soundOn() || !window.speechSynthesis) { return; }
    var utterance = new SpeechSynthesisUtterance(event.text);
    var language = VOICE_LANGUAGES[event.language] || event.language || "zh-CN";
    utterance.lang = language;
    var voice = window.speechSynthesis.getVoices().find(function (v) { return v.lang === language; });
    if (voice) { utterance.voice = voice; }
    window.speechSynthesis.speak(utterance);
  }

  function play(url) {
    if (!soundOn()) { return; }
    try { new Audio(url).play().catch(function () {}); } catch (e) { /* no audio here */ }
  }

  function hush() { if (window.speechSynthesis) { window.speechSynthesis.cancel(); } }

  // -- the call log --------------------------------------------------------------------------------

  function line(kind, content) {
    var item = document.createElement("li");
    item.className = "event " + kind;
    if (typeof content === "string") { item.textContent = content; } else { item.appendChild(content); }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function show(event) {
    switch (event.kind) {
      case "say":
        line(event.hold ? "say hold" : "say", event.text).lang = VOICE_LANGUAGES[event.language] || "";
        speak(event);
        break;
      case "play": {
        var link = document.createElement("a");
        link.href = event.url; link.textContent = text("play", { url: event.url }); link.target = "_blank";
        line("play", link);
        play(event.url);
        break;
      }
      case "pause": line("note", text("pause", { seconds: event.length })); break;
      case "request": {
        var details = document.createElement("details");
        var summary = document.createElement("summary");
        summary.textContent = event.method + " " + event.url.replace(/^https?:\/\/[^/]+/, "") + " → " + event.status;
        var params = document.createElement("pre");
        params.textContent = Object.keys(event.params).sort().map(function (k) { return k + "=" + event.params[k]; }).join("\n");
        details.appendChild(summary); details.appendChild(params);
        line("request", details);
        break;
      }
      case "error": line("error", text("error", { status: event.status, text: event.text })); break;
      case "unknown": line("note", text("unknown", { verb: event.verb })); break;
      default: line("note", text(event.kind, event));
    }
  }

  // -- the call's state: what the last TwiML waits for -------------------------------------------

  function setWaiting(wait) {
    $("keypad").hidden = wait.kind !== "gather";
    $("recorder").hidden = wait.kind !== "record";
    $("queue").hidden = wait.kind !== "enqueue";
    state.keys = "";
    $("keys").textContent = "";
    if (wait.kind === "gather") {
      var hints = [];
      if (wait.num_digits) { hints.push(text("hint_digits", { n: wait.num_digits })); }
      if (wait.finish_on_key) { hints.push(text("hint_finish", { key: wait.finish_on_key })); }
      $("gather-hint").textContent = hints.join(" · ");
      $("timeout").textContent = text("timeout_button", { seconds: wait.timeout });
      $("call-state").textContent = text("state_keys");
    } else if (wait.kind === "record") {
      $("said").value = "";
      $("said").focus();
      $("call-state").textContent = text("state_record", { seconds: wait.max_length });
    } else if (wait.kind === "enqueue") {
      $("queue-time").textContent = text("queue_time", { seconds: wait.queue_time || 0 });
      $("call-state").textContent = text("state_enqueued");
    } else if (wait.kind === "ended") {
      $("call-state").textContent = text("ended_" + wait.reason);
      line("ended", text("ended_" + wait.reason));
      $("dial").disabled = false;
      $("hangup").disabled = true;
      state.live = false;
    }
  }

  function busy(on) {
    panel.classList.toggle("busy", on);
    panel.querySelectorAll("#keypad button, #recorder button, #queue button").forEach(function (b) { b.disabled = on; });
  }

  function send(action, fields) {
    var body = new URLSearchParams(Object.assign({
      phone: panel.dataset.phone,
      call_sid: state.callSid || "",
      twiml: state.twiml || "",
      url: state.url || "",
      index: state.wait && state.wait.index !== undefined ? state.wait.index : ""
    }, fields || {}));
    busy(true);
    return fetch(panel.dataset.url.replace("ACTION", action), {
      method: "POST",
      headers: { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
      body: body
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || response.status); }
        return data;
      });
    }).then(function (data) {
      state.callSid = data.call_sid;
      state.twiml = data.twiml;
      state.url = data.url;
      state.wait = data.wait;
      data.events.forEach(show);
      $("twiml").textContent = data.twiml;
      setWaiting(data.wait);
    }).catch(function (error) {
      line("error", text("error", { status: "", text: error.message }));
    }).finally(function () { busy(false); });
  }

  // -- what the caller does ------------------------------------------------------------------------

  function dial() {
    hush();
    log.innerHTML = "";
    state = { live: true, started: Date.now() };
    $("dial").disabled = true;
    $("hangup").disabled = false;
    line("dialled", text("dialling"));
    send("dial");
  }

  function submitKeys(timedOut) {
    line("keys", text(timedOut && !state.keys ? "no_keys" : "pressed", { keys: state.keys }));
    hush();
    send("press", { keys: state.keys, timed_out: timedOut ? "1" : "" });
  }

  function press(key) {
    var wait = state && state.wait;
    if (!wait || wait.kind !== "gather") { return; }
    if (wait.finish_on_key && key === wait.finish_on_key) {
      // Twilio's finishOnKey ends input only after a digit.
      if (state.keys) { state.keys += key; submitKeys(false); }
      return;
    }
    state.keys += key;
    $("keys").textContent = state.keys;
    if (wait.num_digits && state.keys.length >= wait.num_digits) { submitKeys(false); }
  }

  function hangUp() {
    hush();
    var fields = { duration: String(Math.round((Date.now() - (state.started || Date.now())) / 1000)) };
    if (!state.wait || state.wait.kind === "ended") { fields.twiml = ""; }
    line("keys", text("hanging_up"));
    send("hangup", fields);
  }

  // The chat's poll says which version of the list it shows (204 when nothing changed); a text sent
  // empties the box. Here rather than in hx-vals/hx-on, which the Content-Security-Policy refuses (eval).
  document.addEventListener("htmx:configRequest", function (event) {
    var chat = event.detail.elt;
    if (chat.id === "sms-log" && event.detail.verb === "get") { event.detail.parameters.v = chat.dataset.version; }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches(".sms-form") && event.detail.successful) { form.reset(); }
  });

  // The chat's newest message is at the bottom: keep it in view when the poll brings a new list.
  document.addEventListener("htmx:afterSwap", function () {
    var chat = $("sms-log");
    if (chat) { chat.scrollTop = chat.scrollHeight; }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var chat = $("sms-log");
    if (chat) { chat.scrollTop = chat.scrollHeight; }
    panel = $("call");
    if (!panel) { return; }
    texts = JSON.parse($("call-texts").textContent);
    log = $("call-log");
    state = { live: false };
    $("dial").addEventListener("click", dial);
    $("hangup").addEventListener("click", hangUp);
    panel.querySelectorAll(".key").forEach(function (button) {
      button.addEventListener("click", function () { press(button.dataset.key); });
    });
    document.addEventListener("keydown", function (event) {
      if (event.target.closest("input, textarea")) { return; }
      if (/^[0-9*#]$/.test(event.key)) { press(event.key); }
    });
    $("timeout").addEventListener("click", function () { submitKeys(true); });
    // Leaving the page hangs up, so the service hears the call end (as when a caller puts the phone down).
    window.addEventListener("pagehide", function () {
      if (!state.live || !navigator.sendBeacon) { return; }
      var form = new FormData();
      form.append("csrf_token", document.querySelector('meta[name="csrf-token"]').content);
      form.append("phone", panel.dataset.phone);
      form.append("call_sid", state.callSid || "");
      form.append("twiml", state.twiml || "");
      form.append("url", state.url || "");
      form.append("index", state.wait && state.wait.index !== undefined ? state.wait.index : "");
      navigator.sendBeacon(panel.dataset.url.replace("ACTION", "hangup"), form);
      state.live = false;
    });
    $("record-send").addEventListener("click", function () { send("record", { said: $("said").value }); });
    $("record-silent").addEventListener("click", function () { send("record", { said: "" }); });
    $("queue-answer").addEventListener("click", function () {
      send("queue", { outcome: "answer", queue_time: String(state.wait.queue_time || 0) });
    });
    $("queue-wait").addEventListener("click", function () {
      send("queue", { outcome: "wait", queue_time: String(state.wait.queue_time || 0) });
    });
  });
})();
