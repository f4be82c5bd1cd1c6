// The live preview: reloads the page when the notes it shows change. The page says
// what it was rendered from in <meta name="notes-version">; the server's stream
// sends the current version at once and after every change.
(function () {
  const meta = document.querySelector('meta[name="notes-version"]');
  if (!meta || !window.EventSource) return;
  const root = document.documentElement.dataset.root || "";
  const paper = meta.dataset.paper;
  const url = root + "/api/notes/events" + (paper ? "?paper=" + encodeURIComponent(paper) : "");
  const KEY = "notes-preview-scroll:" + location.pathname + location.search;

  // Back where the reader was, after a reload this script made.
  const saved = sessionStorage.getItem(KEY);
  if (saved !== null) {
    sessionStorage.removeItem(KEY);
    window.scrollTo(0, Number(saved) || 0);
  }

  const source = new EventSource(url);
  source.addEventListener("version", (event) => {
    if (event.data === meta.content) return;
    source.close();
    sessionStorage.setItem(KEY, String(window.scrollY));
    location.reload();
  });
})();
