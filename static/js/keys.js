// Keyboard: "/" focuses the search, "j" / "k" the next / previous paper card, "?"
// opens the list of keys (#keys-help in templates/base.html). Never while the reader
// types in a field, nor with Ctrl, Alt or Meta held (the browser's own keys).
(function () {
  "use strict";
  const help = document.getElementById("keys-help");

  function typing(target) {
    return target instanceof HTMLElement
      && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function moveCard(step) {
    const links = [...document.querySelectorAll(".paper-card h3 a")];
    if (!links.length) return;
    const at = links.findIndex((a) => a === document.activeElement
      || a.closest(".paper-card").contains(document.activeElement));
    const next = at < 0 ? (step > 0 ? 0 : links.length - 1)
      : Math.min(links.length - 1, Math.max(0, at + step));
    links[next].focus();
    links[next].closest(".paper-card").scrollIntoView({ block: "nearest" });
  }

  function toggleHelp() {
    if (!help || typeof help.showModal !== "function") return;
    if (help.open) help.close(); else help.showModal();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (typing(event.target)) return;
    const search = document.getElementById("q");
    if (event.key === "/" && search) {
      event.preventDefault();
      search.focus();
      search.select();
    } else if (event.key === "j" || event.key === "k") {
      if (!document.querySelector(".paper-card")) return;
      event.preventDefault();
      moveCard(event.key === "j" ? 1 : -1);
    } else if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
    }
  });
  if (help) {
    const close = help.querySelector("[data-close]");
    if (close) close.addEventListener("click", () => help.close());
  }
})();
