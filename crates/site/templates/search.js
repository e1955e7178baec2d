// Tidings search: loads search.json once and matches every word of the query as a substring
// of an article's title, categories or text. Works offline; results are built with textContent
// only, so nothing from the index is ever parsed as HTML.
(function () {
  "use strict";
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var input = document.getElementById("q");
  if (!status || !results || !input) return;
  var root = status.getAttribute("data-root") || "./";
  var items = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function words(q) {
    return q.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
  }

  function show(q) {
    results.textContent = "";
    var ws = words(q);
    if (!ws.length) { status.textContent = items.length + " articles indexed."; return; }
    var found = 0;
    for (var i = 0; i < items.length && found < 100; i++) {
      var it = items[i]; // [slug, title, date, categories, text]
      var hay = (it[1] + " " + it[3] + " " + it[4]).toLowerCase();
      if (!ws.every(function (w) { return hay.indexOf(w) !== -1; })) continue;
      found++;
      var art = el("article", "item");
      var box = el("div", "item-text");
      box.appendChild(el("p", "meta", it[3]));
      var h = el("h2", "item-title");
      var a = el("a", null, it[1]);
      a.href = root + "posts/" + encodeURIComponent(it[0]) + "/";
      h.appendChild(a);
      box.appendChild(h);
      box.appendChild(el("p", "excerpt", it[4]));
      box.appendChild(el("p", "meta", it[2]));
      art.appendChild(box);
      results.appendChild(art);
    }
    status.textContent = found ? (found >= 100 ? "First 100 matches" : found + " found") : "No match for \u201c" + q + "\u201d.";
  }

  function run() {
    var q = input.value;
    var url = new URL(window.location.href);
    if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
    window.history.replaceState(null, "", url);
    show(q);
  }

  status.textContent = "Loading the index…";
  fetch(status.getAttribute("data-index"))
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(function (data) {
      items = data.items || [];
      input.value = new URLSearchParams(window.location.search).get("q") || "";
      show(input.value);
      input.addEventListener("input", run);
      input.form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
    })
    .catch(function (e) { status.textContent = "The search index could not be loaded (" + e.message + ")."; });
})();
