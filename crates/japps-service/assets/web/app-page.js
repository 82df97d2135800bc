// japps app page: status with live progress, the launcher's output, and the actions
// (start, stop, delete, copy link, reveal a variable's value). The server renders the page
// complete; this script follows the app while it changes.
//
// While the hub says the server is pending, it polls the service's `apps/<owner>/<server>/state`
// every 2 s. Once the hub says it runs, it follows the launcher: `EventSource` on
// `<app>/_japps/events` (status and log events). Without a launcher session (401), it logs in
// to the launcher in a hidden iframe (the hub approves a user's own server without asking) and
// retries; when the hub asks for consent (an admin), it links to the launcher's logs page
// instead. When no event arrives within 5 s of opening the stream (a buffering proxy), it polls
// `_japps/api/status` and `_japps/api/logs` (every 2 s while the app starts, 5 s after).
(function () {
  "use strict";
  var doc = document;
  var page = doc.getElementById("app-page");
  if (!page) return;

  var MAX_LINES = 2000;
  var FAILURE_LINES = 20;
  var POLL_MS = 2000;
  var SILENCE_MS = 5000;

  var data = page.dataset;
  var prefix = data.prefix;
  var owner = data.owner;
  var server = data.server;
  var title = data.title;
  var own = data.own === "true";
  var full = data.role !== "sharee";
  var appPath = data.appPath;
  var stateUrl = data.stateUrl;

  function $(id) { return doc.getElementById(id); }
  var chip = $("app-status");
  var progress = $("progress");
  var openButton = $("open-app");
  var startButton = $("start-app");
  var stopButton = $("stop-app");
  var deleteButton = $("delete-app");
  var failureBox = $("failure");
  var failureReason = $("failure-reason");
  var failureLines = $("failure-lines");
  var logView = $("log-lines");
  var logsState = $("logs-state");
  var openLogs = $("open-logs");
  var notice = $("notice");

  // What is known: the hub's view of the server, and the launcher's view of the app.
  var hub = { status: data.hubStatus, pending: data.pending || null };
  var launcher = { phase: null, reason: "", failed: false, unreachable: false };
  var lastSeq = -1;
  var lines = [];

  // ---- notices and the confirm dialog (as on the home page) ----
  var noticeTimer;
  function say(text, isError) {
    clearTimeout(noticeTimer);
    notice.className = isError ? "error" : "";
    notice.textContent = text;
    noticeTimer = setTimeout(function () { notice.textContent = ""; }, isError ? 10000 : 5000);
  }
  var dialog = $("confirm");
  function confirmAction(message, okLabel, opener) {
    return new Promise(function (resolve) {
      if (!dialog || typeof dialog.showModal !== "function") { resolve(window.confirm(message)); return; }
      $("confirm-message").textContent = message;
      $("confirm-ok").textContent = okLabel;
      dialog.returnValue = "";
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (opener && opener.isConnected) opener.focus();
        resolve(dialog.returnValue === "ok");
      });
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }
  if (dialog) {
    dialog.addEventListener("keydown", function (event) {
      if (event.key !== "Tab") return;
      var items = dialog.querySelectorAll("button");
      var first = items[0], last = items[items.length - 1];
      if (event.shiftKey && doc.activeElement === first) { last.focus(); event.preventDefault(); }
      else if (!event.shiftKey && doc.activeElement === last) { first.focus(); event.preventDefault(); }
    });
  }

  // ---- HTTP ----
  function request(method, url) {
    return fetch(url, { method: method, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (!response.ok) {
            var detail = body && body.detail ? body.detail : "The request failed (" + response.status + ").";
            var err = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
            err.status = response.status;
            throw err;
          }
          return body;
        });
      }, function () {
        var err = new Error("The service cannot be reached. Check your connection and try again.");
        err.status = 0;
        throw err;
      });
  }
  function api(method, path) {
    return request(method, prefix + path).catch(function (err) {
      if (err.status === 401) location.reload();
      throw err;
    });
  }
  function serverPath() { return "server/" + encodeURIComponent(server); }

  // ---- what the page shows ----
  var LABELS = { running: "Running", ready: "Ready", pending: "Pending", unknown: "Unknown", failed: "Failed", starting: "Starting", stopping: "Stopping" };
  var lastAnnounced = progress.textContent;
  function announce(text) {
    // The one live region: status changes only, never log lines.
    if (text === lastAnnounced) return;
    lastAnnounced = text;
    progress.textContent = text;
  }
  function view() {
    if (launcher.failed && hub.status !== "pending") return "failed";
    if (hub.status === "pending") return hub.pending === "stop" ? "stopping" : "starting";
    if (hub.status === "running") {
      if (!full || launcher.unreachable || launcher.phase === "ready") return "running";
      if (launcher.phase === "failed") return "failed";
      return "starting";
    }
    return hub.status;
  }
  function render() {
    var shown = view();
    var kind = shown === "starting" || shown === "stopping" ? "pending" : shown;
    page.setAttribute("data-status", shown);
    page.setAttribute("data-hub-status", hub.status);
    page.setAttribute("data-phase", launcher.phase || "");
    chip.className = "app-status chip status-" + kind;
    chip.textContent = LABELS[shown] || shown;
    if (openButton) openButton.hidden = shown !== "running";
    if (startButton) startButton.hidden = hub.status !== "ready";
    if (stopButton) stopButton.hidden = hub.status !== "running";
    failureBox.hidden = !launcher.failed;
    var text = {
      starting: hub.status === "pending" ? "The hub is starting the app…" : "The app is starting…",
      stopping: "The app is stopping…",
      running: "The app is running.",
      ready: "The app is not running.",
      failed: "The app did not start.",
      unknown: "The app's state is unknown."
    }[shown];
    announce(text || "");
  }

  // ---- the output ----
  function atBottom(el) { return el.scrollHeight - el.scrollTop - el.clientHeight < 24; }
  function addLines(batch) {
    if (!logView || !batch.length) return;
    var follow = atBottom(logView);
    var fresh = doc.createDocumentFragment();
    batch.forEach(function (line) {
      if (typeof line.seq === "number") {
        if (line.seq <= lastSeq) return;
        lastSeq = line.seq;
      }
      var text = String(line.text === undefined ? line : line.text);
      lines.push(text);
      var span = doc.createElement("span");
      span.className = "log-line" + (line.source === "stderr" ? " stderr" : "");
      span.textContent = text + "\n";
      fresh.appendChild(span);
    });
    logView.appendChild(fresh);
    while (logView.childNodes.length > MAX_LINES) logView.removeChild(logView.firstChild);
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    if (follow) logView.scrollTop = logView.scrollHeight;
    if (logsState && lines.length) logsState.textContent = "";
    if (launcher.failed) showFailureLines();
  }
  function clearLines() {
    lastSeq = -1;
    lines = [];
    if (logView) logView.textContent = "";
  }
  function showFailureLines() {
    if (!failureLines) return;
    failureLines.textContent = lines.slice(-FAILURE_LINES).join("\n") || "(no output)";
    failureLines.scrollTop = failureLines.scrollHeight;
  }
  function onPhase(status) {
    if (!status || !status.phase) return;
    var before = launcher.phase;
    launcher.phase = status.phase;
    if (status.phase === "failed") {
      launcher.failed = true;
      launcher.reason = status.reason || "The app stopped.";
      failureReason.textContent = launcher.reason;
      showFailureLines();
      // A failed launcher exits after a grace period, and a proxy does not always end the
      // stream when it does: ask the hub every 5 s until it has seen the server stop.
      if (!hubTimer) pollHub(5000);
    }
    losses = 0;
    render();
  }

  // ---- following the hub while the server is pending ----
  var hubTimer = null;
  function pollHub(delay) {
    clearTimeout(hubTimer);
    hubTimer = setTimeout(checkHub, delay === undefined ? POLL_MS : delay);
  }
  function checkHub() {
    hubTimer = null;
    request("GET", stateUrl).then(function (state) {
      var was = hub.status, wasPending = hub.pending;
      hub.status = state.status;
      hub.pending = state.pending;
      if (hub.status === "running" && was !== "running") resetLauncher();
      render();
      if (hub.status === "pending") { pollHub(); return; }
      if (hub.status === "running") {
        if (full && !launcher.unreachable) follow();
        if (launcher.failed) pollHub(5000); // until the hub sees the launcher gone
        else if (!full && was !== "running") say(title + " is running.");
      } else {
        unfollow();
        if (was === "pending" && wasPending === "spawn" && hub.status === "ready" && !launcher.failed) {
          say(title + " did not start.", true);
        }
      }
    }, function (err) {
      if (err.status === 401) { location.reload(); return; }
      if (err.status === 404) { say(title + " no longer exists.", true); return; }
      pollHub(5000);
    });
  }

  // ---- following the launcher while the server runs ----
  var source = null;
  var silenceTimer = null;
  var launcherTimer = null;
  var loginTried = false;
  var following = false;
  // Consecutive times the launcher could not be reached while the hub says it runs.
  var losses = 0;
  var MAX_LOSSES = 6;
  function follow() {
    if (following || !logView) return;
    following = true;
    launcher.unreachable = false;
    if (openLogs) openLogs.hidden = true;
    openStream();
  }
  function unfollow() {
    following = false;
    closeStream();
    clearTimeout(launcherTimer);
    launcherTimer = null;
  }
  function closeStream() {
    clearTimeout(silenceTimer);
    if (source) { source.close(); source = null; }
  }
  function quiet() {
    // No event since the stream opened (the launcher sends its status at once): a proxy
    // may be buffering the stream. Poll instead.
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(function () {
      closeStream();
      pollLauncher();
    }, SILENCE_MS);
  }
  function openStream() {
    if (typeof EventSource !== "function") { pollLauncher(); return; }
    var got = false;
    if (logsState && !lines.length) logsState.textContent = "Connecting…";
    source = new EventSource(appPath + "_japps/events");
    quiet();
    source.addEventListener("status", function (event) {
      got = true;
      clearTimeout(silenceTimer);
      try { onPhase(JSON.parse(event.data)); } catch (e) { /* ignore a broken event */ }
    });
    source.addEventListener("log", function (event) {
      got = true;
      clearTimeout(silenceTimer);
      try { addLines([JSON.parse(event.data)]); } catch (e) { /* ignore */ }
    });
    source.onerror = function () {
      if (!source || source.readyState !== EventSource.CLOSED) return; // it reconnects by itself
      closeStream();
      if (!following) return;
      if (got) { checkAfterLoss(); return; }
      probe();
    };
  }
  // The stream could not open: find out why (no launcher session, or no launcher).
  function probe() {
    request("GET", appPath + "_japps/api/status").then(function (status) {
      onPhase(status);
      pollLauncher();
    }, function (err) {
      if ((err.status === 401 || err.status === 403) && !loginTried) {
        loginTried = true;
        loginToLauncher(function (ok) {
          if (!following) return;
          if (ok) openStream(); else noSession();
        });
      } else if (err.status === 401 || err.status === 403) {
        noSession();
      } else {
        checkAfterLoss();
      }
    });
  }
  // The launcher went away or is not routed yet: ask the hub, and try again if it still runs.
  function checkAfterLoss() {
    following = false;
    request("GET", stateUrl).then(function (state) {
      hub.status = state.status;
      hub.pending = state.pending;
      render();
      if (hub.status === "running") {
        // Not routed yet, or on another origin (subdomains): stop trying after a while.
        if (++losses >= MAX_LOSSES) {
          noSession("The output cannot be reached from this page.");
          if (launcher.failed) pollHub(5000);
        }
        else setTimeout(follow, POLL_MS);
      } else if (hub.status === "pending") pollHub();
    }, function () { setTimeout(checkAfterLoss, 5000); });
  }
  function pollLauncher() {
    clearTimeout(launcherTimer);
    if (!following) return;
    Promise.all([
      request("GET", appPath + "_japps/api/status"),
      request("GET", appPath + "_japps/api/logs")
    ]).then(function (answers) {
      if (!following) return;
      addLines((answers[1] && answers[1].lines) || []);
      onPhase(answers[0]);
      // Quick while it starts; a running app's output is read less often.
      launcherTimer = setTimeout(pollLauncher, launcher.phase === "starting" ? POLL_MS : 5000);
    }, function (err) {
      if (!following) return;
      if (err.status === 401 || err.status === 403) { probe(); return; }
      checkAfterLoss();
    });
  }
  // Logs in to the launcher without leaving the page: its login goes through the hub's OAuth
  // and ends on `next`; a consent page (an admin on someone else's app) ends elsewhere.
  function loginToLauncher(done) {
    var target = appPath + "_japps/api/status";
    var frame = doc.createElement("iframe");
    frame.hidden = true;
    frame.tabIndex = -1;
    frame.title = "Sign-in to the app's output";
    frame.setAttribute("aria-hidden", "true");
    var finished = false;
    function finish(ok) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      setTimeout(function () { frame.remove(); }, 0);
      done(ok);
    }
    var timer = setTimeout(function () { finish(false); }, 15000);
    frame.addEventListener("load", function () {
      var path = "";
      try { path = frame.contentWindow.location.pathname; } catch (e) { path = ""; }
      finish(path === target);
    });
    frame.src = appPath + "_japps/login?next=" + encodeURIComponent(target);
    doc.body.appendChild(frame);
  }
  function noSession(why) {
    following = false;
    launcher.unreachable = true;
    if (logsState) logsState.textContent = why || "Seeing the output needs your approval on the app's own logs page.";
    if (openLogs) openLogs.hidden = false;
    render();
  }

  // A new launcher (a new start): its output and its session start afresh.
  function resetLauncher() {
    launcher = { phase: null, reason: "", failed: false, unreachable: false };
    loginTried = false;
    clearLines();
  }

  // ---- actions ----
  if (startButton) {
    startButton.addEventListener("click", function () {
      var query = own ? "" : "?owner=" + encodeURIComponent(owner);
      resetLauncher();
      if (logsState) logsState.textContent = "Waiting for the app to start…";
      hub.status = "pending";
      hub.pending = "spawn";
      render();
      api("POST", serverPath() + query).then(function () {
        say("Starting " + title + "…");
        pollHub(1000);
      }, function (err) {
        hub.status = "ready";
        hub.pending = null;
        render();
        say(err.message, true);
      });
    });
  }
  if (stopButton) {
    stopButton.addEventListener("click", function () {
      confirmAction("Stop " + title + "? Anyone using it will be disconnected.", "Stop", stopButton).then(function (yes) {
        if (!yes) return;
        unfollow();
        hub.status = "pending";
        hub.pending = "stop";
        render();
        api("DELETE", serverPath()).then(function () {
          say(title + " stopped.");
          pollHub(500);
        }, function (err) { say(err.message, true); pollHub(0); });
      });
    });
  }
  if (deleteButton) {
    deleteButton.addEventListener("click", function () {
      confirmAction("Delete " + title + "? This cannot be undone.", "Delete", deleteButton).then(function (yes) {
        if (!yes) return;
        unfollow();
        api("DELETE", serverPath() + "?remove=true").then(function () {
          try { sessionStorage.setItem("japps:notice", JSON.stringify({ text: title + " deleted." })); } catch (e) { /* private mode */ }
          location.href = prefix;
        }, function (err) { say(err.message, true); });
      });
    });
  }
  // The link as people share it: absolute, whatever the hub told the service.
  var appUrl = $("app-url");
  if (appUrl) appUrl.textContent = appUrl.href;
  var copyButton = $("copy-link");
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      var url = new URL(copyButton.getAttribute("data-url"), location.href).href;
      var copied = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(url)
        : new Promise(function (resolve, reject) {
          var field = doc.createElement("textarea");
          field.value = url;
          field.setAttribute("readonly", "");
          field.className = "visually-hidden";
          doc.body.appendChild(field);
          field.select();
          var ok = false;
          try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
          field.remove();
          if (ok) resolve(); else reject(new Error("copy"));
        });
      copied.then(function () { say("Link copied."); }, function () { say("Copy this link: " + url, true); });
    });
  }
  page.addEventListener("click", function (event) {
    var reveal = event.target.closest(".env-reveal");
    if (!reveal) return;
    var item = reveal.closest("li");
    var shown = reveal.getAttribute("aria-pressed") !== "true";
    item.querySelector(".env-value").hidden = !shown;
    item.querySelector(".env-mask").hidden = shown;
    reveal.setAttribute("aria-pressed", String(shown));
    reveal.firstChild.textContent = shown ? "Hide" : "Show";
  });

  // Relative activity times, as on the home page.
  doc.querySelectorAll("time.app-activity[datetime]").forEach(function (el) {
    var then = Date.parse(el.getAttribute("datetime"));
    if (isNaN(then)) return;
    var s = Math.max(0, (Date.now() - then) / 1000);
    var units = [[60, "min"], [3600, "hour"], [86400, "day"], [2592000, "month"], [31536000, "year"]];
    var unit = units[0];
    for (var i = 0; i < units.length; i++) if (s >= units[i][0]) unit = units[i];
    var n = Math.floor(s / unit[0]);
    el.textContent = s < 60 ? "Active just now" : "Active " + n + " " + unit[1] + (n === 1 || unit[1] === "min" ? "" : "s") + " ago";
    el.title = new Date(then).toLocaleString();
  });

  // ---- start ----
  if (hub.status === "pending") pollHub();
  else if (hub.status === "running" && full) follow();
  render();
})();
