/*
 * Civic Assistant web chat: a small, dependency-free widget for any agency page.
 *
 *   <script src="https://assistant.example/webchat/civic-chat.js"
 *           data-socket-url="https://assistant.example" defer></script>
 *
 * or set `window.CivicChat = {socketUrl: "...", token: "...", strings: {...}}` before the
 * script. It talks to Rasa 3.6's socket.io channel with the minimal Engine.IO v4 /
 * Socket.IO v5 protocol over one WebSocket (no polling, so no CORS preflight): open `0{..}`,
 * connect `40`, events `42[...]`, ping `2` / pong `3`. The server issues the session id (signed,
 * so nobody can pick another's); the widget keeps it in localStorage and presents it again on
 * every connection, so a reload continues the conversation (credentials.yml has
 * `session_persistence: true`); the transcript and unsent messages are kept with it. When the
 * server confirms a different id (it did not recognise the stored one), the old transcript is
 * cleared: that conversation cannot be continued.
 *
 * Before the first message the panel shows a short privacy notice with a link to the agency's
 * privacy page: `data-privacy-url` or `window.CivicChat.privacyUrl` (an http(s) address; without
 * one, the notice is shown without a link).
 *
 * A message longer than `maxLength` (default 1000 characters, `data-max-length` or
 * `window.CivicChat.maxLength`) is never cut: the text stays in the box, a live notice says how
 * much too long it is, and sending waits until it fits. It is not sent in parts either: the
 * assistant reads each message as one question, so parts would get an answer (or a decline)
 * each, for half-sentences.
 *
 * Bot text is only ever inserted as text: links are built as <a> elements (http/https only).
 *
 * A notice the city pinned (an emergency) shows as a banner above the messages, with its link. The
 * server sends it (a `notice` event: {text, link, expires_at} or null) when the session is confirmed
 * and when asked (`notice_request`: every `noticePollSeconds`, default 60, and after each reply). A
 * new notice is announced once through a polite live region; showing the same one again (a poll, a
 * reload) is silent. It goes when the server says there is none, or at its expiry.
 *
 * A rated answer (its `feedback`: a question and two options, each with an accessible name and a
 * payload) gets the question and two toggle buttons under it: a thumb icon each, named by the
 * option's `label` ("This answered my question" / "This did not help") in visually hidden text, so
 * the name contains all there is to read (WCAG 2.5.3); the transcript shows the label as what the
 * citizen said. `aria-pressed` shows the choice; tapping the other one changes the rating (its
 * payload is sent), tapping the chosen one again sends nothing. The choice is kept with the
 * transcript, and the buttons stay when the conversation goes on (rating is never required).
 *
 * Languages: the widget's own texts come in every language it has a table for (`TRANSLATIONS`:
 * English and Spanish; a page adds or rewords one with `translations: {vi: {...}}`), limited to
 * `languages` (`data-languages="en es"`) when the page gives them. It starts in the citizen's own
 * choice (kept in localStorage), else the page's `language` (`data-language`), else the first of
 * the browser's languages (`navigator.languages`) it has, else English; its region carries that
 * `lang`, so screen readers read it in that language. The header has a button for each other
 * language, named in that language ("Español", "English"): it changes every text at once. The
 * assistant is told with the payload `/switch_language{"language":"es"}`: right away when the
 * conversation has begun (the citizen sees "Español" as their message, and the assistant confirms
 * in Spanish), else just before the first message of a new conversation whose language is not
 * English (`state.told`: the language the assistant was last told; never on opening the panel,
 * which would make a conversation of every visit). The socket.io channel accepts that payload
 * only for a language the agency offers (`bot.webchat.language_switch`). Each message also
 * carries the widget's `language`, for the channel's own notices ("too long", "too fast").
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (window.__civicChatLoaded) return;
  window.__civicChatLoaded = true;

  var STRINGS = {
    launcher: "Chat",
    launcherLabel: "Chat with Harbor City's assistant",
    title: "Harbor City assistant",
    intro: "Hi! I'm the city's automated assistant. Ask me about city services, or type \u201cwhat can you do?\u201d.",
    close: "Close chat",
    // The button's accessible name; it must contain its visible text, restartText (WCAG 2.5.3).
    restart: "New chat (start a new conversation)",
    restartText: "New chat",
    inputLabel: "Your message",
    placeholder: "Type your question\u2026",
    send: "Send message",
    sendText: "Send",
    you: "You:",
    bot: "Assistant:",
    typing: "The assistant is typing\u2026",
    connecting: "Connecting\u2026",
    reconnecting: "Reconnecting\u2026 Your messages will be sent when the connection is back.",
    rejected: "The chat could not connect. Retrying\u2026",
    repliesLabel: "Suggested replies",
    queued: "(waiting to send)",
    // Plural forms by Intl.PluralRules category ("one", "other", and "few", "many"... in other
    // languages); {count}, {max}, {over} and {left} are numbers formatted for the page's language.
    charactersLeft: { one: "{left} character left", other: "{left} characters left" },
    tooLong: {
      one: "Your message is too long to send: {count} characters, and the limit is {max}. Please shorten it by {over} character. Your text is still in the box.",
      other: "Your message is too long to send: {count} characters, and the limit is {max}. Please shorten it by {over} characters. Your text is still in the box.",
    },
    image: "Image from the assistant",
    privacy: "Your messages are kept to answer you and to improve this service. Please share only the personal details your question needs.",
    privacyLink: "How we use your data",
    conversation: "Conversation",
    region: "Chat with Harbor City",
    noticeLabel: "Notice from the city",
    noticeLink: "Details about this notice",
    noticeAnnounce: "Notice from the city: ",
    rateQuestion: "Did this answer your question?", // when the server sends none
    // The language switch offers this language by its own name; the button's accessible name is
    // languageSwitch, which starts with languageName (WCAG 2.5.3).
    languageName: "English",
    languageSwitch: "English (use the chat in English)",
  };

  var SOURCE_LANGUAGE = "en";

  /* The widget's texts per language (a missing text is said in English). Keep "Chat" in
     launcherLabel, and restartText, sendText in restart and send (their visible texts). Letters
     outside ASCII are \u escapes: the script may be embedded in a page of any encoding. */
  var TRANSLATIONS = {
    en: STRINGS,
    es: {
      launcher: "Chat",
      launcherLabel: "Chat con el asistente de Harbor City",
      title: "Asistente de Harbor City",
      intro: "\u00A1Hola! Soy el asistente autom\u00E1tico de la ciudad. Preg\u00FAnteme sobre los servicios de la ciudad o escriba \u201C\u00BFqu\u00E9 puede hacer?\u201D.",
      close: "Cerrar el chat",
      restart: "Nuevo chat (iniciar una conversaci\u00F3n nueva)",
      restartText: "Nuevo chat",
      inputLabel: "Su mensaje",
      placeholder: "Escriba su pregunta\u2026",
      send: "Enviar mensaje",
      sendText: "Enviar",
      you: "Usted:",
      bot: "Asistente:",
      typing: "El asistente est\u00E1 escribiendo\u2026",
      connecting: "Conectando\u2026",
      reconnecting: "Reconectando\u2026 Sus mensajes se enviar\u00E1n cuando vuelva la conexi\u00F3n.",
      rejected: "El chat no pudo conectarse. Volviendo a intentar\u2026",
      repliesLabel: "Respuestas sugeridas",
      queued: "(pendiente de env\u00EDo)",
      charactersLeft: { one: "Queda {left} car\u00E1cter", other: "Quedan {left} caracteres" },
      tooLong: {
        one: "Su mensaje es demasiado largo para enviarlo: tiene {count} caracteres y el l\u00EDmite es {max}. Por favor, ac\u00F3rtelo en {over} car\u00E1cter. Su texto sigue en el cuadro.",
        other: "Su mensaje es demasiado largo para enviarlo: tiene {count} caracteres y el l\u00EDmite es {max}. Por favor, ac\u00F3rtelo en {over} caracteres. Su texto sigue en el cuadro.",
      },
      image: "Imagen del asistente",
      privacy: "Sus mensajes se guardan para responderle y para mejorar este servicio. Por favor, comparta solo los datos personales que su pregunta necesite.",
      privacyLink: "C\u00F3mo usamos sus datos",
      conversation: "Conversaci\u00F3n",
      region: "Chat con Harbor City",
      noticeLabel: "Aviso de la ciudad",
      noticeLink: "Detalles de este aviso",
      noticeAnnounce: "Aviso de la ciudad: ",
      rateQuestion: "\u00BFEsta respuesta contest\u00F3 su pregunta?",
      languageName: "Espa\u00F1ol",
      languageSwitch: "Espa\u00F1ol (usar el chat en espa\u00F1ol)",
    },
  };

  function dataConfig() {
    var data = (script && script.dataset) || {};
    var out = {};
    if (data.socketUrl) out.socketUrl = data.socketUrl;
    if (data.socketPath) out.socketPath = data.socketPath;
    if (data.title) out.strings = { title: data.title };
    if (data.maxLength) out.maxLength = data.maxLength;
    if (data.privacyUrl) out.privacyUrl = data.privacyUrl;
    if (data.noticePollSeconds) out.noticePollSeconds = data.noticePollSeconds;
    if (data.language) out.language = data.language;
    if (data.languages) out.languages = data.languages.split(/[\s,]+/);
    return out;
  }

  var DEFAULT_MAX_LENGTH = 1000;

  /* A positive whole number of characters, else the default. */
  function lengthLimit(value) {
    var number = Number(value);
    return Number.isInteger(number) && number > 0 ? number : DEFAULT_MAX_LENGTH;
  }

  /* An http(s) link, else null: never a javascript: URL. */
  function webLink(value) {
    if (typeof value !== "string" || !value) return null;
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  var user = window.CivicChat || {};
  var fromData = dataConfig();
  var config = {
    socketUrl: user.socketUrl || fromData.socketUrl || window.location.origin,
    socketPath: user.socketPath || fromData.socketPath || "/socket.io",
    token: user.token || null, // a JWT when Rasa's socketio has jwt_key (SOCKETIO_JWT_SECRET)
    getToken: typeof user.getToken === "function" ? user.getToken : null,
    stylesheet: user.stylesheet || (script && script.src ? new URL("civic-chat.css", script.src).href : null),
    // The page's texts: `strings` rewords the English ones (as before languages), `translations`
    // rewords or adds another language's ({es: {title: "..."}, vi: {...}}).
    strings: Object.assign({}, fromData.strings || {}, user.strings || {}),
    translations: user.translations && typeof user.translations === "object" ? user.translations : {},
    language: user.language || fromData.language || null,
    languages: Array.isArray(user.languages) ? user.languages : fromData.languages || null,
    maxMessages: 100,
    maxLength: lengthLimit(user.maxLength || fromData.maxLength),
    privacyUrl: webLink(user.privacyUrl || fromData.privacyUrl),
    // Near the limit the box shows how many characters are left (not announced on every key).
    warnWithin: 100,
    noticePollSeconds: Number(user.noticePollSeconds || fromData.noticePollSeconds) || 60,
  };
  var STORE_KEY = "civic-chat:" + config.socketUrl.replace(/\/+$/, "");
  var OPEN_KEY = STORE_KEY + ":open";
  var LANGUAGE_KEY = STORE_KEY + ":language"; // the language the citizen picked, kept across chats

  /* ---------- languages ---------- */

  function baseLanguage(tag) {
    return String(tag || "").toLowerCase().split(/[-_]/)[0];
  }

  /* The languages the widget has texts for, in the page's order when it names them. */
  function offeredLanguages() {
    var known = Object.keys(TRANSLATIONS).concat(Object.keys(config.translations));
    var wanted = config.languages ? config.languages.map(baseLanguage) : known;
    var offered = wanted.filter(function (code, index) {
      return code && known.indexOf(code) >= 0 && wanted.indexOf(code) === index;
    });
    return offered.length ? offered : [SOURCE_LANGUAGE];
  }

  var LANGUAGES = offeredLanguages();

  /* A language's texts: English, then the widget's own in that language, then the page's. */
  function stringsFor(code) {
    var own = TRANSLATIONS[code] || {};
    var page = code === SOURCE_LANGUAGE ? config.strings : config.translations[code] || {};
    var strings = Object.assign({}, STRINGS, own, page);
    // Never offered under English's name: a language without a name of its own shows its code.
    strings.languageName = page.languageName || own.languageName || code;
    strings.languageSwitch = page.languageSwitch || own.languageSwitch || strings.languageName;
    return strings;
  }

  function browserLanguages() {
    var nav = window.navigator || {};
    if (nav.languages && nav.languages.length) return Array.prototype.slice.call(nav.languages);
    return nav.language ? [nav.language] : [];
  }

  function storedLanguage() {
    try {
      return window.localStorage.getItem(LANGUAGE_KEY);
    } catch (e) {
      return null;
    }
  }

  function rememberLanguage(code) {
    try {
      window.localStorage.setItem(LANGUAGE_KEY, code);
    } catch (e) {
      /* private mode: the choice lasts as long as the page */
    }
  }

  /* The citizen's earlier choice, else the page's, else the browser's first we have, else English. */
  function firstLanguage() {
    var candidates = [storedLanguage(), config.language].concat(browserLanguages());
    for (var i = 0; i < candidates.length; i += 1) {
      var code = baseLanguage(candidates[i]);
      if (LANGUAGES.indexOf(code) >= 0) return code;
    }
    return LANGUAGES.indexOf(SOURCE_LANGUAGE) >= 0 ? SOURCE_LANGUAGE : LANGUAGES[0];
  }

  /* The locale numbers and plurals follow: the browser's own tag for that language ("es-US"), else
     the language in the browser's region (Spanish picked in an "en-US" browser: "es-US"). */
  function localeFor(code) {
    var tags = browserLanguages();
    for (var i = 0; i < tags.length; i += 1) {
      if (baseLanguage(tags[i]) === code) return tags[i];
    }
    var region = String(tags[0] || "").split(/[-_]/)[1];
    return region && /^[A-Za-z]{2}$/.test(region) ? code + "-" + region.toUpperCase() : code;
  }

  function pluralRules(locale) {
    try {
      return window.Intl && window.Intl.PluralRules ? new window.Intl.PluralRules(locale) : null;
    } catch (e) {
      return null; // not a locale this browser knows
    }
  }

  /* The payload that tells the assistant to answer in `code` (bot.webchat.language_switch). */
  function switchPayload(code) {
    return "/switch_language" + JSON.stringify({ language: code });
  }

  var language = firstLanguage();
  var locale = localeFor(language);
  var plurals = pluralRules(locale);
  var T = stringsFor(language);

  /* ---------- storage: session id, transcript, unsent messages ---------- */

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE_KEY) || "null");
      if (saved && typeof saved === "object") {
        return {
          sessionId: typeof saved.sessionId === "string" ? saved.sessionId : null,
          messages: Array.isArray(saved.messages) ? saved.messages : [],
          queue: Array.isArray(saved.queue) ? saved.queue : [],
          told: typeof saved.told === "string" ? saved.told : null,
        };
      }
    } catch (e) {
      /* storage disabled or corrupt: start afresh */
    }
    return fresh();
  }

  /* A conversation not begun: the assistant speaks English until told otherwise (`told`). */
  function fresh() {
    return { sessionId: null, messages: [], queue: [], told: null };
  }

  var state = load();

  function save() {
    state.messages = state.messages.slice(-config.maxMessages);
    try {
      window.localStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) {
      /* private mode: the conversation lasts as long as the page */
    }
  }

  function rememberOpen(open) {
    try {
      if (open) window.sessionStorage.setItem(OPEN_KEY, "1");
      else window.sessionStorage.removeItem(OPEN_KEY);
    } catch (e) {
      /* ignore */
    }
  }

  function wasOpen() {
    try {
      return window.sessionStorage.getItem(OPEN_KEY) === "1";
    } catch (e) {
      return false;
    }
  }

  /* ---------- Engine.IO v4 / Socket.IO v5 over one WebSocket ---------- */

  function socketAddress() {
    var url = new URL(config.socketPath.replace(/\/?$/, "/"), config.socketUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = "?EIO=4&transport=websocket";
    return url.href;
  }

  function Connection(handlers) {
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.heartbeat = null;
    this.retryTimer = null;
    this.stopped = true;
    this.connected = false;
  }

  Connection.prototype.start = function () {
    if (!this.stopped) return;
    this.stopped = false;
    this.open();
  };

  Connection.prototype.stop = function () {
    this.stopped = true;
    this.connected = false;
    clearTimeout(this.heartbeat);
    clearTimeout(this.retryTimer);
    if (this.ws) {
      this.ws.onclose = null;
      this.ws.close();
      this.ws = null;
    }
  };

  Connection.prototype.open = function () {
    var self = this;
    var ws;
    try {
      ws = new WebSocket(socketAddress());
    } catch (e) {
      self.retry();
      return;
    }
    self.ws = ws;
    ws.onmessage = function (event) {
      if (typeof event.data === "string") self.receive(event.data);
    };
    ws.onclose = function () {
      self.dropped();
    };
    ws.onerror = function () {
      /* onclose follows */
    };
  };

  Connection.prototype.send = function (packet) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(packet);
    return true;
  };

  Connection.prototype.emit = function (name, data) {
    return this.send("42" + JSON.stringify([name, data]));
  };

  Connection.prototype.expectPing = function () {
    var self = this;
    clearTimeout(self.heartbeat);
    // The server pings every pingInterval; silence for longer than that plus pingTimeout is a dead link.
    self.heartbeat = setTimeout(function () {
      if (self.ws) self.ws.close();
    }, self.pingInterval + self.pingTimeout);
  };

  Connection.prototype.receive = function (packet) {
    var type = packet.charAt(0);
    if (type === "0") {
      var open = JSON.parse(packet.slice(1));
      this.pingInterval = open.pingInterval || 25000;
      this.pingTimeout = open.pingTimeout || 20000;
      this.expectPing();
      this.connectNamespace();
    } else if (type === "2") {
      this.send("3");
      this.expectPing();
    } else if (type === "1") {
      if (this.ws) this.ws.close();
    } else if (type === "4") {
      this.receiveSocketIo(packet.slice(1));
    }
  };

  Connection.prototype.connectNamespace = function () {
    var self = this;
    var pending = config.getToken ? Promise.resolve(config.getToken()) : Promise.resolve(config.token);
    pending.then(
      function (token) {
        self.send(token ? "40" + JSON.stringify({ token: String(token) }) : "40");
      },
      function () {
        if (self.ws) self.ws.close();
      }
    );
  };

  Connection.prototype.receiveSocketIo = function (packet) {
    var type = packet.charAt(0);
    var body = packet.slice(1).replace(/^\d+/, ""); // no namespace; drop an ack id
    if (type === "0") {
      this.connected = true;
      this.attempt = 0;
      this.handlers.connected();
    } else if (type === "4") {
      this.handlers.rejected();
      if (this.ws) this.ws.close();
    } else if (type === "1") {
      if (this.ws) this.ws.close();
    } else if (type === "2") {
      var args;
      try {
        args = JSON.parse(body);
      } catch (e) {
        return;
      }
      if (Array.isArray(args) && typeof args[0] === "string") this.handlers.event(args[0], args[1]);
    }
  };

  Connection.prototype.dropped = function () {
    clearTimeout(this.heartbeat);
    var wasConnected = this.connected;
    this.connected = false;
    this.ws = null;
    if (this.stopped) return;
    this.handlers.disconnected(wasConnected);
    this.retry();
  };

  Connection.prototype.retry = function () {
    var self = this;
    // 0.5 s, 1 s, 2 s ... up to 30 s, with jitter so a restarted server is not hit by everyone at once.
    var delay = Math.min(30000, 500 * Math.pow(2, self.attempt)) * (0.75 + Math.random() * 0.5);
    self.attempt += 1;
    clearTimeout(self.retryTimer);
    self.retryTimer = setTimeout(function () {
      if (!self.stopped) self.open();
    }, delay);
  };

  /* ---------- DOM ---------- */

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      node.setAttribute(name, attrs[name]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /*
   * The widget's own texts are marked with the name of their string, so `localize` can say them in
   * another language at once: `data-civic-text` for the text, `data-civic-label` for aria-label,
   * `data-civic-placeholder` and `data-civic-alt`.
   */
  var MARKS = [
    ["data-civic-text", null],
    ["data-civic-label", "aria-label"],
    ["data-civic-placeholder", "placeholder"],
    ["data-civic-alt", "alt"],
  ];

  /* An element whose text is the string `key` of T, in whatever language the widget is in. */
  function said(tag, attrs, key) {
    var node = el(tag, attrs, T[key]);
    node.setAttribute("data-civic-text", key);
    return node;
  }

  /* Every marked text in `scope` (and of `scope` itself) as T says it now. */
  function localize(scope) {
    MARKS.forEach(function (mark) {
      var nodes = Array.prototype.slice.call(scope.querySelectorAll("[" + mark[0] + "]"));
      if (scope.hasAttribute(mark[0])) nodes.push(scope);
      nodes.forEach(function (node) {
        var value = T[node.getAttribute(mark[0])];
        if (typeof value !== "string") return;
        if (mark[1]) node.setAttribute(mark[1], value);
        else node.textContent = value;
      });
    });
  }

  var LINK = /https?:\/\/[^\s<>"']+/g;

  /* Text as text nodes; http(s) links as <a> built element by element (never innerHTML). */
  function richText(container, text) {
    var last = 0;
    String(text).replace(LINK, function (match, offset) {
      var url = match.replace(/[.,;:!?)]+$/, "");
      container.appendChild(document.createTextNode(text.slice(last, offset)));
      var parsed;
      try {
        parsed = new URL(url);
      } catch (e) {
        parsed = null;
      }
      if (parsed && (parsed.protocol === "http:" || parsed.protocol === "https:")) {
        container.appendChild(el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer" }, url));
      } else {
        container.appendChild(document.createTextNode(url));
      }
      last = offset + url.length;
      return match;
    });
    container.appendChild(document.createTextNode(String(text).slice(last)));
  }

  var ui = {};

  function bubbleIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  function build() {
    var root = el("aside", { class: "civic-chat", lang: language, "data-civic-label": "region" });
    var launcher = el("button", {
      type: "button",
      class: "civic-chat__launcher",
      "data-civic-label": "launcherLabel",
      "aria-expanded": "false",
      "aria-controls": "civic-chat-panel",
    });
    launcher.appendChild(bubbleIcon());
    launcher.appendChild(said("span", {}, "launcher"));

    var panel = el("section", {
      id: "civic-chat-panel",
      class: "civic-chat__panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "civic-chat-title",
    });
    panel.hidden = true;

    var header = el("div", { class: "civic-chat__header" });
    header.appendChild(said("h2", { id: "civic-chat-title", class: "civic-chat__title" }, "title"));
    // A button per other language, named in that language (so each carries its own `lang`).
    var switches = {};
    LANGUAGES.forEach(function (code) {
      var strings = stringsFor(code);
      var button = el(
        "button",
        { type: "button", class: "civic-chat__language", lang: code, "aria-label": strings.languageSwitch },
        strings.languageName
      );
      button.addEventListener("click", function () {
        chooseLanguage(code);
      });
      switches[code] = button;
      header.appendChild(button);
    });
    var restart = said("button", { type: "button", class: "civic-chat__restart", "data-civic-label": "restart" }, "restartText");
    var close = el("button", { type: "button", class: "civic-chat__close", "data-civic-label": "close" });
    close.appendChild(el("span", { "aria-hidden": "true" }, "\u00D7"));
    header.appendChild(restart);
    header.appendChild(close);

    var status = el("p", { class: "civic-chat__status", role: "status" });
    // The pinned notice: a labelled region, not live itself (re-rendering it says nothing); a new
    // notice is announced once through `announcer`.
    var banner = el("div", { class: "civic-chat__banner", role: "region", "data-civic-label": "noticeLabel" });
    banner.hidden = true;
    var announcer = el("p", { class: "civic-chat__sr", "aria-live": "polite" });
    var intro = said("p", { class: "civic-chat__intro" }, "intro");
    var privacy = el("p", { id: "civic-chat-privacy", class: "civic-chat__privacy" });
    privacy.appendChild(said("span", {}, "privacy"));
    privacy.appendChild(document.createTextNode(" "));
    if (config.privacyUrl) {
      privacy.appendChild(
        said("a", { href: config.privacyUrl, target: "_blank", rel: "noopener noreferrer" }, "privacyLink")
      );
    }
    var log = el("div", {
      class: "civic-chat__log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "data-civic-label": "conversation",
      tabindex: "0",
    });
    var typing = el("p", { class: "civic-chat__typing" });
    typing.appendChild(el("span", { class: "civic-chat__dots", "aria-hidden": "true" }));
    typing.appendChild(said("span", {}, "typing"));
    typing.hidden = true;

    var form = el("form", { class: "civic-chat__form", novalidate: "" });
    var label = said("label", { for: "civic-chat-input", class: "civic-chat__label" }, "inputLabel");
    // No maxlength: the browser would cut a pasted message silently. checkLength() says instead.
    var input = el("textarea", {
      id: "civic-chat-input",
      class: "civic-chat__input",
      rows: "1",
      autocomplete: "off",
      "data-civic-placeholder": "placeholder",
      "aria-describedby": "civic-chat-count civic-chat-notice",
    });
    var send = said("button", { type: "submit", class: "civic-chat__send", "data-civic-label": "send" }, "sendText");
    var count = el("p", { id: "civic-chat-count", class: "civic-chat__count" });
    var notice = el("p", { id: "civic-chat-notice", class: "civic-chat__notice", "aria-live": "polite" });
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);
    form.appendChild(count);
    form.appendChild(notice);

    panel.appendChild(header);
    panel.appendChild(banner);
    panel.appendChild(announcer);
    panel.appendChild(status);
    panel.appendChild(intro);
    panel.appendChild(privacy);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);
    localize(root);
    document.body.appendChild(root);

    ui = { root: root, launcher: launcher, panel: panel, log: log, typing: typing, status: status,
      intro: intro, privacy: privacy, input: input, form: form, restart: restart, close: close, send: send, count: count,
      notice: notice, banner: banner, announcer: announcer, switches: switches };
    showSwitches();

    launcher.addEventListener("click", function () {
      if (panel.hidden) openPanel(true);
      else closePanel();
    });
    close.addEventListener("click", closePanel);
    restart.addEventListener("click", startOver);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closePanel();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) return;
      if (!checkLength(true)) {
        input.focus();
        return;
      }
      input.value = "";
      checkLength(false);
      say(text, text);
    });
    // Enter sends, Shift+Enter starts a new line (not while an input method is composing).
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener("input", function () {
      checkLength(false);
    });
  }

  /* ---------- message length ---------- */

  function formatNumber(n) {
    try {
      return n.toLocaleString(locale);
    } catch (e) {
      return String(n);
    }
  }

  /* A string of T by the plural category of `n`, its {placeholders} filled with formatted numbers. */
  function plural(name, n, values) {
    var forms = T[name];
    var text = typeof forms === "string" ? forms : forms[plurals ? plurals.select(n) : "other"] || forms.other;
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return key in values ? formatNumber(values[key]) : whole;
    });
  }

  /* Characters as the server counts them (code points, so an emoji is one). */
  function lengthOf(text) {
    return Array.from(text).length;
  }

  var noticeTimer = null;

  /*
   * Show how long the message is against the limit; true when it may be sent. The live notice is
   * updated after a pause in typing (so a screen reader is not told every key), at once when the
   * citizen tries to send (`refused`), and emptied first then so the same words are read again.
   */
  function checkLength(refused) {
    var max = config.maxLength;
    var count = lengthOf(ui.input.value.trim());
    var over = count - max;
    var left = max - count;
    autoGrow();
    ui.count.textContent =
      over <= 0 && left < config.warnWithin ? plural("charactersLeft", left, { left: left, max: max }) : "";
    ui.input.setAttribute("aria-invalid", over > 0 ? "true" : "false");
    ui.send.setAttribute("aria-disabled", over > 0 ? "true" : "false");
    var message = over > 0 ? plural("tooLong", over, { count: count, max: max, over: over }) : "";
    clearTimeout(noticeTimer);
    if (refused || !message) {
      if (refused) ui.notice.textContent = "";
      noticeTimer = setTimeout(function () {
        ui.notice.textContent = message;
      }, refused ? 50 : 0);
    } else if (ui.notice.textContent !== message) {
      noticeTimer = setTimeout(function () {
        ui.notice.textContent = message;
      }, 600);
    }
    return over <= 0;
  }

  /* The box grows with what is typed or pasted, up to its CSS max-height, then scrolls. */
  function autoGrow() {
    var box = ui.input;
    box.style.height = "auto";
    box.style.height = box.scrollHeight + (box.offsetHeight - box.clientHeight) + "px";
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function render(message) {
    var mine = message.from === "user";
    var item = el("div", { class: "civic-chat__msg civic-chat__msg--" + (mine ? "user" : "bot") });
    item.appendChild(said("span", { class: "civic-chat__sr" }, mine ? "you" : "bot"));
    item.appendChild(document.createTextNode(" "));
    var body = el("span", { class: "civic-chat__text" });
    if (message.text) richText(body, message.text);
    item.appendChild(body);
    if (message.image) {
      var src = null;
      try {
        var parsed = new URL(message.image, window.location.href);
        if (parsed.protocol === "https:" || parsed.protocol === "http:") src = parsed.href;
      } catch (e) {
        src = null;
      }
      if (src) {
        var alt = message.alt ? { alt: message.alt } : { alt: T.image, "data-civic-alt": "image" };
        item.appendChild(el("img", Object.assign({ src: src, class: "civic-chat__image" }, alt)));
      }
    }
    if (message.queued) {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(said("span", { class: "civic-chat__queued" }, "queued"));
    }
    ui.log.appendChild(item);
    if (message.buttons && message.buttons.length) {
      var group = el("div", {
        class: "civic-chat__replies",
        role: "group",
        "aria-label": T.repliesLabel,
        "data-civic-label": "repliesLabel",
      });
      message.buttons.forEach(function (button) {
        var node = el("button", { type: "button", class: "civic-chat__reply" }, button.title);
        node.addEventListener("click", function () {
          say(button.payload || button.title, button.title);
          ui.input.focus();
        });
        group.appendChild(node);
      });
      ui.log.appendChild(group);
    }
    if (message.feedback) renderRating(message.feedback);
    showWelcome(false);
    scrollToEnd();
    return item;
  }

  var THUMB = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
    "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";

  /* A thumb up (or, turned over, down): decoration, the button's name is its hidden text. */
  function thumbIcon(value) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "civic-chat__thumb civic-chat__thumb--" + value);
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", THUMB);
    svg.appendChild(path);
    return svg;
  }

  var ratings = 0; // numbers the rating questions' ids

  /* The question and its two toggle buttons under a rated answer; `feedback.chosen` is kept. */
  function renderRating(feedback) {
    ratings += 1;
    var questionId = "civic-chat-rating-" + ratings;
    var group = el("div", { class: "civic-chat__rating", role: "group", "aria-labelledby": questionId });
    var attrs = { id: questionId, class: "civic-chat__rating-question" };
    // The server's question, in the conversation's language; the widget's own when it sent none.
    group.appendChild(feedback.question ? el("span", attrs, feedback.question) : said("span", attrs, "rateQuestion"));
    var nodes = [];
    feedback.options.forEach(function (option) {
      var node = el("button", {
        type: "button",
        class: "civic-chat__rate",
        "aria-pressed": feedback.chosen === option.value ? "true" : "false",
      });
      node.appendChild(thumbIcon(option.value));
      node.appendChild(el("span", { class: "civic-chat__sr" }, option.label));
      node.addEventListener("click", function () {
        if (feedback.chosen === option.value) return; // the same rating again: nothing to change
        feedback.chosen = option.value;
        nodes.forEach(function (other) {
          other.setAttribute("aria-pressed", other === node ? "true" : "false");
        });
        save();
        say(option.payload, option.label); // the transcript says what was chosen, in words
      });
      nodes.push(node);
      group.appendChild(node);
    });
    ui.log.appendChild(group);
  }

  /*
   * The intro and the privacy notice, shown until the first message. While shown, the notice is
   * also the message box's description, so a screen reader says it before anything is typed.
   */
  function showWelcome(on) {
    ui.intro.hidden = !on;
    ui.privacy.hidden = !on;
    var described = ["civic-chat-count", "civic-chat-notice"];
    if (on) described.push("civic-chat-privacy");
    ui.input.setAttribute("aria-describedby", described.join(" "));
  }

  function renderAll() {
    ui.log.textContent = "";
    showWelcome(true);
    state.messages.forEach(render);
    state.queue.forEach(function (queued) {
      render({ from: "user", text: queued.display, queued: true });
    });
  }

  /* ---------- conversation ---------- */

  var connection = new Connection({
    connected: function () {
      refused = false;
      setStatus(null);
      connection.emit("session_request", { session_id: state.sessionId });
    },
    rejected: function () {
      refused = true; // e.g. a missing or expired JWT: say so rather than "reconnecting"
      setStatus("rejected");
    },
    disconnected: function () {
      ready = false;
      setTyping(false);
      if (!refused) setStatus("reconnecting");
    },
    event: function (name, data) {
      if (name === "session_confirm") confirmSession(data);
      else if (name === "bot_uttered") {
        receive(data);
        askNotice(true);
      } else if (name === "notice") showNotice(data);
    },
  });
  var ready = false;
  var refused = false;
  var typingTimer = null;

  function confirmSession(data) {
    var id = typeof data === "string" ? data : data && data.session_id;
    if (!id) return;
    if (state.sessionId && state.sessionId !== String(id)) {
      // Not the stored session (the server did not recognise it): that conversation is gone, and
      // the new one has not been told the widget's language.
      state.told = null;
      if (state.messages.length) {
        state.messages = [];
        renderAll();
      }
    }
    state.sessionId = String(id);
    ready = true;
    save();
    flush();
    pollNotice();
  }

  function setTyping(on) {
    clearTimeout(typingTimer);
    ui.typing.hidden = !on;
    if (on) {
      typingTimer = setTimeout(function () {
        ui.typing.hidden = true;
      }, 20000);
      scrollToEnd();
    }
  }

  /*
   * Show the citizen's message at once; send it now or when the connection is back (never lost).
   * `switchTo` marks the language switch's own payload (the assistant is then told that language).
   */
  function say(payload, display, switchTo) {
    var queued = { payload: payload, display: display };
    if (switchTo) queued.language = switchTo;
    if (!(ready && connection.connected && transmit(queued))) {
      state.queue.push(queued);
      save();
      render({ from: "user", text: display, queued: true });
      connection.start();
    }
  }

  /*
   * Emit one message, first telling the assistant the widget's language if it was not told yet (a
   * new conversation not in English); false when the socket is not open.
   */
  function emitMessage(queued) {
    if (!queued.language && (state.told || SOURCE_LANGUAGE) !== language) {
      if (!emitUttered(switchPayload(language))) return false;
      state.told = language;
    }
    if (!emitUttered(queued.payload)) return false;
    if (queued.language) state.told = queued.language;
    return true;
  }

  function emitUttered(payload) {
    return connection.emit("user_uttered", { message: payload, session_id: state.sessionId, language: language });
  }

  function transmit(queued) {
    if (!emitMessage(queued)) return false;
    var message = { from: "user", text: queued.display };
    state.messages.push(message);
    save();
    render(message);
    setTyping(true);
    return true;
  }

  /* Send what was typed while offline, in order; whatever cannot go now stays queued. */
  function flush() {
    if (!state.queue.length) return;
    var sent = 0;
    while (sent < state.queue.length) {
      var queued = state.queue[sent];
      if (!emitMessage(queued)) break;
      state.messages.push({ from: "user", text: queued.display });
      sent += 1;
    }
    state.queue = state.queue.slice(sent);
    save();
    renderAll(); // the sent ones lose their "(waiting to send)" mark
    if (sent) setTyping(true);
  }

  function buttonsOf(data) {
    var list = data.quick_replies || data.buttons || [];
    if (!Array.isArray(list)) return [];
    return list
      .filter(function (b) {
        return b && typeof b.title === "string";
      })
      .map(function (b) {
        return { title: b.title, payload: typeof b.payload === "string" ? b.payload : b.title };
      });
  }

  /* A rated answer's question and two options, checked field by field (null when there is none). */
  function feedbackOf(data) {
    var feedback = data.feedback;
    if (!feedback || typeof feedback !== "object" || !Array.isArray(feedback.options)) return null;
    var options = feedback.options
      .filter(function (o) {
        return o && (o.value === "up" || o.value === "down") && typeof o.payload === "string" &&
          typeof o.label === "string" && o.label;
      })
      .map(function (o) {
        return { value: o.value, label: o.label, payload: o.payload };
      });
    if (!options.length) return null;
    var question = typeof feedback.question === "string" ? feedback.question : "";
    return { question: question, options: options, chosen: null };
  }

  function receive(data) {
    if (!data || typeof data !== "object") return;
    var message = { from: "bot", text: typeof data.text === "string" ? data.text : "", buttons: buttonsOf(data) };
    var feedback = feedbackOf(data);
    if (feedback) message.feedback = feedback;
    var attachment = data.attachment;
    if (attachment && typeof attachment === "object") {
      var payload = attachment.payload || {};
      var url = payload.src || payload.url;
      if (attachment.type === "image" && typeof url === "string") message.image = url;
      else if (typeof url === "string") message.text = (message.text ? message.text + "\n" : "") + url;
    }
    if (!message.text && !message.image && !message.buttons.length) return;
    setTyping(false);
    state.messages.push(message);
    save();
    render(message);
  }

  /* ---------- the pinned notice ---------- */

  var NOTICE_KEY = STORE_KEY + ":notice"; // the notice last announced, so a reload does not repeat it
  var noticeShown = null;
  var noticeExpiry = null;
  var noticePoll = null;
  var noticeAsked = null;

  /* Ask the server for the current notice: now, or (after a reply) once the replies have settled. */
  function askNotice(soon) {
    clearTimeout(noticeAsked);
    noticeAsked = setTimeout(function () {
      if (connection.connected) connection.emit("notice_request", {});
    }, soon ? 1000 : 0);
  }

  function pollNotice() {
    clearInterval(noticePoll);
    noticePoll = setInterval(askNotice, config.noticePollSeconds * 1000);
  }

  function announced() {
    try {
      return window.sessionStorage.getItem(NOTICE_KEY);
    } catch (e) {
      return null;
    }
  }

  function rememberAnnounced(key) {
    try {
      window.sessionStorage.setItem(NOTICE_KEY, key);
    } catch (e) {
      /* ignore */
    }
  }

  function hideNotice() {
    clearTimeout(noticeExpiry);
    noticeShown = null;
    ui.banner.hidden = true;
    ui.banner.textContent = "";
  }

  function showNotice(data) {
    var text = data && typeof data.text === "string" ? data.text : "";
    var expires = data ? Number(data.expires_at) * 1000 : 0;
    if (!text || (expires && expires <= Date.now())) {
      hideNotice();
      return;
    }
    var link = webLink(data.link);
    var key = JSON.stringify([text, link, data.pinned_at || 0]);
    clearTimeout(noticeExpiry);
    if (expires) noticeExpiry = setTimeout(hideNotice, Math.min(expires - Date.now(), 2147483647));
    if (key === noticeShown) return; // the same notice again: nothing changes, nothing is said
    noticeShown = key;
    ui.banner.textContent = "";
    ui.banner.appendChild(el("p", { class: "civic-chat__banner-text" }, text));
    if (link) {
      var more = el("p", { class: "civic-chat__banner-link" });
      more.appendChild(said("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, "noticeLink"));
      ui.banner.appendChild(more);
    }
    ui.banner.hidden = false;
    if (announced() !== key) {
      rememberAnnounced(key);
      ui.announcer.textContent = T.noticeAnnounce + text;
    }
  }

  function openPanel(moveFocus) {
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.root.classList.add("civic-chat--open");
    rememberOpen(true);
    if (!connection.connected) setStatus("connecting");
    connection.start();
    scrollToEnd();
    if (moveFocus) ui.input.focus();
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.root.classList.remove("civic-chat--open");
    rememberOpen(false);
    ui.launcher.focus();
  }

  /* The status line: a string of T by name (so it follows the language), or nothing. */
  function setStatus(key) {
    if (key) {
      ui.status.setAttribute("data-civic-text", key);
      ui.status.textContent = T[key];
    } else {
      ui.status.removeAttribute("data-civic-text");
      ui.status.textContent = "";
    }
  }

  /* Every text of the widget in `code`, at once (its messages' hidden "You:" too). */
  function setLanguage(code) {
    language = code;
    locale = localeFor(code);
    plurals = pluralRules(locale);
    T = stringsFor(code);
    ui.root.setAttribute("lang", code);
    localize(ui.root);
    showSwitches();
    if (ui.input.value) checkLength(false);
  }

  /* The header offers every language but the current one. */
  function showSwitches() {
    LANGUAGES.forEach(function (code) {
      ui.switches[code].hidden = code === language;
    });
  }

  /*
   * The citizen picked a language: the widget changes at once and remembers it; a conversation
   * under way tells the assistant now (the citizen's message is the language's name, and the
   * assistant confirms in it), a new one with its first message. Focus goes to the message box,
   * as after "New chat" (the button pressed is gone: it offers the language now in use).
   */
  function chooseLanguage(code) {
    if (code === language || LANGUAGES.indexOf(code) < 0) return;
    setLanguage(code);
    rememberLanguage(code);
    if (state.messages.length || state.queue.length) say(switchPayload(code), T.languageName, code);
    ui.input.focus();
  }

  /* A fresh session (e.g. on a shared computer): forget the id, the transcript and the queue. */
  function startOver() {
    connection.stop();
    ready = false;
    state = fresh();
    save();
    renderAll();
    setTyping(false);
    setStatus("connecting");
    connection.start();
    ui.input.focus();
  }

  function addStylesheet() {
    if (!config.stylesheet || document.querySelector('link[data-civic-chat]')) return;
    var link = el("link", { rel: "stylesheet", href: config.stylesheet, "data-civic-chat": "" });
    document.head.appendChild(link);
  }

  function init() {
    addStylesheet();
    build();
    renderAll();
    if (wasOpen()) openPanel(false);
    else if (state.queue.length) connection.start();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
