// The interface strings the scripts need, in the page's language: the `js` section
// of the server's table (app/web/i18n/*.toml), as JSON in <body data-ui-strings>.
// No string a reader sees is written in a script itself.
(function () {
  "use strict";
  let strings = null;
  function load() {
    if (strings === null) {
      try {
        strings = JSON.parse(document.body.dataset.uiStrings || "{}");
      } catch (err) {
        strings = {};
      }
    }
    return strings;
  }
  // uiText(key, {s: 12}): the text of `key`, its `{s}` placeholders filled.
  window.uiText = function (key, values) {
    const text = Object.prototype.hasOwnProperty.call(load(), key) ? load()[key] : key;
    return text.replace(/\{(\w+)\}/g, (whole, name) =>
      values && values[name] !== undefined ? String(values[name]) : whole);
  };
  window.uiLang = function () {
    return document.documentElement.lang.startsWith("en") ? "en" : "zh";
  };
})();
