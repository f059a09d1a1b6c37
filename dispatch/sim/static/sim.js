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

  // The keys the caller may press now: the call's <Gather>, or the hold music's (in the queue).
  function gathering(wait) {
    if (!wait) { return null; }
    if (wait.kind === "gather") { return wait; }
    return wait.kind === "enqueue" && wait.gather ? wait.gather : null;
  }

  function setWaiting(wait) {
    clearTimeout(state.holdTimer);
    if (wait.kind === "line") { return; }  // an agent took the call meanwhile: the line shows it
    var gather = gathering(wait);
    $("keypad").hidden = !gather;
    $("timeout").hidden = wait.kind !== "gather";
    $("recorder").hidden = wait.kind !== "record";
    $("queue").hidden = wait.kind !== "enqueue";
    state.keys = "";
    $("keys").textContent = "";
    if (gather) {
      var hints = [];
      if (gather.num_digits) { hints.push(text("hint_digits", { n: gather.num_digits })); }
      if (gather.finish_on_key) { hints.push(text("hint_finish", { key: gather.finish_on_key })); }
      $("gather-hint").textContent = hints.join(" · ");
      $("timeout").textContent = text("timeout_button", { seconds: gather.timeout });
    }
    if (wait.kind === "gather") {
      $("call-state").textContent = text("state_keys");
    } else if (wait.kind === "record") {
      $("said").value = "";
      $("said").focus();
      $("call-state").textContent = text("state_record", { seconds: wait.max_length });
    } else if (wait.kind === "enqueue") {
      $("queue-time").textContent = text("queue_time", { seconds: wait.queue_time || 0 });
      $("queue-place").textContent = wait.position ? text("queue_place", wait) : "";
      $("call-state").textContent = text("state_enqueued");
      // When the hold music has played, Twilio asks the waitUrl again: so does the page.
      if (wait.hold_seconds) {
        state.holdTimer = setTimeout(function () { holdOn(wait.hold_seconds); }, wait.hold_seconds * 1000);
      }
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
      if (data.wait && data.wait.kind === "line") { return; }  // on a line with an agent now
      state.callSid = data.call_sid;
      showScreen(data);
    }).catch(function (error) {
      line("error", text("error", { status: "", text: error.message }));
    }).finally(function () { busy(false); });
  }

  function showScreen(data) {
    state.twiml = data.twiml;
    state.url = data.url;
    state.wait = data.wait;
    data.events.forEach(show);
    $("twiml").textContent = data.twiml;
    setWaiting(data.wait);
  }

  function holdOn(seconds) {
    if (!state.live || !state.wait || state.wait.kind !== "enqueue") { return; }
    send("queue", { outcome: "wait", queue_time: String(state.wait.queue_time || 0), seconds: String(seconds) });
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
    var wait = state.wait;
    if (wait.kind === "enqueue") {
      send("hold_press", {
        keys: state.keys, queue_time: String(wait.queue_time || 0),
        hold_twiml: wait.hold_twiml, hold_url: wait.hold_url, hold_index: String(wait.gather.index)
      });
      return;
    }
    send("press", { keys: state.keys, timed_out: timedOut ? "1" : "" });
  }

  function press(key) {
    var wait = gathering(state && state.wait);
    if (!wait) { return; }
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
    if (talk.id) { lineAction("hangup"); return; }
    var fields = { duration: String(Math.round((Date.now() - (state.started || Date.now())) / 1000)) };
    if (state.wait && state.wait.kind === "enqueue") { fields.queue_time = String(state.wait.queue_time || 0); }
    if (!state.wait || state.wait.kind === "ended") { fields.twiml = ""; }
    line("keys", text("hanging_up"));
    send("hangup", fields);
  }

  // -- a line with an agent's softphone (the console offline) ----------------------------------------
  // The page asks every second for this phone's line: an agent's call ringing, the queued call an
  // agent answered, what the agent said, and how the line ended.

  var talk = { id: 0, last: 0, ignored: 0 };

  function lineUrl(path) { return $("line").dataset.url + (path || ""); }

  function csrf() { return document.querySelector('meta[name="csrf-token"]').content; }

  function lineAction(action, fields) {
    return fetch(lineUrl("/" + talk.id + "/" + action + "?after=" + talk.last), {
      method: "POST", headers: { "X-CSRF-Token": csrf() }, body: new URLSearchParams(fields || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || response.status); }
        return data;
      });
    }).then(function (data) { if (data.line) { onLine(data.line); } })
      .catch(function (error) { line("error", text("error", { status: "", text: error.message })); });
  }

  function said(entry) {
    var item = document.createElement("li");
    item.className = "said " + entry.who;
    item.textContent = text(entry.who === "caller" ? "said_me" : "said_agent") + "：" + entry.text;
    $("line-log").appendChild(item);
    $("line-log").scrollTop = $("line-log").scrollHeight;
    if (entry.who === "agent") {
      speak({ text: entry.text, language: document.documentElement.lang === "en" ? "en-US" : "cmn-CN" });
    }
  }

  function onLine(data) {
    if (!talk.id) {
      // Only a line ringing here, or the queued call of this page answered, is this page's.
      var mine = data.state === "ringing" || (data.state === "connected" && data.call_sid === state.callSid);
      if (!mine || data.id <= talk.ignored) { talk.ignored = Math.max(talk.ignored, data.id); return; }
      talk.id = data.id; talk.last = 0;
      $("line-log").innerHTML = "";
    }
    if (data.id !== talk.id) { return; }
    $("line").hidden = false;
    $("line-ringing").hidden = data.state !== "ringing";
    $("line-talk").hidden = data.state !== "connected";
    if (data.state === "ringing") {
      $("call-state").textContent = text("state_ringing");
      $("dial").disabled = true;
      $("hangup").disabled = true;
    } else if (data.state === "connected") {
      if (!talk.connected) {
        talk.connected = true;
        clearTimeout(state.holdTimer);
        hush();
        $("keypad").hidden = true; $("queue").hidden = true; $("recorder").hidden = true;
        line("note", text("state_line"));
        $("call-state").textContent = text("state_line");
        $("dial").disabled = true;
        $("hangup").disabled = false;
        state.live = true;
        $("line-text").focus();
      }
    }
    data.said.forEach(function (entry) { if (entry.n > talk.last) { said(entry); talk.last = entry.n; } });
    if (data.state === "ended") { lineEnded(data); }
  }

  function lineEnded(data) {
    hush();
    talk.ignored = talk.id;
    talk.id = 0; talk.connected = false;
    $("line").hidden = true;
    // The agent's hang-up is news here; the phone's own hang-up or decline is not.
    if (data.ended_by === "agent") { line("note", text("ended_agent")); }
    if (data.after) {
      // What the <Enqueue> action answered once the agent's call ended (the rest of the IVR call).
      state.callSid = data.after.call_sid;
      showScreen(data.after);
    } else {
      setWaiting({ kind: "ended", reason: data.ended_by === "agent" ? "hangup" : "end" });
    }
  }

  function pollLine() {
    fetch(lineUrl("?after=" + talk.last), { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && data.line) { onLine(data.line); } })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { setTimeout(pollLine, 1000); });
  }

  function startLine() {
    // A line that ended before this page opened is not this page's.
    fetch(lineUrl()).then(function (response) { return response.json(); }).then(function (data) {
      if (data.line && data.line.state === "ended") { talk.ignored = data.line.id; }
    }).catch(function () {}).finally(pollLine);
    $("line-answer").addEventListener("click", function () { lineAction("answer"); });
    $("line-decline").addEventListener("click", function () { lineAction("decline"); });
    $("line-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var words = $("line-text").value.trim();
      if (!words || !talk.id) { return; }
      $("line-text").value = "";
      lineAction("say", { text: words });
    });
    var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    if (Recognition) {
      $("line-mic").hidden = false;
      $("line-mic").addEventListener("click", function () {
        var recognition = new Recognition();
        recognition.lang = document.documentElement.lang || "zh-CN";
        recognition.onresult = function (event) {
          var words = event.results[0][0].transcript;
          if (words && talk.id) { lineAction("say", { text: words }); }
        };
        recognition.start();
      });
    }
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
      form.append("queue_time", String((state.wait && state.wait.queue_time) || 0));
      navigator.sendBeacon(panel.dataset.url.replace("ACTION", "hangup"), form);
      state.live = false;
    });
    $("record-send").addEventListener("click", function () { send("record", { said: $("said").value }); });
    $("record-silent").addEventListener("click", function () { send("record", { said: "" }); });
    startLine();
    $("queue-wait").addEventListener("click", function () {
      send("queue", { outcome: "wait", queue_time: String(state.wait.queue_time || 0) });
    });
  });
})();
