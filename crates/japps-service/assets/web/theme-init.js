// Sets the colour theme before the page paints (no flash of the wrong theme): loaded
// synchronously in <head>, so it is a file rather than an inline script the pages'
// Content-Security-Policy would refuse.
(function () {
  var mode = "system";
  try { mode = localStorage.getItem("japps:color-mode") || "system"; } catch (e) {}
  var dark = mode === "dark" || (mode !== "light" && window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
  document.documentElement.setAttribute("data-mode", mode);
})();
