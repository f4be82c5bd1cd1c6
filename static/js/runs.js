// The run history: creation times in the reader's local time.
(function () {
  "use strict";
  document.querySelectorAll("time.ts").forEach((el) => {
    const seconds = Number(el.getAttribute("datetime"));
    if (seconds) el.textContent = new Date(seconds * 1000).toLocaleString(document.documentElement.lang || "zh-CN");
  });
})();
