// Folds the catalog's filters behind their summary on a phone, so the first paper is on
// the first screen; unfolds them again if the window grows wide. Loaded right after
// the filters, not deferred, so they never flash open on a phone.
(function () {
  "use strict";
  const fold = document.getElementById("filters-fold");
  if (!fold || !window.matchMedia) return;
  const phone = window.matchMedia("(max-width: 760px)");
  const apply = () => { fold.open = !phone.matches; };
  apply();
  phone.addEventListener("change", apply);
})();
