// Tidings search: loads search.json, then every shard it names (search/K.json, a thousand
// articles each, newest shard first), and matches every word of the query as a substring of an
// article's title, categories or text. Works offline; results are built with textContent only,
// so nothing from the index is ever parsed as HTML.
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
    if (!items) return;
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

  function json(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status + " for " + url);
      return r.json();
    });
  }

  // Shards are named relative to the site root; an index of the first format holds its rows.
  function rows(index) {
    if (index.items) return Promise.resolve(index.items);
    var shards = (index.shards || []).filter(function (s) { return typeof s === "string"; });
    return Promise.all(shards.map(function (s) { return json(root + s); })).then(function (parts) {
      return [].concat.apply([], parts.map(function (p) { return p.items || []; }));
    });
  }

  // Typing starts at once; the query is run again when the index has arrived.
  input.value = new URLSearchParams(window.location.search).get("q") || "";
  input.addEventListener("input", run);
  if (input.form) input.form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  status.textContent = "Loading the index…";
  json(status.getAttribute("data-index"))
    .then(rows)
    .then(function (all) { items = all; show(input.value); })
    .catch(function (e) { status.textContent = "The search index could not be loaded (" + e.message + ")."; });
})();
