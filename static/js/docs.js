// Starts Swagger UI from the bundled copy; kept out of the page so the CSP needs no inline script.
(function () {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.openapiUrl, dom_id: "#swagger-ui" });
})();
