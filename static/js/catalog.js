// Enhances the catalog's filter form: choosing a value applies it at once.
// Without JavaScript the form still works through its submit button.
(function () {
  const form = document.getElementById("filter-form");
  if (!form) return;
  form.querySelectorAll("select").forEach((select) => {
    select.addEventListener("change", () => form.requestSubmit());
  });
  // Empty fields would clutter the shareable URL: leave them out of the query.
  form.addEventListener("formdata", (event) => {
    for (const [key, value] of [...event.formData.entries()]) {
      if (value === "" || (key === "sort" && value === "file")) event.formData.delete(key);
    }
  });
})();
