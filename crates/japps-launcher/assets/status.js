// The launcher's startup and logs page: follows the app's status and output (server-sent
// events, or polling when a proxy buffers the stream) and opens the app once it is ready.
// A file, not an inline script, so the page's Content-Security-Policy allows no inline
// script; the page hands it its values as data attributes of #status.
(function () {
  var statusBox = document.getElementById("status");
  if (!statusBox) { return; }
  var phase = statusBox.dataset.phase;
  var reloadOnReady = statusBox.dataset.reloadOnReady === "true";
  if (phase === "failed") { return; }
  var prefix = statusBox.dataset.prefix;
  var log = document.getElementById("log");
  var statusText = document.getElementById("status-text");
  var lastSeq = Number(statusBox.dataset.lastSeq);
  var done = false;
  // Any event, heartbeats included; a proxy that buffers the stream delivers none, and
  // the page then asks for the status itself.
  var lastEvent = Date.now();
  var source = window.EventSource ? new EventSource(prefix + "_japps/events") : null;

  function addLine(line) {
    if (!log || line.seq <= lastSeq) { return; }
    lastSeq = line.seq;
    var span = document.createElement("span");
    span.className = "l-" + line.source;
    span.textContent = line.text + "\n";
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(span);
    if (atBottom) { log.scrollTop = log.scrollHeight; }
  }
  function showStatus(status) {
    if (done) { return; }
    if (status.phase === "ready") {
      if (reloadOnReady) { stop(); window.location.reload(); return; }
      statusBox.className = "status ready";
      statusText.textContent = "The app is running.";
    } else if (status.phase === "failed") {
      stop();
      statusBox.className = "status failed";
      var spinner = statusBox.querySelector(".spinner");
      if (spinner) { spinner.remove(); }
      statusText.textContent = "The app stopped: " + status.reason;
    }
  }
  function stop() {
    done = true;
    if (source) { source.close(); }
    clearInterval(poller);
  }
  function getJson(path) {
    return fetch(prefix + path, { credentials: "same-origin", cache: "no-store",
                                  headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; });
  }
  if (source) {
    source.addEventListener("ping", function () { lastEvent = Date.now(); });
    source.addEventListener("log", function (event) {
      lastEvent = Date.now();
      addLine(JSON.parse(event.data));
    });
    source.addEventListener("status", function (event) {
      lastEvent = Date.now();
      showStatus(JSON.parse(event.data));
    });
  }
  var poller = setInterval(function () {
    if (done || Date.now() - lastEvent < 2500) { return; }
    if (log) {
      getJson("_japps/api/logs").then(function (body) {
        if (body && body.lines) { body.lines.forEach(addLine); }
      });
    }
    getJson("_japps/api/status").then(function (status) { if (status) { showStatus(status); } });
  }, 1000);
})();
