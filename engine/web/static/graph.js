/* The graph page: the whole graph fitted to the window when the page opens; pan (drag), zoom
 * (wheel, the + / - buttons and keys), "whole graph" to fit it again; search; a node's details
 * on click; and the case's derivation marked (what holds and what applied, what is still open). */
(function () {
  "use strict";
  var svg = document.getElementById("graph");
  if (!svg) return;
  var canvas = document.getElementById("canvas");
  var panel = document.getElementById("graph-panel");
  var search = document.getElementById("graph-search");
  var count = document.getElementById("graph-count");
  var full = { w: Number(svg.dataset.width), h: Number(svg.dataset.height) };
  var box = { x: 0, y: 0, w: full.w, h: full.h };
  var fitted = true;   // follows the window's size until the reader zooms or pans
  var nodes = Array.prototype.slice.call(svg.querySelectorAll(".node"));
  var edges = Array.prototype.slice.call(svg.querySelectorAll(".edge"));
  var byKey = {};
  nodes.forEach(function (n) { byKey[n.dataset.key] = n; });

  /* The canvas fills the window below its top, so that the page opens with the whole graph in view. */
  function size() {
    var top = canvas.getBoundingClientRect().top + window.scrollY;
    canvas.style.height = Math.max(window.innerHeight - top - 8, 260) + "px";
  }
  function apply() { svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" ")); }
  /* The view box keeps the canvas's proportions, so that a screen point maps to the drawing linearly. */
  function fit() {
    var cw = Math.max(canvas.clientWidth, 1), ch = Math.max(canvas.clientHeight, 1);
    var scale = Math.max(full.w / cw, full.h / ch);
    box.w = cw * scale; box.h = ch * scale;
    box.x = (full.w - box.w) / 2; box.y = (full.h - box.h) / 2;
    fitted = true; apply();
  }
  var picked = null;   // the node whose details are shown: the buttons zoom on it
  function zoom(f, px, py) {
    if (px === undefined && picked) {
      var t = picked.transform.baseVal.consolidate().matrix;
      px = t.e + Number(picked.dataset.w) / 2; py = t.f + Number(picked.dataset.h) / 2;
      box.w *= f; box.h *= f; box.x = px - box.w / 2; box.y = py - box.h / 2;
      fitted = false; apply(); return;
    }
    if (px === undefined) { px = box.x + box.w / 2; py = box.y + box.h / 2; }
    box.x = px - (px - box.x) * f; box.y = py - (py - box.y) * f; box.w *= f; box.h *= f;
    fitted = false; apply();
  }
  /* A line wider than its box in this browser's font (the boxes are measured for Noto Sans CJK)
   * is narrowed to fit: a label is never cut. */
  var pad = Number(svg.dataset.pad);
  nodes.forEach(function (n) {
    var room = Number(n.dataset.w) - 2 * pad;
    Array.prototype.forEach.call(n.querySelectorAll("tspan"), function (t) {
      if (t.getComputedTextLength() > room) {
        t.setAttribute("textLength", room); t.setAttribute("lengthAdjust", "spacingAndGlyphs");
      }
    });
  });
  size(); fit();
  window.addEventListener("resize", function () {
    var before = canvas.clientWidth;
    size();
    if (fitted) { fit(); return; }
    var scale = box.w / Math.max(before, 1);
    box.w = canvas.clientWidth * scale; box.h = canvas.clientHeight * scale; apply();
  });

  /* Centre on a node at a readable scale (one unit of the drawing a pixel, or closer if zoomed in). */
  function centerOn(node, readable) {
    var t = node.transform.baseVal.consolidate().matrix;
    if (readable) {
      var scale = Math.min(box.w / canvas.clientWidth, 1);
      box.w = canvas.clientWidth * scale; box.h = canvas.clientHeight * scale;
    }
    box.x = t.e + Number(node.dataset.w) / 2 - box.w / 2; box.y = t.f + Number(node.dataset.h) / 2 - box.h / 2;
    fitted = false; apply();
  }

  document.getElementById("zoom-in").addEventListener("click", function () { zoom(1 / 1.4); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(1.4); });
  document.getElementById("zoom-fit").addEventListener("click", fit);
  canvas.tabIndex = 0;
  canvas.addEventListener("keydown", function (e) {
    if (e.key === "+" || e.key === "=") zoom(1 / 1.4);
    else if (e.key === "-") zoom(1.4);
    else if (e.key === "0") fit();
    else return;
    e.preventDefault();
  });

  var dragging = null, moved = false;
  svg.addEventListener("mousedown", function (e) { dragging = [e.clientX, e.clientY]; moved = false; svg.classList.add("dragging"); });
  window.addEventListener("mouseup", function () { dragging = null; svg.classList.remove("dragging"); });
  window.addEventListener("mousemove", function (e) {
    if (!dragging) return;
    var scale = box.w / svg.clientWidth;
    if (Math.abs(e.clientX - dragging[0]) + Math.abs(e.clientY - dragging[1]) > 0) moved = true;
    box.x -= (e.clientX - dragging[0]) * scale; box.y -= (e.clientY - dragging[1]) * scale;
    dragging = [e.clientX, e.clientY]; fitted = false; apply();
  });
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = svg.getBoundingClientRect();
    zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, box.x + (e.clientX - r.left) / r.width * box.w,
         box.y + (e.clientY - r.top) / r.height * box.h);
  }, { passive: false });

  function text(tag, value, cls) {
    var el = document.createElement(tag); el.textContent = value; if (cls) el.className = cls; return el;
  }

  function clear() {
    nodes.forEach(function (n) { n.classList.remove("dim", "picked"); });
    edges.forEach(function (p) { p.classList.remove("dim"); });
    panel.hidden = true; picked = null;
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
    var close = text("button", "×", "close");
    close.type = "button"; close.title = panel.dataset.msgClose; close.setAttribute("aria-label", panel.dataset.msgClose);
    close.addEventListener("click", clear);
    panel.appendChild(close);
    var head = text("h2", node.dataset.label + " "); head.appendChild(text("code", node.dataset.id, "id"));
    panel.appendChild(head);
    if (node.dataset.cites) panel.appendChild(text("p", "[" + node.dataset.cites + "]", "muted"));
    if (node.dataset.quote) panel.appendChild(text("blockquote", "“" + node.dataset.quote + "”"));
    if (node.dataset.detail) panel.appendChild(text("p", node.dataset.detail));
    if (node.dataset.value) panel.appendChild(text("p", panel.dataset.msgCase + node.dataset.value, "value"));
    if (node.dataset.status) panel.appendChild(text("p", panel.dataset.msgCase + node.dataset.status, "value"));
    var list = document.createElement("ul");
    rows.forEach(function (p) {
      var other = p.dataset.a === key ? p.dataset.b : p.dataset.a;
      var item = document.createElement("li");
      var link = text("a", (p.dataset.a === key ? "→ " : "← ") + (byKey[other] ? byKey[other].dataset.label : other));
      link.href = "#"; link.addEventListener("click", function (e) { e.preventDefault(); pick(other); centerOn(byKey[other], false); });
      item.appendChild(link); list.appendChild(item);
    });
    panel.appendChild(list);
    panel.hidden = false; picked = node;
  }
  nodes.forEach(function (n) {
    n.addEventListener("click", function (e) { e.stopPropagation(); if (!moved) pick(n.dataset.key); });
  });

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
  });

  var focus = new URLSearchParams(location.search).get("focus");
  if (focus && byKey[focus]) { pick(focus); centerOn(byKey[focus], true); }

  // The case's derivation: called by app.js with the profile from the link, if any.
  window.policykbGraph = function (profile) {
    if (!profile) return;
    var data = new URLSearchParams();
    data.set("profile", JSON.stringify(profile));
    fetch("/ui/marks?lang=" + document.body.dataset.lang, { method: "POST", body: data, headers: document.body.dataset.csrf ? { "X-CSRF-Token": document.body.dataset.csrf } : {} }).then(function (r) { return r.json(); }).then(function (marks) {
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
