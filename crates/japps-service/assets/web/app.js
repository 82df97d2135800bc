// japps launcher pages: theme control, and on the home page search, filters, sort, view,
// actions, the confirm dialog, notices and polling while an app is pending. The server
// renders every card; this script only refines what is already there.
(function () {
  "use strict";
  var doc = document;
  var root = doc.documentElement;
  var MODE_KEY = "japps:color-mode";
  var HOME_KEY = "japps:home";

  function store(key, value) { try { localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }

  // Theme: light | dark | system, shared with the hub's pages through the same key.
  var dark = window.matchMedia ? matchMedia("(prefers-color-scheme: dark)") : null;
  function applyMode(mode) {
    var isDark = mode === "dark" || (mode === "system" && dark && dark.matches);
    root.setAttribute("data-theme", isDark ? "dark" : "light");
    root.setAttribute("data-mode", mode);
  }
  var themeSelect = doc.getElementById("theme");
  var mode = load(MODE_KEY) || "system";
  if (themeSelect) {
    themeSelect.value = mode;
    themeSelect.addEventListener("change", function () {
      mode = themeSelect.value;
      store(MODE_KEY, mode);
      applyMode(mode);
    });
  }
  if (dark && dark.addEventListener) {
    dark.addEventListener("change", function () { if (mode === "system") applyMode(mode); });
  }

  // Close open menus on Escape or a click elsewhere.
  doc.addEventListener("click", function (event) {
    doc.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  doc.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    doc.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // A notice another page left for this one (the app page's "deleted", the form's warnings):
  // shown once, then removed. A string, or {text|message, error}, or a list of either.
  (function () {
    var raw = null;
    try { raw = sessionStorage.getItem("japps:notice"); sessionStorage.removeItem("japps:notice"); } catch (e) { raw = null; }
    var box = doc.getElementById("notice");
    if (!raw || !box) return;
    var value = raw, isError = false;
    try { value = JSON.parse(raw); } catch (e) { value = raw; }
    function text(item) {
      if (item && typeof item === "object") {
        if (item.error || item.kind === "error" || item.kind === "warning" || item.level === "warning") isError = true;
        return String(item.text || item.message || item.detail || "");
      }
      return String(item);
    }
    var message = Array.isArray(value) ? value.map(text).filter(Boolean).join(" ") : text(value);
    if (!message) return;
    box.className = isError ? "error" : "";
    box.textContent = message;
    setTimeout(function () { if (box.textContent === message) box.textContent = ""; }, isError ? 15000 : 8000);
  })();

  var home = doc.getElementById("home");
  if (!home) return;
  var prefix = home.getAttribute("data-prefix");
  var apps = doc.getElementById("apps");
  var search = doc.getElementById("search");
  var sort = doc.getElementById("sort");
  var filters = doc.querySelector("#filters form");
  var count = doc.getElementById("result-count");
  var countLabel = doc.getElementById("result-label");
  var noApps = doc.getElementById("no-apps");
  var notice = doc.getElementById("notice");
  var cards = Array.prototype.slice.call(apps.querySelectorAll(".app-card"));

  // Relative times, from the ISO timestamp the server put in `datetime`.
  function ago(iso) {
    var then = Date.parse(iso);
    if (isNaN(then)) return null;
    var s = Math.max(0, (Date.now() - then) / 1000);
    if (s < 60) return "Active just now";
    var units = [[60, "min"], [3600, "hour"], [86400, "day"], [2592000, "month"], [31536000, "year"]];
    var unit = units[0];
    for (var i = 0; i < units.length; i++) if (s >= units[i][0]) unit = units[i];
    var n = Math.floor(s / unit[0]);
    return "Active " + n + " " + unit[1] + (n === 1 || unit[1] === "min" ? "" : "s") + " ago";
  }
  function refreshTimes() {
    doc.querySelectorAll("time.app-activity[datetime]").forEach(function (el) {
      var text = ago(el.getAttribute("datetime"));
      if (text) { el.textContent = text; el.title = new Date(el.getAttribute("datetime")).toLocaleString(); }
    });
  }

  // Search, filters, sort and view, persisted.
  function checked(name) {
    return Array.prototype.slice.call(filters.querySelectorAll("input[name=" + name + "]:checked")).map(function (i) { return i.value; });
  }
  function stateNow() {
    return {
      q: search.value, sort: sort.value, view: apps.classList.contains("view-table") ? "table" : "grid",
      framework: checked("framework"), status: checked("status"), group: checked("group"),
      ownership: (checked("ownership")[0] || "any")
    };
  }
  function restore() {
    var saved;
    try { saved = JSON.parse(load(HOME_KEY) || "{}") || {}; } catch (e) { saved = {}; }
    if (typeof saved.q === "string") search.value = saved.q;
    if (saved.sort && sort.querySelector("option[value='" + saved.sort + "']")) sort.value = saved.sort;
    ["framework", "status", "group"].forEach(function (name) {
      var values = saved[name] || [];
      filters.querySelectorAll("input[name=" + name + "]").forEach(function (input) { input.checked = values.indexOf(input.value) >= 0; });
    });
    filters.querySelectorAll("input[name=ownership]").forEach(function (input) { input.checked = input.value === (saved.ownership || "any"); });
    setView(saved.view === "table" ? "table" : "grid");
  }
  function setView(view) {
    apps.classList.toggle("view-table", view === "table");
    apps.classList.toggle("view-grid", view !== "table");
    doc.getElementById("view-grid").setAttribute("aria-pressed", String(view !== "table"));
    doc.getElementById("view-table").setAttribute("aria-pressed", String(view === "table"));
  }
  function groupsOf(card) {
    try { return JSON.parse(card.getAttribute("data-groups") || "[]"); } catch (e) { return []; }
  }
  function apply() {
    var st = stateNow();
    var q = st.q.trim().toLowerCase();
    var shown = 0;
    cards.forEach(function (card) {
      var text = [card.getAttribute("data-title"), card.querySelector(".app-description").textContent,
        card.getAttribute("data-framework"), card.querySelector(".app-framework").textContent].join(" ").toLowerCase();
      var own = card.getAttribute("data-own") === "true";
      var ok = (!q || text.indexOf(q) >= 0)
        && (!st.framework.length || st.framework.indexOf(card.getAttribute("data-framework")) >= 0)
        && (!st.status.length || st.status.indexOf(card.getAttribute("data-status")) >= 0)
        && (!st.group.length || groupsOf(card).some(function (g) { return st.group.indexOf(g) >= 0; }))
        && (st.ownership === "any" || (st.ownership === "mine") === own);
      card.hidden = !ok;
      if (ok) shown++;
    });
    var sorted = cards.slice().sort(function (a, b) {
      var ta = a.getAttribute("data-title").toLowerCase(), tb = b.getAttribute("data-title").toLowerCase();
      if (st.sort === "name-asc") return ta < tb ? -1 : ta > tb ? 1 : 0;
      if (st.sort === "name-desc") return ta < tb ? 1 : ta > tb ? -1 : 0;
      var aa = a.getAttribute("data-activity"), ab = b.getAttribute("data-activity");
      return aa < ab ? 1 : aa > ab ? -1 : (ta < tb ? -1 : 1);
    });
    sorted.forEach(function (card) { apps.appendChild(card); });
    count.textContent = String(shown);
    countLabel.textContent = shown === 1 ? "app" : "apps";
    noApps.hidden = shown > 0;
    if (cards.length) noApps.textContent = "No apps match.";
    store(HOME_KEY, JSON.stringify(st));
  }
  restore();
  apply();
  refreshTimes();
  setInterval(refreshTimes, 60000);
  search.addEventListener("input", apply);
  sort.addEventListener("change", apply);
  filters.addEventListener("change", apply);
  filters.addEventListener("reset", function () { setTimeout(apply, 0); });
  doc.getElementById("view-grid").addEventListener("click", function () { setView("grid"); apply(); });
  doc.getElementById("view-table").addEventListener("click", function () { setView("table"); apply(); });

  // Notices: every action's result, success or the API's own `detail`.
  var noticeTimer;
  function say(text, isError) {
    clearTimeout(noticeTimer);
    notice.className = isError ? "error" : "";
    notice.textContent = text;
    noticeTimer = setTimeout(function () { notice.textContent = ""; }, isError ? 10000 : 5000);
  }

  // The confirm dialog: focus stays inside while open and returns to the opener.
  var dialog = doc.getElementById("confirm");
  function confirmAction(message, okLabel, opener) {
    return new Promise(function (resolve) {
      if (!dialog || typeof dialog.showModal !== "function") { resolve(window.confirm(message)); return; }
      doc.getElementById("confirm-message").textContent = message;
      doc.getElementById("confirm-ok").textContent = okLabel;
      dialog.returnValue = "";
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (opener && opener.isConnected) opener.focus();
        resolve(dialog.returnValue === "ok");
      });
      dialog.showModal();
      doc.getElementById("confirm-cancel").focus();
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

  function api(method, path) {
    return fetch(prefix + path, { method: method, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (response.status === 401) { location.reload(); }
          if (!response.ok) {
            var detail = body && body.detail ? body.detail : "The request failed (" + response.status + ").";
            throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
          }
          return body;
        });
      }, function () { throw new Error("The service cannot be reached. Check your connection and try again."); });
  }

  var LABELS = { running: "Running", ready: "Ready", pending: "Pending", unknown: "Unknown" };
  function setStatus(card, status) {
    card.setAttribute("data-status", status);
    var chip = card.querySelector(".app-status");
    chip.className = "app-status chip status-" + status;
    chip.textContent = LABELS[status];
    var start = card.querySelector("[data-action=start]"), stop = card.querySelector("[data-action=stop]");
    if (start) start.hidden = status !== "ready";
    if (stop) stop.hidden = status !== "running";
  }
  function statusOf(server) {
    if (server.pending) return "pending";
    if (server.ready) return "running";
    if (server.stopped) return "ready";
    return "unknown";
  }
  function cardPath(card) {
    return "server/" + encodeURIComponent(card.getAttribute("data-server"));
  }

  // Polling: only while some card is pending; one `server/` call for all of them.
  var pollTimer = null;
  function schedulePoll() {
    if (pollTimer || !apps.querySelector(".app-card[data-status=pending]")) return;
    pollTimer = setTimeout(poll, 2000);
  }
  function poll() {
    pollTimer = null;
    api("GET", "server/").then(function (body) {
      var seen = {};
      (body.user_apps || []).concat(body.shared_apps || []).forEach(function (server) { seen[server.full_name] = server; });
      cards.forEach(function (card) {
        if (card.getAttribute("data-status") !== "pending") return;
        var server = seen[card.getAttribute("data-app")];
        if (!server) return;
        var status = statusOf(server);
        setStatus(card, status);
        if (status === "running") say(card.getAttribute("data-title") + " is running.");
        else if (status !== "pending") say(card.getAttribute("data-title") + " did not start.", true);
      });
      apply();
      schedulePoll();
    }, function (err) { say(err.message, true); pollTimer = setTimeout(poll, 5000); });
  }

  apps.addEventListener("click", function (event) {
    var control = event.target.closest("[data-action]");
    if (!control) return;
    var card = control.closest(".app-card");
    var action = control.getAttribute("data-action");
    var title = card.getAttribute("data-title");
    if (action === "open") {
      if (card.getAttribute("data-status") === "ready") {
        event.preventDefault();
        var start = card.querySelector("[data-action=start]");
        if (start.getAttribute("aria-disabled") === "true") { say(start.title, true); return; }
        confirmAction(title + " is not running. Start it?", "Start", control).then(function (yes) { if (yes) startApp(card); });
      }
      return;
    }
    if (action === "edit" || action === "details") return;
    event.preventDefault();
    if (control.getAttribute("aria-disabled") === "true") { say(control.title, true); return; }
    if (action === "start") startApp(card);
    else if (action === "stop") {
      confirmAction("Stop " + title + "? Anyone using it will be disconnected.", "Stop", control).then(function (yes) {
        if (!yes) return;
        api("DELETE", cardPath(card)).then(function () { setStatus(card, "ready"); apply(); say(title + " stopped."); },
          function (err) { say(err.message, true); });
      });
    } else if (action === "delete") {
      confirmAction("Delete " + title + "? This cannot be undone.", "Delete", control).then(function (yes) {
        if (!yes) return;
        api("DELETE", cardPath(card) + "?remove=true").then(function () {
          cards.splice(cards.indexOf(card), 1);
          card.remove();
          apply();
          say(title + " deleted.");
          search.focus();
        }, function (err) { say(err.message, true); });
      });
    }
  });

  function startApp(card) {
    var title = card.getAttribute("data-title");
    var owner = card.getAttribute("data-owner");
    var query = card.getAttribute("data-own") === "true" ? "" : "?owner=" + encodeURIComponent(owner);
    setStatus(card, "pending");
    apply();
    api("POST", cardPath(card) + query).then(function () {
      say("Starting " + title + "…");
      schedulePoll();
    }, function (err) { setStatus(card, "ready"); apply(); say(err.message, true); });
  }

  schedulePoll();
})();
