// The Kirby docs' same-site example, done properly: the CSRF token comes from the page's
// <meta name="csrf-token">, the session cookie rides along (same origin), every API call
// sends X-CSRF, and every failure is shown to the user.
(function () {
  "use strict";

  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (sel) => document.querySelector(sel);
  const loginForm = $("#login-form");
  const editor = $("#editor");
  const list = $("#pages");
  const errorBox = $("#app-error");
  const statusLine = $("#app-status");

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = "";
    errorBox.hidden = true;
  }

  function status(message) {
    statusLine.textContent = message;
  }

  // Page ids travel in API paths with "+" instead of "/".
  const apiId = (id) => id.split("/").map(encodeURIComponent).join("+");

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const headers = { "X-CSRF": csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch("/api/" + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, "The server cannot be reached. Check your connection and try again.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const message = (data && data.message) || response.status + " " + response.statusText;
      throw new ApiError(response.status, message);
    }
    return data;
  }

  function showLogin() {
    editor.hidden = true;
    loginForm.hidden = false;
    status("");
    $("#email").focus();
  }

  async function loadPages() {
    // The site's pages, one level of children below each.
    const top = await api("GET", "site/children?select=id,title,status,hasChildren");
    const pages = [];
    for (const page of top.data) {
      pages.push({ ...page, depth: 0 });
      if (page.hasChildren) {
        const children = await api(
          "GET",
          "pages/" + apiId(page.id) + "/children?select=id,title,status"
        );
        for (const child of children.data) pages.push({ ...child, depth: 1 });
      }
    }
    return pages;
  }

  function row(page) {
    const li = document.createElement("li");
    li.dataset.id = page.id;
    li.className = "depth-" + page.depth;

    const label = document.createElement("label");
    label.className = "page-id";
    label.textContent = page.id;
    label.htmlFor = "title-" + page.id;

    const badge = document.createElement("span");
    badge.className = "badge " + page.status;
    badge.textContent = page.status;

    const form = document.createElement("form");
    form.className = "title-form";
    const input = document.createElement("input");
    input.className = "title-input";
    input.id = "title-" + page.id;
    input.value = page.title;
    input.required = true;
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "save";
    save.textContent = "Save";
    const note = document.createElement("span");
    note.className = "row-status";
    note.setAttribute("aria-live", "polite");
    form.append(input, save, note);

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      save.disabled = true;
      note.classList.remove("failed");
      note.textContent = "Saving…";
      try {
        const result = await api("PATCH", "pages/" + apiId(page.id) + "/title", {
          title: input.value,
        });
        input.value = result.data.title;
        note.textContent = "Saved";
      } catch (e) {
        note.textContent = "Not saved";
        note.classList.add("failed");
        showError("Could not rename " + page.id + ": " + e.message);
        if (e.status === 401) showLogin();
      } finally {
        save.disabled = false;
      }
    });

    li.append(label, badge, form);
    return li;
  }

  async function showEditor(user) {
    loginForm.hidden = true;
    editor.hidden = false;
    $("#signed-in").textContent = user.email;
    status("Loading pages…");
    try {
      const pages = await loadPages();
      list.replaceChildren(...pages.map(row));
      status(pages.length + " pages");
    } catch (e) {
      status("");
      showError("Could not load the pages: " + e.message);
      if (e.status === 401) showLogin();
    }
  }

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const button = $("#login-button");
    button.disabled = true;
    status("Signing in…");
    try {
      const result = await api("POST", "auth/login", {
        email: $("#email").value,
        password: $("#password").value,
        long: false,
      });
      $("#password").value = "";
      await showEditor(result.user);
    } catch (e) {
      status("");
      showError("Sign-in failed: " + e.message);
    } finally {
      button.disabled = false;
    }
  });

  $("#logout").addEventListener("click", async () => {
    clearError();
    try {
      await api("POST", "auth/logout");
    } catch (e) {
      showError("Sign-out failed: " + e.message);
      return;
    }
    list.replaceChildren();
    showLogin();
  });

  // Already signed in (the session cookie is still valid)? Then go straight to the pages.
  api("GET", "auth")
    .then((result) => showEditor(result.data))
    .catch((e) => {
      if (e.status !== 401) showError("Could not check the session: " + e.message);
      showLogin();
    });
})();
