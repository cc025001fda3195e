// A headless front-end in one file: it reads the journal (the blog's listed posts, newest
// first) through KQL, `POST /api/query`, as the nuxt-kirby or kirby-headless clients do. It
// runs on the same site as the API and signs in with Kirby's session: the CSRF token comes
// from the site's `GET /csrf` route, the session from `POST /api/auth/login`, and every API
// call sends the cookie plus `X-CSRF`.

const PER_PAGE = 1;
const $ = (id) => document.getElementById(id);
let csrf = "";
let page = 1;

async function api(path, body) {
  const r = await fetch("/api/" + path, {
    method: body === undefined ? "GET" : "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json().catch(() => ({ message: `HTTP ${r.status}` }));
  if (!r.ok || json.status === "error") {
    const e = new Error(json.message || `HTTP ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return json;
}

/** One KQL request for everything the page shows. */
function journalQuery(n) {
  return {
    queries: {
      site: "site.title",
      me: { query: "kirby.user", select: ["email"] },
      posts: {
        query: 'page("blog").children.listed.sortBy("date", "desc")',
        select: {
          id: true,
          title: true,
          url: true,
          date: 'page.date.toDate("Y-m-d")',
          excerpt: "page.text.excerpt(120)",
          tags: "page.tags.split",
          image: "page.image?.url",
        },
        pagination: { limit: PER_PAGE, page: n },
      },
    },
  };
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function render(result) {
  $("site-title").textContent = result.site;
  $("who").textContent = result.me ? result.me.email : "";
  const list = $("posts");
  list.replaceChildren();
  for (const post of result.posts.data) {
    const li = document.createElement("li");
    li.dataset.id = post.id;
    const img = document.createElement("img");
    img.alt = "";
    if (post.image) img.src = post.image;
    const h3 = document.createElement("h3");
    const a = document.createElement("a");
    a.href = post.url;
    a.textContent = post.title;
    h3.append(a);
    const time = document.createElement("time");
    time.dateTime = post.date || "";
    time.textContent = post.date || "";
    const p = document.createElement("p");
    p.className = "excerpt";
    p.textContent = post.excerpt;
    const tags = document.createElement("p");
    tags.className = "tags";
    tags.textContent = (post.tags || []).map((t) => "#" + t).join(" ");
    li.append(img, h3, time, p, tags);
    list.append(li);
  }
  const pg = result.posts.pagination;
  $("page-info").textContent = `page ${pg.page} of ${pg.pages} (${pg.total} posts)`;
  $("prev").disabled = pg.page <= 1;
  $("next").disabled = pg.page >= pg.pages;
}

async function load(n) {
  $("status").textContent = "Loading…";
  try {
    const json = await api("query", journalQuery(n));
    page = n;
    render(json.result);
    $("login").hidden = true;
    $("journal").hidden = false;
    showError("");
    $("status").textContent = "";
  } catch (e) {
    $("status").textContent = "";
    if (e.status === 401 || e.status === 403) {
      $("journal").hidden = true;
      $("login").hidden = false;
    } else {
      showError(e.message);
    }
  }
}

/** The session's CSRF token. Asked again before a login: a request that reached the site
 * without the cookie (a parallel asset request) may have started a new session. */
async function refreshCsrf() {
  const r = await fetch("/csrf", { credentials: "same-origin" });
  csrf = (await r.json()).csrf;
}

async function start() {
  await refreshCsrf();
  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await refreshCsrf();
      await api("auth/login", {
        email: $("email").value,
        password: $("password").value,
        long: false,
      });
      await load(1);
    } catch (e) {
      showError(e.message);
    }
  });
  $("logout").addEventListener("click", async () => {
    await api("auth/logout", {}).catch(() => {});
    await refreshCsrf();
    $("journal").hidden = true;
    $("login").hidden = false;
  });
  $("prev").addEventListener("click", () => load(page - 1));
  $("next").addEventListener("click", () => load(page + 1));
  await load(1);
}

start().catch((e) => showError(String(e)));
