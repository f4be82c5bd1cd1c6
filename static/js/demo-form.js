// Launches a demo from the paper page without leaving it half-way: posts the form as
// JSON, shows a refusal next to the field it concerns, and opens the run's page.
// Without JavaScript the form posts natively and the server redirects to the run.
(function () {
  const T = window.uiText;
  function showError(form, message) {
    const box = form.querySelector(".form-error");
    box.textContent = message;
    box.hidden = false;
  }

  function fieldErrors(form, detail) {
    const lines = [];
    for (const error of detail) {
      const name = error.loc[error.loc.length - 1];
      const input = form.querySelector(`[name="${CSS.escape(String(name))}"]`);
      if (input) input.setAttribute("aria-invalid", "true");
      // The field by its label on this form, the problem by its type: never pydantic's words.
      const label = input && input.id && form.querySelector(`label[for="${CSS.escape(input.id)}"]`);
      const field = label ? label.textContent.trim() : String(name);
      const ctx = error.ctx || {};
      const limit = [ctx.ge, ctx.gt, ctx.le, ctx.lt].find((v) => v !== undefined);
      const key = `v.${error.type}`;
      lines.push(T(T(key) === key ? "v.other" : key, { field, limit: limit === undefined ? "" : limit }));
    }
    return lines.join(" ");
  }

  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button[type=submit]");
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelector(".form-error").hidden = true;
    const data = new FormData(form);
    const params = {};
    for (const [key, value] of data.entries()) {
      if (key === "method" || key === "token" || value === "") continue;
      if (key === "params") Object.assign(params, JSON.parse(value)); // a sweep's params
      else params[key] = value;
    }
    const headers = { "content-type": "application/json", accept: "application/json" };
    if (data.get("token")) headers["x-run-token"] = data.get("token");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers,
        body: JSON.stringify({ method: data.get("method"), params }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 202) {
        window.location.assign(body.url);
        return;
      }
      if (response.status === 422 && Array.isArray(body.detail)) {
        showError(form, T("bad_params", { detail: fieldErrors(form, body.detail) }));
      } else if (response.status === 429) {
        const wait = response.headers.get("retry-after");
        const detail = body.detail || T("queue_full");
        showError(form, wait ? T("busy", { detail, n: wait }) : detail);
      } else {
        showError(form, body.detail || T("request_failed", { status: response.status }));
      }
    } catch (error) {
      showError(form, T("offline", { error: error.message }));
    }
    button.disabled = false;
  }

  document.querySelectorAll("form.run-form").forEach((form) => {
    form.addEventListener("submit", submit);
  });
})();
