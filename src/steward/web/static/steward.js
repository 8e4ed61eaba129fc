// Progressive enhancement only: every page works without this file.
// "/" focuses the search box (as on GitHub and most catalogs), unless typing elsewhere.
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  var tag = target && target.tagName;
  if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) return;
  var box = document.getElementById("q");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// The JSON API from a page: the session cookie goes along, and a change carries the
// session's CSRF token (from <meta name="csrf-token">), as the API requires of cookies.
window.steward = {
  api: function (path, options) {
    options = options || {};
    var headers = new Headers(options.headers || {});
    var meta = document.querySelector('meta[name="csrf-token"]');
    var method = (options.method || "GET").toUpperCase();
    if (meta && method !== "GET" && method !== "HEAD") headers.set("X-CSRF-Token", meta.content);
    if (options.body && typeof options.body !== "string") {
      headers.set("Content-Type", "application/json");
      options.body = JSON.stringify(options.body);
    }
    options.headers = headers;
    options.credentials = "same-origin";
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || response.statusText);
        return data;
      });
    });
  },
};
