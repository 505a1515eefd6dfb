// The /broadcasts pages without a reload: the SMS segment counter and the audience while composing,
// and the delivery's progress and per-channel report every 2 seconds while a broadcast is sending.
// The pages work without this script: the server renders every value too.
(function () {
  "use strict";

  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENDED = "^{}\\[~]|€\f";
  var MAX_SEGMENTS = 2;
  var POLL_MS = 2000;

  function announce(text) {
    var region = document.getElementById("announcer");
    if (region) {
      region.textContent = text;
    }
  }

  // Mirrors bot/broadcasts/validation.py `sms_length`.
  function smsLength(text) {
    var gsm = true;
    var units = 0;
    var i;
    for (i = 0; i < text.length; i += 1) {
      var c = text.charAt(i);
      if (GSM_EXTENDED.indexOf(c) >= 0) {
        units += 2;
      } else if (GSM_BASIC.indexOf(c) >= 0) {
        units += 1;
      } else {
        gsm = false;
      }
    }
    if (!gsm) {
      units = text.length; // UTF-16 code units, as UCS-2 counts them
    }
    var single = gsm ? 160 : 70;
    var part = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
    return { encoding: gsm ? "GSM-7" : "UCS-2", units: units, segments: segments };
  }

  function counter(hint) {
    var field = document.getElementById(hint.getAttribute("data-count-for"));
    if (!field) {
      return;
    }
    function update() {
      var length = smsLength(field.value);
      var word = length.segments === 1 ? " SMS segment" : " SMS segments";
      hint.textContent = field.value.length + " characters, " + length.segments + word +
        " (" + length.encoding + ")" + (length.segments > MAX_SEGMENTS ? ": over " + MAX_SEGMENTS : "");
      hint.classList.toggle("over", length.segments > MAX_SEGMENTS);
    }
    field.addEventListener("input", update);
    update();
  }

  function chosen(form, name) {
    var values = [];
    var fields = form.querySelectorAll("[name='" + name + "']");
    Array.prototype.forEach.call(fields, function (field) {
      if (field.tagName === "SELECT") {
        Array.prototype.forEach.call(field.selectedOptions, function (option) {
          values.push(option.value);
        });
      } else if (field.checked) {
        values.push(field.value);
      }
    });
    return values;
  }

  function audience(form) {
    var out = document.getElementById("compose-audience");
    if (!out) {
      return;
    }
    function update() {
      var areas = chosen(form, "areas");
      var channels = chosen(form, "channels");
      if (!areas.length || !channels.length) {
        out.textContent = "Choose at least one area and one channel to see the audience.";
        return;
      }
      var query = new URLSearchParams({
        topic: form.elements.topic.value,
        areas: areas.join(","),
        channels: channels.join(","),
      });
      fetch("/api/broadcasts/audience?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) {
          return response.json();
        })
        .then(function (body) {
          if (body.audience) {
            var n = body.audience.total;
            out.textContent = "Audience now: " + n + (n === 1 ? " subscriber." : " subscribers.");
          } else {
            out.textContent = body.error || "";
          }
        })
        .catch(function () {
          out.textContent = "";
        });
    }
    form.addEventListener("change", update);
    update();
  }

  var LABELS = { sending: "sending", sent: "sent", cancelled: "cancelled", pending_approval: "waiting for approval" };

  function showReport(root, body) {
    var counts = body.counts;
    var total = counts.queued + counts.sent + counts.failed + counts.skipped;
    var settled = counts.sent + counts.failed + counts.skipped;
    var percent = total ? Math.round((100 * settled) / total) : 100;
    var bar = document.getElementById("progress");
    if (bar) {
      bar.max = total || 1;
      bar.value = total ? settled : 1;
      bar.textContent = percent + "%";
    }
    var text = document.getElementById("progress-text");
    if (text) {
      text.textContent = settled + " of " + total + " settled (" + percent + "%).";
    }
    Array.prototype.forEach.call(root.querySelectorAll("#report tr[data-channel]"), function (row) {
      var name = row.getAttribute("data-channel");
      var values = name === "total" ? counts : body.by_channel[name] || {};
      Array.prototype.forEach.call(row.querySelectorAll("td[data-outcome]"), function (cell) {
        cell.textContent = String(values[cell.getAttribute("data-outcome")] || 0);
      });
    });
    var status = document.getElementById("broadcast-status");
    if (status) {
      status.textContent = LABELS[body.status] || body.status;
    }
  }

  function poll(root) {
    var id = root.getAttribute("data-id");
    function tick() {
      fetch("/api/broadcasts/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (body) {
          showReport(root, body);
          if (body.status === "sending") {
            window.setTimeout(tick, POLL_MS);
          } else {
            root.setAttribute("data-status", body.status);
            var hint = document.getElementById("reload-hint");
            if (hint) {
              hint.remove();
            }
            announce("The broadcast is " + (LABELS[body.status] || body.status) + ".");
          }
        })
        .catch(function () {
          window.setTimeout(tick, POLL_MS * 2);
        });
    }
    window.setTimeout(tick, POLL_MS);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-count-for]"), counter);
  var compose = document.getElementById("compose");
  if (compose) {
    audience(compose);
  }
  var root = document.getElementById("broadcast");
  if (root && root.getAttribute("data-status") === "sending") {
    poll(root);
  }
})();
