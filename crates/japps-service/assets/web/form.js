// japps app form (create and edit): validation next to each field, environment rows, the
// share picker, the thumbnail, the git configuration, the server-types step, and the
// multipart submit to the JSON API (`POST server`, `PUT server/<name>`). The server renders
// every field; this script never drops what the user typed: a refusal is shown in place.
(function () {
  "use strict";
  var doc = document;
  var form = doc.getElementById("app-form");
  if (!form) return;
  function $(id) { return doc.getElementById(id); }
  var data = form.dataset;
  var prefix = data.prefix;
  var mode = data.mode;
  var server = data.server;
  var headless = data.headless === "true";
  var maxBytes = Number(data.maxBytes);
  var maxDescription = Number(data.maxDescription);
  var refusedEnv = data.refusedEnv.split(",");
  var ACCEPTED = ["image/png", "image/jpeg", "image/gif", "image/webp"];
  var ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
  var stepApp = $("step-app");
  var stepProfiles = $("step-profiles");
  var submitApp = $("submit-app");
  var submitFinal = $("submit-final");
  var finalButton = stepProfiles ? submitFinal : submitApp;
  var alertBox = $("form-alert");
  var thumbInput = $("thumbnail");
  var thumbUrl = $("thumbnail_data_url");
  var preview = $("thumb-preview");
  var removeThumb = $("thumb-remove");
  var framework = $("framework");
  var description = $("description");
  var envRows = $("env-rows");
  var sending = false;

  // Checks the browser makes can be switched off (`data-browser-checks="off"`) so that
  // the server's own refusals can be seen; the server checks everything again.
  function browserChecks() { return form.dataset.browserChecks !== "off"; }

  // ---- field errors -------------------------------------------------------------------
  function errorOf(input) {
    if (!input) return null;
    return $(input.id + "-error") || (input.closest(".field") && input.closest(".field").querySelector(".field-error"));
  }
  function setError(input, message) {
    var box = errorOf(input);
    if (box) box.textContent = message || "";
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  function clearErrors() {
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { setError(el, ""); });
    form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    alertBox.hidden = true;
    alertBox.textContent = "";
  }
  function showAlert(message) {
    alertBox.textContent = message;
    alertBox.hidden = false;
    alertBox.focus();
  }
  function inStep(input, step) { return step && step.contains(input); }
  function focusField(input) {
    if (inStep(input, stepApp)) showStep(1, false);
    else if (inStep(input, stepProfiles)) showStep(2, false);
    input.focus();
    if (input.scrollIntoView) input.scrollIntoView({ block: "center" });
  }

  // ---- description counter --------------------------------------------------------------
  var counter = $("description-count");
  function updateCounter() {
    var n = description.value.length;
    counter.textContent = n + "/" + maxDescription;
    counter.classList.toggle("over", n > maxDescription);
    if (n > maxDescription) setError(description, "At most " + maxDescription + " characters: remove " + (n - maxDescription) + ".");
    else if (description.getAttribute("aria-invalid")) setError(description, "");
  }
  description.addEventListener("input", updateCounter);

  // ---- framework: the custom command ----------------------------------------------------
  var commandField = $("custom_command-field");
  function updateFramework() { commandField.hidden = framework.value !== "custom"; }
  framework.addEventListener("change", updateFramework);

  // ---- environment variables --------------------------------------------------------------
  var envCount = envRows.querySelectorAll(".env-row").length;
  function addEnvRow(key, value) {
    var row = $("env-row-template").content.firstElementChild.cloneNode(true);
    envCount += 1;
    var labels = row.querySelectorAll("label");
    var keyInput = row.querySelector(".env-key");
    var valueInput = row.querySelector(".env-value");
    keyInput.id = "env-key-" + envCount;
    valueInput.id = "env-value-" + envCount;
    labels[0].htmlFor = keyInput.id;
    labels[1].htmlFor = valueInput.id;
    var error = row.querySelector(".field-error");
    error.id = keyInput.id + "-error";
    keyInput.setAttribute("aria-describedby", error.id);
    keyInput.value = key || "";
    valueInput.value = value || "";
    envRows.appendChild(row);
    return row;
  }
  $("env-add").addEventListener("click", function () {
    addEnvRow().querySelector(".env-key").focus();
    changed();
  });
  envRows.addEventListener("click", function (event) {
    var button = event.target.closest(".env-remove");
    if (!button) return;
    var row = button.closest(".env-row");
    var next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    (next ? next.querySelector(".env-key") : $("env-add")).focus();
    changed();
  });
  envRows.addEventListener("input", function (event) {
    if (event.target.classList.contains("env-key")) {
      var row = event.target.closest(".env-row");
      var remove = row.querySelector(".env-remove");
      remove.setAttribute("aria-label", "Remove variable " + (event.target.value || "(unnamed)"));
    }
  });
  function envProblem(key) {
    if (!ENV_NAME.test(key)) return "\u201c" + key + "\u201d is not a variable name: letters, digits and _, not starting with a digit.";
    var upper = key.toUpperCase();
    for (var i = 0; i < refusedEnv.length; i++) {
      var rule = refusedEnv[i];
      var hit = rule.slice(-1) === "*" ? upper.indexOf(rule.slice(0, -1)) === 0 : upper === rule;
      if (hit) return key + " is set by the hub or japps and cannot be used (" + refusedEnv.join(", ") + ").";
    }
    return "";
  }
  function envEntries() {
    return Array.prototype.map.call(envRows.querySelectorAll(".env-row"), function (row) {
      return { row: row, key: row.querySelector(".env-key"), value: row.querySelector(".env-value") };
    });
  }

  // ---- sharing -----------------------------------------------------------------------------
  var shareSearch = $("share-search");
  var shareSummary = $("share-summary");
  function checkedValues(name) {
    return Array.prototype.map.call(form.querySelectorAll("input[name=" + name + "]:checked"), function (el) { return el.value; });
  }
  function updateShareSummary() {
    if (!shareSummary) return;
    var users = checkedValues("share-user");
    var groups = checkedValues("share-group").map(function (g) { return g + " (group)"; });
    var all = users.concat(groups);
    shareSummary.textContent = all.length ? "Shared with: " + all.join(", ") : "Not shared with anyone.";
  }
  if (shareSearch) {
    shareSearch.addEventListener("input", function () {
      var query = shareSearch.value.trim().toLowerCase();
      var shown = 0;
      form.querySelectorAll("#share-options li").forEach(function (li) {
        var match = !query || li.getAttribute("data-name").indexOf(query) >= 0 || li.querySelector("input").checked;
        li.hidden = !match;
        if (match) shown += 1;
      });
      $("share-none").hidden = shown > 0;
    });
    $("share-options").addEventListener("change", updateShareSummary);
  }
  updateShareSummary();

  var copy = $("copy-link");
  if (copy) {
    var link = $("sharing-link");
    link.value = new URL(link.value, location.href).href;
    copy.addEventListener("click", function () {
      var done = function () { say("Link copied to the clipboard"); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(link.value).then(done, function () { link.select(); });
      } else {
        link.select();
        try { if (doc.execCommand("copy")) done(); } catch (e) { /* selected for the user */ }
      }
    });
  }

  // ---- thumbnail ------------------------------------------------------------------------------
  var objectUrl = null;
  function sizeText(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.ceil(bytes / 1024) + " KB";
  }
  function thumbProblem(file) {
    if (!file || !browserChecks()) return "";
    var svg = file.type === "image/svg+xml" || /\.svgz?$/i.test(file.name);
    if (svg) return "SVG images are not accepted: choose a PNG, JPEG, GIF or WebP image.";
    if (ACCEPTED.indexOf(file.type) < 0) return "\u201c" + file.name + "\u201d is not a PNG, JPEG, GIF or WebP image.";
    if (file.size > maxBytes) return "The image is " + sizeText(file.size) + "; the limit is " + data.maxText + ".";
    return "";
  }
  function showPreview(src) {
    if (src) { preview.src = src; preview.hidden = false; } else { preview.removeAttribute("src"); preview.hidden = true; }
    removeThumb.hidden = !src && !(thumbInput.files && thumbInput.files.length);
  }
  function onThumbChange() {
    if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    var file = thumbInput.files && thumbInput.files[0];
    var problem = thumbProblem(file);
    setError(thumbInput, problem);
    if (file && !problem) {
      objectUrl = URL.createObjectURL(file);
      showPreview(objectUrl);
    } else {
      showPreview(file ? "" : thumbUrl.value);
    }
    changed();
  }
  thumbInput.addEventListener("change", onThumbChange);
  removeThumb.addEventListener("click", function () {
    thumbInput.value = "";
    thumbUrl.value = "";
    setError(thumbInput, "");
    if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    showPreview("");
    thumbInput.focus();
    changed();
  });
  var drop = $("thumb-drop");
  ["dragenter", "dragover"].forEach(function (type) {
    drop.addEventListener(type, function (event) { event.preventDefault(); drop.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    drop.addEventListener(type, function () { drop.classList.remove("dragging"); });
  });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    thumbInput.files = event.dataTransfer.files;
    onThumbChange();
  });

  // ---- git -------------------------------------------------------------------------------
  var gitSection = $("git-section");
  function source() {
    var checked = form.querySelector("input[name=source]:checked");
    return checked ? checked.value : "file";
  }
  if (gitSection) {
    form.querySelectorAll("input[name=source]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        gitSection.hidden = source() !== "git";
        $("form-title").textContent = source() === "git" ? "Deploy an app from a git repository" : "Deploy a new app";
      });
    });
    gitSection.hidden = source() !== "git";
    $("fetch-config").addEventListener("click", fetchConfig);
  }
  function fetchConfig() {
    var url = $("git_url");
    var status = $("git-status");
    setError(url, "");
    if (!url.value.trim()) { setError(url, "Enter the repository's URL."); url.focus(); return; }
    var body = { url: url.value.trim(), ref: $("git_ref").value.trim() || "main", config_directory: $("git_dir").value.trim() || "." };
    var button = $("fetch-config");
    button.disabled = true;
    status.textContent = "Fetching the configuration\u2026";
    fetch(prefix + "app-config-from-git/", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body)
    }).then(readAnswer).then(function (answer) {
      button.disabled = false;
      if (!answer.ok) {
        status.textContent = "";
        setError(url, answer.detail);
        url.focus();
        return;
      }
      var config = answer.body;
      $("display_name").value = config.display_name || "";
      description.value = config.description || "";
      if (config.framework) framework.value = config.framework;
      $("filepath").value = config.filepath || "";
      $("custom_command").value = config.custom_command || "";
      $("public").checked = !!config.public;
      $("keep_alive").checked = !!config.keep_alive;
      envRows.innerHTML = "";
      Object.keys(config.env || {}).forEach(function (key) { addEnvRow(key, config.env[key]); });
      thumbInput.value = "";
      thumbUrl.value = config.thumbnail || "";
      showPreview(thumbUrl.value);
      $("repository_url").value = body.url;
      $("repository_ref").value = body.ref;
      $("repository_dir").value = body.config_directory;
      updateCounter();
      updateFramework();
      status.textContent = "Configuration fetched: check the fields below, then deploy.";
      $("display_name").focus();
    }, function () {
      button.disabled = false;
      status.textContent = "";
      setError(url, "The launcher could not be reached; try again.");
    });
  }

  // ---- server types (step 2) ------------------------------------------------------------------
  var imageInput = $("profile_image");
  var imageTouched = mode === "edit" && imageInput && imageInput.value !== "";
  function chosenProfile() { return form.querySelector("input[name=profile]:checked"); }
  function fillImage() {
    if (!imageInput || imageTouched) return;
    var chosen = chosenProfile();
    imageInput.value = chosen ? chosen.getAttribute("data-image") : "";
  }
  if (stepProfiles) {
    form.querySelectorAll("input[name=profile]").forEach(function (radio) { radio.addEventListener("change", fillImage); });
    if (imageInput) imageInput.addEventListener("input", function () { imageTouched = true; });
    fillImage();
    $("back-step").addEventListener("click", function () { showStep(1, true); });
  }
  var step = 1;
  function showStep(n, moveFocus) {
    step = n;
    stepApp.hidden = n !== 1;
    if (stepProfiles) stepProfiles.hidden = n !== 2;
    if (!moveFocus) return;
    if (n === 2) $("profiles-title").focus();
    else submitApp.focus();
  }

  // ---- validation ---------------------------------------------------------------------------
  function validateApp() {
    var problems = [];
    var name = $("display_name");
    if (!name.value.trim()) problems.push([name, "Enter a name for the app."]);
    else if (name.value.trim().length > 255) problems.push([name, "At most 255 characters."]);
    if (description.value.length > maxDescription) problems.push([description, "At most " + maxDescription + " characters: remove " + (description.value.length - maxDescription) + "."]);
    if (!framework.value) problems.push([framework, "Choose a framework."]);
    var command = $("custom_command");
    if (framework.value === "custom" && !command.value.trim()) problems.push([command, "A custom app needs the command that serves it."]);
    var conda = $("conda_env");
    if (conda && !conda.value) problems.push([conda, "Choose a software environment."]);
    if (browserChecks()) {
      var seen = {};
      envEntries().forEach(function (entry) {
        var key = entry.key.value.trim();
        if (!key) return;
        var problem = envProblem(key);
        if (!problem && seen[key]) problem = key + " is set twice.";
        seen[key] = true;
        if (problem) problems.push([entry.key, problem]);
      });
      var problem = thumbProblem(thumbInput.files && thumbInput.files[0]);
      if (problem) problems.push([thumbInput, problem]);
    }
    if (gitSection && source() === "git") {
      var url = $("git_url");
      if (!$("repository_url").value || $("repository_url").value !== url.value.trim()) {
        problems.push([url, "Fetch the configuration from the repository first."]);
      }
    }
    return problems;
  }
  function report(problems) {
    problems.forEach(function (p) { setError(p[0], p[1]); });
    if (problems.length) focusField(problems[0][0]);
    return problems.length === 0;
  }

  // ---- the request ----------------------------------------------------------------------------
  function userOptions() {
    var env = {};
    envEntries().forEach(function (entry) {
      var key = entry.key.value.trim();
      if (key) env[key] = entry.value.value;
    });
    var options = {
      jhub_app: true,
      display_name: $("display_name").value.trim(),
      description: description.value,
      framework: framework.value,
      filepath: $("filepath").value.trim(),
      custom_command: framework.value === "custom" ? $("custom_command").value.trim() : "",
      keep_alive: $("keep_alive").checked,
      public: $("public").checked,
      share_with: { users: checkedValues("share-user"), groups: checkedValues("share-group") }
    };
    if (Object.keys(env).length) options.env = env;
    var conda = $("conda_env");
    if (conda) options.conda_env = conda.value;
    var chosen = chosenProfile();
    if (chosen) options.profile = chosen.value;
    if (imageInput && imageInput.value.trim()) options.profile_image = imageInput.value.trim();
    var repo = $("repository_url").value;
    var fromGit = mode === "edit" || (gitSection && source() === "git");
    if (repo && fromGit) {
      options.repository = { url: repo, ref: $("repository_ref").value || "main", config_directory: $("repository_dir").value || "." };
    }
    return options;
  }
  function readAnswer(response) {
    return response.text().then(function (text) {
      var body = null;
      try { body = JSON.parse(text); } catch (e) { /* not JSON: a proxy's page */ }
      var detail = body && body.detail ? String(body.detail) : (text || response.statusText || "Error " + response.status);
      if (response.status === 413) detail = "The thumbnail is too large: the limit is " + data.maxText + ". (The server said: " + detail + ")";
      return { ok: response.ok, status: response.status, body: body, detail: detail };
    });
  }
  var FIELDS = {
    display_name: "display_name", description: "description", framework: "framework",
    custom_command: "custom_command", conda_env: "conda_env", filepath: "filepath",
    keep_alive: "keep_alive", public: "public", share_with: "share-search",
    profile: "profile_image", profile_image: "profile_image", repository: "git_url"
  };
  function fieldFor(detail, status) {
    if (status === 413 || /thumbnail/i.test(detail)) return thumbInput;
    if (/shared/i.test(detail) && $("share-search")) return $("share-search");
    var match = /user_options\.([a-z_]+)/.exec(detail);
    if (!match) return null;
    if (match[1] === "env") {
      var entries = envEntries();
      for (var i = 0; i < entries.length; i++) {
        var key = entries[i].key.value.trim();
        if (key && (detail.indexOf("\"" + key + "\"") >= 0 || detail.indexOf(" " + key + " ") >= 0)) return entries[i].key;
      }
      return entries.length ? entries[0].key : null;
    }
    var id = FIELDS[match[1]];
    return (id && $(id)) || null;
  }
  function busy(on) {
    sending = on;
    [submitApp, submitFinal].forEach(function (button) {
      if (!button) return;
      button.disabled = on || (button === finalButton && mode === "edit" && snapshot() === initial);
      button.setAttribute("aria-busy", on ? "true" : "false");
    });
  }
  function send() {
    var options = userOptions();
    var body = new FormData();
    body.append("data", JSON.stringify({ servername: mode === "edit" ? server : options.display_name, user_options: options }));
    var file = thumbInput.files && thumbInput.files[0];
    if (file) body.append("thumbnail", file);
    else if (thumbUrl.value) body.append("thumbnail_data_url", thumbUrl.value);
    var url = prefix + "server" + (mode === "edit" ? "/" + encodeURIComponent(server) : "");
    busy(true);
    fetch(url, { method: mode === "edit" ? "PUT" : "POST", credentials: "same-origin", headers: { Accept: "application/json" }, body: body })
      .then(readAnswer)
      .then(function (answer) {
        if (!answer.ok || !Array.isArray(answer.body)) {
          busy(false);
          var input = fieldFor(answer.detail, answer.status);
          if (input) { setError(input, answer.detail); focusField(input); }
          else showAlert(answer.detail);
          return;
        }
        var name = String(answer.body[1]);
        var extra = answer.body[2];
        var warnings = extra && extra.warnings ? extra.warnings : [];
        var title = options.display_name;
        var notice = warnings.length
          ? { text: title + " is saved, but: " + warnings.join("; "), error: true }
          : (mode === "edit" ? { text: title + " is saved." } : null);
        if (notice) { try { sessionStorage.setItem("japps:notice", JSON.stringify(notice)); } catch (e) { /* private mode */ } }
        window.__jappsSubmitted = answer.body;
        var query = headless ? "?headless=true" : "";
        if (mode === "edit") location.assign(prefix + query);
        else if (headless) location.assign(prefix + "success?headless=true&id=" + encodeURIComponent(name));
        else location.assign(prefix + "apps/" + encodeURIComponent(data.user) + "/" + encodeURIComponent(name));
      }, function () {
        busy(false);
        showAlert("The launcher could not be reached; nothing was saved. Try again.");
      });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sending) return;
    clearErrors();
    if (step === 1 || !stepProfiles) {
      if (!report(validateApp())) return;
      if (stepProfiles) { showStep(2, true); return; }
    }
    send();
  });

  // ---- "Save" only after a change (edit) ---------------------------------------------------------
  function snapshot() {
    var parts = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name && !el.classList.contains("env-key") && !el.classList.contains("env-value")) return;
      if (el.name === "source") return;
      if (el.type === "checkbox" || el.type === "radio") parts.push(el.name + "=" + el.value + ":" + el.checked);
      else if (el.type === "file") parts.push(Array.prototype.map.call(el.files || [], function (f) { return f.name + f.size + f.lastModified; }).join("|"));
      else parts.push((el.name || el.className) + "=" + el.value);
    });
    return JSON.stringify(parts);
  }
  function changed() {
    if (mode !== "edit" || sending) return;
    finalButton.disabled = snapshot() === initial;
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);

  // ---- notices ----------------------------------------------------------------------------
  var noticeBox = $("notice");
  var noticeTimer;
  function say(text, isError) {
    clearTimeout(noticeTimer);
    noticeBox.className = isError ? "error" : "";
    noticeBox.textContent = text;
    noticeTimer = setTimeout(function () { noticeBox.textContent = ""; }, 5000);
  }

  updateCounter();
  updateFramework();
  var initial = snapshot();
  changed();
})();
