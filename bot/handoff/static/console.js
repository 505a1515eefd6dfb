// Agent console: live queue and conversation pages on top of the JSON API (/api) and its websocket.
// Citizen text is only ever put in the page with textContent, never as HTML.
"use strict";

(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : "";
  const announcer = document.getElementById("announcer");

  function announce(message) {
    if (!announcer) return;
    announcer.textContent = "";
    // A fresh text node after a tick makes screen readers announce repeated messages too.
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function errorText(status, data) {
    if (data && typeof data === "object") {
      for (const field of ["error", "message", "reason", "detail"]) {
        if (typeof data[field] === "string" && data[field]) return data[field];
      }
    }
    if (status === 401) return "Your session has ended. Sign in again.";
    return "The request failed (HTTP " + status + "). Try again.";
  }

  function randomId() {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  async function api(method, path, body) {
    const headers = { "Accept": "application/json", "X-CSRF-Token": csrfToken };
    const init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      return { ok: false, status: 0, data: null, error: "The console cannot be reached. Check your connection." };
    }
    let data;
    try { data = await response.json(); } catch (err) { data = null; }
    if (response.status === 401 && !response.ok) {
      window.location.assign("/login");
    }
    return { ok: response.ok, status: response.status, data: data, error: response.ok ? "" : errorText(response.status, data) };
  }

  function toDate(value) {
    if (value === null || value === undefined || value === "") return null;
    if (typeof value === "number") return new Date(value < 1e12 ? value * 1000 : value);
    const parsed = new Date(value);
    return isNaN(parsed.getTime()) ? null : parsed;
  }

  function timeText(value) {
    const date = toDate(value);
    if (!date) return value ? String(value) : "";
    const minutes = Math.max(0, Math.round((Date.now() - date.getTime()) / 60000));
    const clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return clock + " (" + minutes + " min ago)";
  }

  // The citizen's language by its own name; marked as that language only when the code is a plain
  // language code (it comes from the conversation and may be anything).
  function languageBadge(code, name, id) {
    const attrs = { "class": "language-badge" };
    if (id) attrs.id = id;
    if (/^[a-z]{2}$/.test(String(code || ""))) attrs.lang = String(code);
    return el("span", attrs, name || code || "");
  }

  function summaryNode(summary) {
    if (summary === null || summary === undefined || summary === "") return el("span", {}, "");
    if (typeof summary !== "object") return el("span", { "class": "summary-text" }, summary);
    const list = el("dl");
    for (const [key, value] of Object.entries(summary)) {
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
      list.appendChild(el("dt", {}, key.replace(/_/g, " ")));
      list.appendChild(el("dd", {}, formatValue(value)));
    }
    return list;
  }

  function formatValue(value) {
    if (Array.isArray(value)) return value.map(formatValue).join("\n");
    if (value && typeof value === "object") {
      if ("text" in value) return (value.sender ? value.sender + ": " : "") + value.text;
      return Object.entries(value).map(function (pair) { return pair[0] + ": " + formatValue(pair[1]); }).join(", ");
    }
    return String(value);
  }

  // ---- live events -------------------------------------------------------------------------------
  function connectEvents(onEvent) {
    let delay = 1000;
    function open() {
      const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      const socket = new WebSocket(scheme + window.location.host + "/api/events");
      socket.addEventListener("open", function () { delay = 1000; onEvent({ type: "connected" }); });
      socket.addEventListener("message", function (message) {
        let event;
        try { event = JSON.parse(message.data); } catch (err) { return; }
        onEvent(event);
      });
      socket.addEventListener("close", function () {
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    open();
  }

  function eventType(event) {
    return String(event.type || event.event || event.kind || "");
  }

  function eventConversation(event) {
    return event.conversation_id || (event.entry && event.entry.conversation_id) || (event.data && event.data.conversation_id) || "";
  }

  function describe(event) {
    const type = eventType(event);
    if (/queue|new|waiting|ticket/.test(type)) return "New chat in the queue.";
    if (/claim/.test(type)) return "A chat was claimed" + (event.agent ? " by " + event.agent : "") + ".";
    if (/release/.test(type)) return "A chat was released back to the queue.";
    if (/transfer/.test(type)) return "A chat was transferred" + (event.agent ? " to " + event.agent : "") + ".";
    if (/close|expire/.test(type)) return event.how === "left" ? "A citizen left the queue." : "A chat was closed.";
    if (/message/.test(type)) return event.message && event.message.sender === "citizen" ? "New citizen message." : "";
    return "";
  }

  // ---- queue page --------------------------------------------------------------------------------
  function setupQueue(root) {
    const body = root.querySelector("tbody");
    const empty = document.getElementById("queue-empty");
    const errorBox = document.getElementById("queue-error");

    function render(entries) {
      body.replaceChildren();
      for (const entry of entries) {
        const row = el("tr", { "data-conversation": entry.conversation_id });
        row.appendChild(el("td", {}, entry.channel));
        const language = el("td");
        language.appendChild(languageBadge(entry.language, entry.language_name));
        row.appendChild(language);
        row.appendChild(el("td", {}, entry.reason));
        const since = el("td");
        since.appendChild(el("time", { "datetime": String(entry.waiting_since || "") }, timeText(entry.waiting_since)));
        row.appendChild(since);
        const status = el("td", { "class": "status" }, entry.status + (entry.agent ? " (" + entry.agent + ")" : ""));
        row.appendChild(status);
        const summary = el("td", { "class": "summary" });
        summary.appendChild(summaryNode(entry.summary));
        row.appendChild(summary);
        const action = el("td");
        if (entry.status === "waiting") {
          const button = el("button", { "type": "button", "data-claim": entry.conversation_id }, "Claim");
          button.setAttribute("aria-label", "Claim chat " + entry.conversation_id);
          action.appendChild(button);
        } else {
          action.appendChild(el("a", { "href": "/conversations/" + encodeURIComponent(entry.conversation_id) }, "Open"));
        }
        row.appendChild(action);
        body.appendChild(row);
      }
      empty.hidden = entries.length > 0;
    }

    let pending = null;
    async function refresh() {
      const result = await api("GET", "/api/queue");
      if (!result.ok) { errorBox.textContent = result.error; return; }
      render(Array.isArray(result.data) ? result.data : []);
    }
    function refreshSoon() {
      if (pending) return;
      pending = window.setTimeout(function () { pending = null; refresh(); }, 150);
    }

    body.addEventListener("click", async function (click) {
      const button = click.target.closest("button[data-claim]");
      if (!button) return;
      const id = button.getAttribute("data-claim");
      button.disabled = true;
      errorBox.textContent = "";
      const result = await api("POST", "/api/conversations/" + encodeURIComponent(id) + "/claim");
      if (result.ok) {
        window.location.assign("/conversations/" + encodeURIComponent(id));
        return;
      }
      errorBox.textContent = result.error;
      errorBox.focus();
      refresh();
    });

    connectEvents(function (event) {
      if (eventType(event) === "connected") { refresh(); return; }
      const text = describe(event);
      if (text) announce(text);
      refreshSoon();
    });
  }

  // ---- conversation page -------------------------------------------------------------------------
  function setupConversation(root) {
    const id = root.getAttribute("data-conversation");
    const base = "/api/conversations/" + encodeURIComponent(id);
    const transcript = document.getElementById("transcript");
    const transcriptBox = document.getElementById("transcript-box");
    const statusText = document.getElementById("conversation-status");
    const errorBox = document.getElementById("conversation-error");
    const noticeBox = document.getElementById("conversation-notice");
    const replyForm = document.getElementById("reply-form");
    const replyBox = document.getElementById("reply-text");
    const replyLanguage = document.getElementById("reply-language");
    const canned = document.getElementById("canned");
    let shown = transcript.querySelectorAll("li").length;
    let cannedLanguage = replyLanguage ? replyLanguage.value : "";

    function senderLabel(sender) {
      return { citizen: "Citizen", bot: "Bot", agent: "Agent" }[sender] || String(sender);
    }

    function renderMessages(messages) {
      const fresh = messages.slice(shown);
      for (const message of fresh) {
        const item = el("li", { "class": String(message.sender) });
        item.appendChild(el("span", { "class": "sender" }, senderLabel(message.sender)));
        item.appendChild(el("time", { "class": "time", "datetime": String(message.timestamp || "") }, timeText(message.timestamp)));
        item.appendChild(el("span", { "class": "text" }, message.text));
        transcript.appendChild(item);
        if (message.sender === "citizen") announce("Citizen: " + message.text);
      }
      if (fresh.length) transcriptBox.scrollTop = transcriptBox.scrollHeight;
      shown = Math.max(shown, messages.length);
    }

    function renderLanguage(data) {
      const badge = document.getElementById("conversation-language");
      if (badge && data.language !== undefined) badge.replaceWith(languageBadge(data.language, data.language_name, "conversation-language"));
      if (!replyLanguage || !data.reply_language) return;
      // Another agent may pick a language too; never change the list under the agent using it.
      const listed = Array.from(replyLanguage.options).some(function (o) { return o.value === data.reply_language; });
      if (!listed) return;
      if (document.activeElement !== replyLanguage) replyLanguage.value = data.reply_language;
      if (data.reply_language !== cannedLanguage) loadCanned(data.reply_language);
    }

    // The canned replies in `language`, in place of those listed.
    async function loadCanned(language) {
      cannedLanguage = language;
      if (!canned) return;
      const result = await api("GET", "/api/canned_replies?language=" + encodeURIComponent(language));
      if (!result.ok || !result.data || cannedLanguage !== language) return;
      const first = canned.options[0];
      canned.replaceChildren(first);
      for (const reply of result.data.replies || []) {
        const option = el("option", { "value": String(reply.text) }, reply.title);
        option.lang = language;
        canned.appendChild(option);
      }
    }

    function renderState(data) {
      renderLanguage(data);
      const status = String(data.status || "");
      statusText.textContent = status + (data.agent ? " (" + data.agent + ")" : "");
      root.setAttribute("data-status", status);
      const mine = data.agent && data.agent === root.getAttribute("data-me");
      for (const node of root.querySelectorAll("[data-when]")) {
        const when = node.getAttribute("data-when");
        node.hidden = !((when === "waiting" && status === "waiting") || (when === "mine" && status === "claimed" && mine));
      }
    }

    async function refresh() {
      const result = await api("GET", base);
      if (!result.ok) { errorBox.textContent = result.error; return; }
      renderMessages(result.data.messages || []);
      renderState(result.data);
    }

    async function act(path, body, done) {
      errorBox.textContent = "";
      noticeBox.textContent = "";
      const result = await api("POST", base + path, body);
      if (!result.ok) {
        errorBox.textContent = result.error;
        errorBox.focus();
        return false;
      }
      await refresh();
      if (done) {
        noticeBox.textContent = done;
        announce(done);
        // The control just used may now be hidden (after close, release, transfer): keep focus on the page.
        if (document.activeElement === document.body || (document.activeElement && document.activeElement.closest("[hidden]"))) {
          noticeBox.focus();
        }
      }
      return true;
    }

    // One id per reply the agent writes: sending the same text again after a timeout or an error reuses
    // it, so the server delivers the reply once however often it is retried.
    let outgoing = null;
    function clientMessageId(text) {
      if (!outgoing || outgoing.text !== text) outgoing = { text: text, id: randomId() };
      return outgoing.id;
    }

    root.addEventListener("submit", async function (submit) {
      const form = submit.target;
      const action = form.getAttribute("data-action");
      if (!action) return;
      submit.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      try {
        if (action === "reply") {
          const text = replyBox.value.trim();
          if (!text) { errorBox.textContent = "Write a reply first."; replyBox.focus(); return; }
          const body = { text: text, client_message_id: clientMessageId(text) };
          if (await act("/messages", body, "")) { outgoing = null; replyBox.value = ""; replyBox.focus(); announce("Reply sent."); }
        } else if (action === "claim") {
          if (await act("/claim", undefined, "You have claimed this chat.")) replyBox.focus();
        } else if (action === "transfer") {
          const target = form.querySelector("[name=agent]").value.trim();
          if (!target) { errorBox.textContent = "Choose an agent to transfer to."; return; }
          await act("/transfer", { agent: target }, "Chat transferred to " + target + ".");
        } else if (action === "release") {
          await act("/release", undefined, "Chat released back to the queue.");
        } else if (action === "close") {
          await act("/close", undefined, "Chat closed and handed back to the bot.");
        }
      } finally {
        if (button) button.disabled = false;
      }
    });

    if (replyLanguage) {
      replyLanguage.addEventListener("change", async function () {
        const chosen = replyLanguage.value;
        const name = replyLanguage.options[replyLanguage.selectedIndex].textContent;
        errorBox.textContent = "";
        const result = await api("POST", base + "/language", { language: chosen });
        if (!result.ok) {
          errorBox.textContent = result.error;
          replyLanguage.value = cannedLanguage;
          errorBox.focus();
          return;
        }
        await loadCanned(chosen);
        noticeBox.textContent = "Notices and canned replies are now in " + name + ".";
        announce(noticeBox.textContent);
      });
    }

    const insert = document.getElementById("canned-insert");
    if (canned && insert) {
      insert.addEventListener("click", function () {
        if (!canned.value) return;
        replyBox.value = replyBox.value ? replyBox.value + "\n" + canned.value : canned.value;
        replyBox.focus();
      });
    }
    // Enter sends, Shift+Enter makes a new line (the usual chat convention).
    replyBox.addEventListener("keydown", function (key) {
      if (key.key === "Enter" && !key.shiftKey && !key.isComposing) {
        key.preventDefault();
        replyForm.requestSubmit();
      }
    });

    transcriptBox.scrollTop = transcriptBox.scrollHeight;
    connectEvents(function (event) {
      if (eventType(event) === "connected") { refresh(); return; }
      if (eventConversation(event) && eventConversation(event) !== id) return;
      refresh();
    });
  }

  // Server-rendered times are UTC; show them in the agent's own time zone like live ones.
  for (const node of document.querySelectorAll("time[datetime]")) node.textContent = timeText(node.getAttribute("datetime"));

  const queue = document.getElementById("queue");
  if (queue) setupQueue(queue);
  const conversation = document.getElementById("conversation");
  if (conversation) setupConversation(conversation);
})();
