/* The graph page: pan (drag), zoom (wheel, +/-), search, a node's details on click, and the
 * case's derivation highlighted (what holds and what applied, in green). Starts at scale 1 so
 * that labels are readable; the whole graph is one drag or zoom away. */
(function () {
  "use strict";
  var svg = document.getElementById("graph");
  if (!svg) return;
  var canvas = document.getElementById("canvas");
  var panel = document.getElementById("graph-panel");
  var search = document.getElementById("graph-search");
  var count = document.getElementById("graph-count");
  var lang = document.body.dataset.lang;
  var full = { w: Number(svg.dataset.width), h: Number(svg.dataset.height) };
  var box = { x: 0, y: 0, w: 0, h: 0 };
  var nodes = Array.prototype.slice.call(svg.querySelectorAll(".node"));
  var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
  var byKey = {};
  nodes.forEach(function (n) { byKey[n.dataset.key] = n; });

  function apply() { svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" ")); }
  function fit() {
    box.w = Math.max(canvas.clientWidth, 200); box.h = Math.max(canvas.clientHeight, 200);
    apply();
  }
  fit();
  window.addEventListener("resize", function () {
    var scale = box.w / Math.max(canvas.clientWidth, 1);
    box.w = canvas.clientWidth * scale; box.h = canvas.clientHeight * scale; apply();
  });

  function centerOn(node) {
    var t = node.transform.baseVal.consolidate().matrix;
    box.x = t.e + 110 - box.w / 2; box.y = t.f + 16 - box.h / 2; apply();
  }

  var dragging = null;
  svg.addEventListener("mousedown", function (e) { dragging = [e.clientX, e.clientY]; svg.classList.add("dragging"); });
  window.addEventListener("mouseup", function () { dragging = null; svg.classList.remove("dragging"); });
  window.addEventListener("mousemove", function (e) {
    if (!dragging) return;
    var scale = box.w / svg.clientWidth;
    box.x -= (e.clientX - dragging[0]) * scale; box.y -= (e.clientY - dragging[1]) * scale;
    dragging = [e.clientX, e.clientY]; apply();
  });
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var f = e.deltaY > 0 ? 1.15 : 1 / 1.15;
    var r = svg.getBoundingClientRect();
    var px = box.x + (e.clientX - r.left) / r.width * box.w, py = box.y + (e.clientY - r.top) / r.height * box.h;
    box.x = px - (px - box.x) * f; box.y = py - (py - box.y) * f; box.w *= f; box.h *= f; apply();
  }, { passive: false });

  function text(tag, value, cls) {
    var el = document.createElement(tag); el.textContent = value; if (cls) el.className = cls; return el;
  }

  function pick(key) {
    var node = byKey[key];
    if (!node) return;
    var near = {}; near[key] = true;
    var rows = edges.filter(function (p) { return p.dataset.a === key || p.dataset.b === key; });
    rows.forEach(function (p) { near[p.dataset.a] = true; near[p.dataset.b] = true; });
    nodes.forEach(function (n) { n.classList.toggle("dim", !near[n.dataset.key]); n.classList.toggle("picked", n === node); });
    edges.forEach(function (p) { p.classList.toggle("dim", rows.indexOf(p) < 0); });
    panel.textContent = "";
    var head = text("h2", node.dataset.label + " "); head.appendChild(text("code", node.dataset.id, "id"));
    panel.appendChild(head);
    if (node.dataset.cites) panel.appendChild(text("p", "[" + node.dataset.cites + "]", "muted"));
    if (node.dataset.quote) panel.appendChild(text("blockquote", "“" + node.dataset.quote + "”"));
    if (node.dataset.detail) panel.appendChild(text("p", node.dataset.detail));
    if (node.dataset.value) panel.appendChild(text("p", (lang === "zh" ? "本案例：" : "this case: ") + node.dataset.value, "value"));
    if (node.dataset.status) panel.appendChild(text("p", (lang === "zh" ? "本案例：" : "this case: ") + node.dataset.status, "value"));
    var list = document.createElement("ul");
    rows.forEach(function (p) {
      var other = p.dataset.a === key ? p.dataset.b : p.dataset.a;
      var item = document.createElement("li");
      var link = text("a", (p.dataset.a === key ? "→ " : "← ") + (byKey[other] ? byKey[other].dataset.label : other));
      link.href = "#"; link.addEventListener("click", function (e) { e.preventDefault(); pick(other); centerOn(byKey[other]); });
      item.appendChild(link); list.appendChild(item);
    });
    panel.appendChild(list);
  }
  nodes.forEach(function (n) { n.addEventListener("click", function (e) { e.stopPropagation(); pick(n.dataset.key); }); });

  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    var hits = [];
    nodes.forEach(function (n) {
      var hit = q && (n.dataset.label.toLowerCase().indexOf(q) >= 0 || n.dataset.id.toLowerCase().indexOf(q) >= 0);
      n.classList.toggle("match", !!hit);
      n.classList.toggle("dim", !!q && !hit);
      if (hit) hits.push(n);
    });
    edges.forEach(function (p) { p.classList.toggle("dim", !!q); });
    count.textContent = q ? search.dataset.msgMatches.replace("{n}", hits.length) : "";
    if (hits.length) centerOn(hits[0]);
  });

  var focus = new URLSearchParams(location.search).get("focus");
  if (focus && byKey[focus]) { pick(focus); centerOn(byKey[focus]); }

  // The case's derivation: called by app.js with the profile from the link, if any.
  window.policykbGraph = function (profile) {
    if (!profile) return;
    var data = new URLSearchParams();
    data.set("profile", JSON.stringify(profile));
    fetch("/ui/marks?lang=" + lang, { method: "POST", body: data }).then(function (r) { return r.json(); }).then(function (marks) {
      if (marks.error) return;
      svg.classList.add("with-case");
      nodes.forEach(function (n) {
        var kind = n.dataset.kind, id = n.dataset.id, state = null;
        if (kind === "rule") { state = marks.rules[id] === "fired" ? "hit" : marks.rules[id] === "unknown" ? "open" : "miss"; }
        else if (kind === "fact") {
          state = id in marks.facts ? "hit" : "open";
          if (id in marks.facts) n.dataset.value = marks.facts[id];
        } else if (marks.status[id]) {
          state = marks.status[id] === "granted" ? "hit" : marks.status[id] === "undetermined" ? "open" : "miss";
          n.dataset.status = marks.status_text[id] || marks.status[id];
        }
        if (state) n.classList.add(state);
      });
      edges.forEach(function (p) {
        var a = byKey[p.dataset.a], b = byKey[p.dataset.b];
        p.classList.toggle("hit", !!(a && b && a.classList.contains("hit") && b.classList.contains("hit")));
      });
      document.body.dataset.graphCase = "ready";
    });
  };
  document.body.dataset.graphReady = "true";
})();
