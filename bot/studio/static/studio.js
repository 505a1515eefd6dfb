// The content studio's pages, a little better with script: question rows to add and remove, the
// error summary focused after a refused save, and a training job's progress polled every 2 seconds.
// The pages work without this script: rows are cleared to remove them (the server drops empty ones),
// and the server renders the job's state as it was when the page loaded.
(function () {
  "use strict";

  var POLL_MS = 2000;
  var DONE = { swapped: true, refused: true, failed: true };

  function announce(text) {
    var region = document.getElementById("announcer");
    if (region) {
      region.textContent = text;
    }
  }

  // --- question rows ------------------------------------------------------------------------

  function renumber(list) {
    var rows = list.querySelectorAll(".question-row");
    Array.prototype.forEach.call(rows, function (row, index) {
      var label = row.querySelector("label");
      var remove = row.querySelector("button.remove-question");
      if (label) {
        label.textContent = "Question " + (index + 1);
      }
      if (remove) {
        remove.textContent = "Remove question " + (index + 1);
      }
    });
  }

  function addRemoveButton(list, row) {
    var input = row.querySelector("input");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary remove-question";
    button.addEventListener("click", function () {
      var next = row.nextElementSibling || row.previousElementSibling;
      var text = input ? input.value : "";
      row.parentNode.removeChild(row);
      renumber(list);
      var target = next && next.querySelector("input");
      (target || document.getElementById("add-question")).focus();
      announce(text ? "Question removed: " + text : "Question removed.");
    });
    row.appendChild(button);
  }

  function questionRows(list) {
    var counter = list.querySelectorAll(".question-row").length;
    // The empty rows are for adding without script; the Add button replaces them.
    Array.prototype.forEach.call(list.querySelectorAll(".question-row[data-spare]"), function (row) {
      var input = row.querySelector("input");
      if (input && !input.value && list.querySelectorAll(".question-row").length > 1) {
        row.parentNode.removeChild(row);
      }
    });
    Array.prototype.forEach.call(list.querySelectorAll(".question-row"), function (row) {
      addRemoveButton(list, row);
    });
    var add = document.createElement("button");
    add.type = "button";
    add.id = "add-question";
    add.className = "secondary";
    add.textContent = "Add a question";
    add.addEventListener("click", function () {
      var id = "question-new-" + counter;
      counter += 1;
      var row = document.createElement("div");
      row.className = "question-row";
      var label = document.createElement("label");
      label.setAttribute("for", id);
      var input = document.createElement("input");
      input.type = "text";
      input.id = id;
      input.name = "questions";
      if (list.getAttribute("data-lang")) {
        input.lang = list.getAttribute("data-lang"); // the language the rows are written in
      }
      row.appendChild(label);
      row.appendChild(input);
      addRemoveButton(list, row);
      list.appendChild(row);
      renumber(list);
      input.focus();
      announce("Question added.");
    });
    list.parentNode.insertBefore(add, list.nextSibling);
    var hint = document.getElementById("questions-hint-nojs");
    if (hint) {
      hint.hidden = true;
    }
    renumber(list);
  }

  // --- training job -------------------------------------------------------------------------

  var STATES = {
    queued: "Waiting to start: it is queued behind any training that is running.",
    running: "Training the new model.",
    swapped: "Done: the new model answers citizens now.",
    refused: "The check refused the new model: the running model stays. Why:",
    failed: "Training failed: the running model stays.",
  };

  function showJob(root, job) {
    var bar = document.getElementById("job-progress");
    var percent = Math.max(0, Math.min(100, Math.round(Number(job.progress) || 0)));
    if (bar) {
      bar.value = percent;
      bar.textContent = percent + "%";
    }
    var status = document.getElementById("job-status");
    var phase = job.phase ? " (" + job.phase + ")" : "";
    var text = (STATES[job.state] || job.state) + (job.state === "running" ? phase : "");
    if (job.state === "failed" && job.message) {
      text += " " + job.message;
    }
    if (status && status.getAttribute("data-state") !== job.state) {
      status.textContent = text;
      status.setAttribute("data-state", job.state);
    }
    var percentText = document.getElementById("job-percent");
    if (percentText) {
      percentText.textContent = percent + "%";
    }
    var reasons = document.getElementById("gate-reasons");
    var list = (job.gate && job.gate.reasons) || [];
    if (reasons && job.state === "refused") {
      reasons.textContent = "";
      list.forEach(function (reason) {
        var item = document.createElement("li");
        item.textContent = reason;
        reasons.appendChild(item);
      });
      reasons.hidden = list.length === 0;
    }
    root.setAttribute("data-state", job.state);
  }

  function pollJob(root) {
    var id = root.getAttribute("data-job");
    function tick() {
      fetch("/api/content/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (job) {
          showJob(root, job);
          if (!DONE[job.state]) {
            window.setTimeout(tick, POLL_MS);
          }
        })
        .catch(function () {
          window.setTimeout(tick, POLL_MS * 2);
        });
    }
    if (!DONE[root.getAttribute("data-state")]) {
      window.setTimeout(tick, POLL_MS);
    }
  }

  // --- start ----------------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
    var list = document.getElementById("question-rows");
    if (list) {
      questionRows(list);
    }
    var job = document.getElementById("training");
    if (job && job.getAttribute("data-job")) {
      pollJob(job);
    }
  });
})();
