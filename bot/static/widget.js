/*
 * Relay chat widget: one <script> tag on any page.
 *
 *   <script src="https://assistant.example.com/webhooks/socketio/widget.js"
 *           data-title="Talk to us" data-color="#0b5fff"
 *           data-greeting="Hi! What brings you here today?"></script>
 *
 * Settings (all optional, see the README):
 *   data-server      the assistant's address (default: where the script came from)
 *   data-language    en, fr or pl (default: the browser's language, else en)
 *   data-title       the panel's title; data-title-fr, data-title-pl per language
 *   data-greeting    the first message shown; data-greeting-fr, data-greeting-pl per language
 *   data-color       accent colour, #rgb or #rrggbb (default #0b5fff)
 *   data-text-color  text colour on the accent colour (default #ffffff)
 *   data-open        "true" to start opened
 *   data-path, data-namespace  the socket.io path and namespace, when credentials.yml changes them
 *
 * It speaks Socket.IO 5 over Engine.IO 4 on a WebSocket, sends the browser's
 * locale with every message, keeps one session per browser (the conversation
 * and its history survive a reload), reconnects on its own and shows every
 * text as plain text. window.RelayChat.open() / .close() open and close it.
 * When a sales rep takes the conversation over (a live hand-off), their messages
 * show their name, and a notice says who is answering and when the assistant is back.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src*='widget.js']");
  if (!script || window.RelayChat) return;

  var TEXTS = {
    en: { title: "Talk to us", greeting: "Hi! What brings you here today?", placeholder: "Type your message…",
          send: "Send", open: "Chat with us", close: "Close chat", log: "Conversation",
          offline: "Reconnecting…", error: "Sorry, that message could not be sent. Please try again.",
          answering: "{name} is answering", back: "The assistant is back" },
    fr: { title: "Discutons", greeting: "Bonjour ! Qu'est-ce qui vous amène aujourd'hui ?",
          placeholder: "Écrivez votre message…", send: "Envoyer", open: "Discuter avec nous",
          close: "Fermer la discussion", log: "Conversation", offline: "Reconnexion…",
          error: "Désolé, ce message n'a pas pu être envoyé. Veuillez réessayer.",
          answering: "{name} vous répond", back: "L'assistant reprend la conversation" },
    pl: { title: "Porozmawiajmy", greeting: "Dzień dobry! W czym możemy pomóc?", placeholder: "Napisz wiadomość…",
          send: "Wyślij", open: "Czat z nami", close: "Zamknij czat", log: "Rozmowa", offline: "Łączę ponownie…",
          error: "Przepraszamy, nie udało się wysłać tej wiadomości. Proszę spróbować ponownie.",
          answering: "Teraz odpowiada {name}", back: "Asystent wraca do rozmowy" }
  };
  var MAX_HISTORY = 200;
  var MAX_CHARS = 4000;

  // ---- settings ----
  var data = script.dataset || {};
  var server = (data.server || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var path = "/" + (data.path || "/socket.io").replace(/^\/+|\/+$/g, "");
  var namespace = "/" + (data.namespace || "/").replace(/^\/+|\/+$/g, "");
  var browserLocale = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  var language = (data.language || browserLocale).slice(0, 2).toLowerCase();
  if (!TEXTS[language]) language = "en";
  var locale = data.language ? language : browserLocale;
  var t = TEXTS[language];
  var suffix = language.charAt(0).toUpperCase() + language.slice(1);
  function setting(name) { return data[name + suffix] || data[name] || t[name]; }
  function hex(value, fallback) { return /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(value || "") ? value : fallback; }
  var color = hex(data.color, "#0b5fff");
  var textColor = hex(data.textColor, "#ffffff");
  var title = setting("title");
  var greeting = setting("greeting");

  // ---- what this browser remembers ----
  var STORE = "relay-chat:" + server;
  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* storage disabled */ }
  }
  function newSessionId() {
    var bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }
  var state = load();
  if (typeof state.sessionId !== "string" || !/^[A-Za-z0-9_-]{16,128}$/.test(state.sessionId)) {
    state = { sessionId: newSessionId(), history: [], open: !!state.open };
  }
  state.history = Array.isArray(state.history) ? state.history.filter(entry).slice(-MAX_HISTORY) : [];
  if (!state.history.length) state.history.push({ from: "bot", text: greeting, greeting: true });
  save();

  // Entries: the bot's and the visitor's messages, a rep's (with their name) and notices of who is answering.
  function entry(e) {
    if (!e || typeof e.text !== "string") return false;
    if (e.from === "rep" || e.from === "notice") return typeof e.name === "string";
    return e.from === "bot" || e.from === "visitor";
  }
  function notice(e) { return e.live === "end" ? t.back : t.answering.replace("{name}", e.name); }
  function cleanButtons(buttons) {
    return (Array.isArray(buttons) ? buttons : []).map(function (b) {
      b = b || {};
      return { title: String(b.title || b.payload || ""), payload: String(b.payload || b.title || "") };
    }).filter(function (b) { return b.title; });
  }

  // ---- the page elements: every text goes through textContent ----
  var root, log, status, input, launcher, panel;
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = String(text);
    return node;
  }
  function build() {
    var style = el("style");
    style.textContent =
      ".relay-chat{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.4 system-ui,sans-serif;color:#1c2330}" +
      ".relay-chat button{font:inherit;cursor:pointer}" +
      ".relay-launcher{border:0;border-radius:24px;padding:12px 18px;box-shadow:0 4px 14px rgba(0,0,0,.2)}" +
      ".relay-panel{display:none;flex-direction:column;width:350px;max-width:calc(100vw - 40px);height:500px;" +
      "max-height:calc(100vh - 40px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden}" +
      ".relay-chat.open .relay-panel{display:flex}.relay-chat.open .relay-launcher{display:none}" +
      ".relay-head{display:flex;justify-content:space-between;align-items:center;padding:12px 14px}" +
      ".relay-head button{background:none;border:0;color:inherit;font-size:22px;line-height:1}" +
      ".relay-log{flex:1;overflow-y:auto;padding:12px;background:#f6f7f9}" +
      ".relay-msg{max-width:85%;width:fit-content;margin:6px 0;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}" +
      ".relay-msg.bot{background:#fff;border:1px solid #e2e5ea}.relay-msg.visitor{margin-left:auto}" +
      ".relay-msg a{color:inherit}" +
      ".relay-msg.rep{background:#fff;border:1px solid #e2e5ea;border-left:3px solid #1c2330}" +
      ".relay-name{display:block;font-size:12px;font-weight:600;margin-bottom:2px}" +
      ".relay-notice{text-align:center;font-size:12px;color:#555;margin:8px 0}" +
      ".relay-buttons{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}" +
      ".relay-buttons button{background:#fff;border:1px solid;border-radius:16px;padding:5px 11px}" +
      ".relay-form{display:flex;border-top:1px solid #e2e5ea}" +
      ".relay-form input{flex:1;min-width:0;border:0;padding:12px;font:inherit;outline:none}" +
      ".relay-form button{border:0;padding:0 16px}" +
      ".relay-status{font-size:12px;color:#666;padding:2px 12px;min-height:16px}";
    document.head.appendChild(style);

    root = el("div", "relay-chat");
    root.setAttribute("data-relay-chat", "");
    root.lang = language;
    launcher = el("button", "relay-launcher", t.open);
    launcher.type = "button";
    paint(launcher);
    panel = el("div", "relay-panel");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", title);
    var head = el("div", "relay-head");
    paint(head);
    head.appendChild(el("strong", null, title));
    var closer = el("button", "relay-close", "×");
    closer.type = "button";
    closer.setAttribute("aria-label", t.close);
    head.appendChild(closer);
    log = el("div", "relay-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", t.log);
    status = el("div", "relay-status");
    status.setAttribute("aria-live", "polite");
    var form = el("form", "relay-form");
    input = el("input");
    input.type = "text";
    input.maxLength = MAX_CHARS;
    input.placeholder = t.placeholder;
    input.setAttribute("aria-label", t.placeholder);
    var send = el("button", "relay-send", t.send);
    send.type = "submit";
    paint(send);
    form.appendChild(input);
    form.appendChild(send);
    panel.appendChild(head);
    panel.appendChild(log);
    panel.appendChild(status);
    panel.appendChild(form);
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(root);

    launcher.addEventListener("click", function () { setOpen(true, true); });
    closer.addEventListener("click", function () { setOpen(false); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value;
      input.value = "";
      submit(text);
    });
    render();
    setOpen(data.open === "true" || !!state.open);
  }
  function paint(node) { node.style.background = color; node.style.color = textColor; }
  function setOpen(open, focus) {
    root.classList.toggle("open", open);
    launcher.setAttribute("aria-expanded", String(open));
    state.open = open;
    save();
    if (open) log.scrollTop = log.scrollHeight;
    if (open && focus) input.focus();
  }

  // Bot texts become text nodes, with http(s) addresses as links; nothing is parsed as HTML.
  function fill(node, text, links) {
    if (!links) { node.textContent = text; return; }
    var pattern = /https?:\/\/[^\s<>"']+/g, last = 0, match;
    while ((match = pattern.exec(text))) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, "");
      node.appendChild(document.createTextNode(text.slice(last, match.index)));
      var link = el("a", null, url);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      node.appendChild(link);
      last = match.index + url.length;
      pattern.lastIndex = last;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  // The quick replies that can still be clicked: the latest ones the visitor has not answered.
  function activeButtons() {
    for (var i = state.history.length - 1; i >= 0; i--) {
      var e = state.history[i];
      if (e.from === "visitor") return -1;
      if (e.buttons && e.buttons.length) return i;
    }
    return -1;
  }
  function render() {
    if (!log) return;
    log.textContent = "";
    var active = activeButtons();
    state.history.forEach(function (e, i) {
      if (e.from === "notice") {
        log.appendChild(el("div", "relay-notice", notice(e)));
      } else if (e.from === "rep") {
        var said = el("div", "relay-msg rep");
        said.appendChild(el("span", "relay-name", e.name));
        said.appendChild(document.createTextNode(e.text));
        log.appendChild(said);
      } else if (e.text) {
        var bubble = el("div", "relay-msg " + e.from);
        fill(bubble, e.text, e.from === "bot");
        if (e.from === "visitor") paint(bubble);
        log.appendChild(bubble);
      }
      if (i === active) {
        var row = el("div", "relay-buttons");
        e.buttons.forEach(function (b) {
          var button = el("button", null, b.title);
          button.type = "button";
          button.style.borderColor = color;
          button.style.color = color;
          button.addEventListener("click", function () { submit(b.title, b.payload); });
          row.appendChild(button);
        });
        log.appendChild(row);
      }
    });
    log.scrollTop = log.scrollHeight;
  }
  function add(e) {
    state.history.push(e);
    state.history = state.history.slice(-MAX_HISTORY);
    save();
    render();
  }

  // ---- Socket.IO 5 over Engine.IO 4, on a WebSocket ----
  var socket = null, ready = false, queue = [], live = [], retry = 0, heartbeat = null, reconnectTimer = null;
  function encode(type, payload) {  // a Socket.IO packet in an Engine.IO "message" (4) packet
    return "4" + type + (namespace === "/" ? "" : namespace + ",") + (payload === undefined ? "" : JSON.stringify(payload));
  }
  function decode(text) {  // "<type>[/namespace,][ack id][json]"
    var i = 1, nsp = "/", body;
    if (text.charAt(1) === "/") {
      var comma = text.indexOf(",");
      nsp = comma < 0 ? text.slice(1) : text.slice(1, comma);
      i = comma < 0 ? text.length : comma + 1;
    }
    while (i < text.length && text.charAt(i) >= "0" && text.charAt(i) <= "9") i++;
    try { body = i < text.length ? JSON.parse(text.slice(i)) : null; } catch (e) { return null; }
    return { type: text.charAt(0), nsp: nsp, data: body };
  }
  function emit(event, payload) { socket.send(encode(2, [event, payload])); }
  function armHeartbeat(ms) {  // no ping from the server in time: the connection is dead
    clearTimeout(heartbeat);
    heartbeat = setTimeout(function () { lost(socket); }, ms);
  }
  // Gives up a connection at once (a dead one may take long to report its close) and plans the next.
  function lost(ws) {
    if (!ws || ws !== socket) return;
    clearTimeout(heartbeat);
    socket = null;
    ready = false;
    status.textContent = t.offline;
    try { ws.close(); } catch (e) { /* already closed */ }
    scheduleReconnect();
  }
  var pingWindow = 45000;
  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    var url = server.replace(/^http/, "ws") + path + "/?EIO=4&transport=websocket";
    var ws;
    try { ws = new WebSocket(url); } catch (e) { return scheduleReconnect(); }
    socket = ws;
    ready = false;
    live = [];
    ws.onmessage = function (event) {
      if (ws !== socket || typeof event.data !== "string") return;
      var frame = event.data, kind = frame.charAt(0);
      if (kind === "0") {  // open: {"sid", "pingInterval", "pingTimeout", ...}
        try {
          var open = JSON.parse(frame.slice(1));
          pingWindow = (open.pingInterval || 25000) + (open.pingTimeout || 20000);
        } catch (e) { /* keep the defaults */ }
        armHeartbeat(pingWindow);
        ws.send(encode(0));
      } else if (kind === "2") {  // ping
        armHeartbeat(pingWindow);
        ws.send("3" + frame.slice(1));
      } else if (kind === "1") {  // close
        lost(ws);
      } else if (kind === "4") {
        onPacket(decode(frame.slice(1)));
      }
    };
    ws.onclose = function () { lost(ws); };
  }
  function scheduleReconnect() {
    if (reconnectTimer) return;
    retry = Math.min(retry + 1, 6);
    var delay = Math.min(30000, 500 * Math.pow(2, retry - 1)) * (0.8 + Math.random() * 0.4);
    reconnectTimer = setTimeout(connect, delay);
  }
  function reconnectNow() { if (!socket && reconnectTimer) { retry = 0; connect(); } }
  function onPacket(p) {
    if (!p || p.nsp !== namespace) return;
    if (p.type === "0") {  // connected to the namespace
      emit("session_request", { session_id: state.sessionId });
    } else if (p.type === "1" || p.type === "4") {  // disconnected or refused by the server
      lost(socket);
    } else if (p.type === "2" && Array.isArray(p.data)) {
      var name = p.data[0], payload = p.data[1];
      if (name === "session_history") onHistory(payload);
      else if (name === "session_confirm") onConfirm(payload);
      else if (name === "bot_uttered" && payload) onBot(payload);
      else if (name === "error") {
        // The server's polite "slow down" is already in the visitor's language; other errors use ours.
        var rateLimited = payload && payload.code === "rate_limited" && typeof payload.error === "string";
        status.textContent = rateLimited ? payload.error : t.error;
      }
    }
  }
  function onConfirm(sessionId) {
    if (typeof sessionId === "string" && sessionId && sessionId !== state.sessionId) {
      state.sessionId = sessionId;
      save();
    }
    ready = true;
    retry = 0;
    status.textContent = "";
    while (queue.length) {
      var item = queue.shift();
      item.payload.session_id = state.sessionId;
      emit("user_uttered", item.payload);
    }
    live = [];
  }
  // The server's transcript replaces what this browser shows: it also has the replies
  // that came while the page was being reloaded or left.
  function onHistory(entries) {
    if (!Array.isArray(entries) || !entries.length) return;
    var first = state.history[0];
    var rebuilt = first && first.greeting ? [first] : [];
    entries.forEach(function (e) {
      if (entry(e)) rebuilt.push(fromServer(e));
    });
    var recent = rebuilt.slice(-20).map(function (e) { return e.from + "\n" + e.text; });
    live.forEach(function (e) { if (recent.indexOf(e.from + "\n" + e.text) < 0) rebuilt.push(e); });
    queue.forEach(function (item) { rebuilt.push(item.entry); });
    state.history = rebuilt.slice(-MAX_HISTORY);
    save();
    render();
  }
  function fromServer(e) {
    if (e.from === "rep") return { from: "rep", name: e.name, text: e.text };
    if (e.from === "notice") return { from: "notice", name: e.name, live: e.live === "end" ? "end" : "start", text: "" };
    return { from: e.from, text: e.text, buttons: cleanButtons(e.buttons) };
  }
  // A live hand-off's message: a rep's words, or a notice of who is answering now.
  function liveEntry(message) {
    var marker = message.live, name = typeof marker.name === "string" ? marker.name : "";
    if (marker.kind === "rep") return { from: "rep", name: name, text: typeof message.text === "string" ? message.text : "" };
    return { from: "notice", name: name, live: marker.kind === "end" ? "end" : "start", text: "" };
  }
  function onBot(message) {
    if (message.live && typeof message.live === "object") {
      var said = liveEntry(message);
      if (said.from === "rep" && !said.text) return;
      if (!ready) live.push(said);
      add(said);
      return;
    }
    var e = { from: "bot", text: typeof message.text === "string" ? message.text : "",
              buttons: cleanButtons(message.quick_replies || message.buttons) };
    if (!e.text && !e.buttons.length) return;
    if (!ready) live.push(e);
    if (e.text) status.textContent = "";
    add(e);
  }
  function submit(text, payload) {
    text = String(text || "").trim().slice(0, MAX_CHARS);
    if (!text) return;
    var e = { from: "visitor", text: text };
    add(e);
    var message = { message: payload || text, session_id: state.sessionId,
                    metadata: { locale: locale, page: location.pathname } };
    if (ready) emit("user_uttered", message);
    else queue.push({ payload: message, entry: e });
  }

  window.RelayChat = {
    open: function () { if (root) setOpen(true, true); },
    close: function () { if (root) setOpen(false); }
  };
  function start() {
    build();
    connect();
    window.addEventListener("online", reconnectNow);
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
