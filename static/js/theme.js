// Light or dark, as the reader last chose (localStorage "theme"), else the system's.
// Loaded in <head>, not deferred: the choice is on <html data-theme> before the first
// paint, so a dark reader never sees a light flash. The header's toggle changes it and
// announces `themechange` (static/js/charts.js redraws the charts in the new colours).
(function () {
  "use strict";
  const KEY = "theme";
  const root = document.documentElement;
  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (err) { return null; }
  }
  function systemDark() {
    return Boolean(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }
  const chosen = stored();
  if (chosen === "dark" || chosen === "light") root.dataset.theme = chosen;

  window.kdTheme = {
    isDark() { return root.dataset.theme ? root.dataset.theme === "dark" : systemDark(); },
    set(theme) {
      root.dataset.theme = theme;
      try { window.localStorage.setItem(KEY, theme); } catch (err) { /* private mode */ }
      window.dispatchEvent(new CustomEvent("themechange", { detail: { theme } }));
    },
  };

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("theme-toggle");
    if (!button) return;
    const show = () => button.setAttribute("aria-pressed", String(window.kdTheme.isDark()));
    show();
    button.hidden = false;  // without JavaScript there is nothing it could do
    button.addEventListener("click", () => {
      window.kdTheme.set(window.kdTheme.isDark() ? "light" : "dark");
      show();
    });
    if (window.matchMedia) {  // following the system, the button follows it too
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
        show();
        if (!root.dataset.theme) window.dispatchEvent(new CustomEvent("themechange"));
      });
    }
  });
})();
