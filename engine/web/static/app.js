/* policykb pages: the case in the URL fragment, and the glue between pages and fragments.
 *
 * A case (a profile) lives in the URL fragment — #kb=<knowledge-base version>&case=<base64url
 * JSON> — which browsers never send to a server, so a profile is never written to a server log.
 * Every page reads it on load, posts it in a request body to the fragment endpoint that fills
 * the page, and writes it back when the page changes it. No inline script, no eval (the page's
 * Content-Security-Policy forbids both).
 */
(function () {
  "use strict";
  var body = document.body;
  var lang = body.dataset.lang || "zh";
  var kbVersion = body.dataset.kb || "";
  var page = body.dataset.page || "";
  var current = null;          // the case on this page: a profile object
  var COMPARE_KEY = "policykb.compare";

  // ------------------------------------------------------------------ the fragment

  function b64encode(text) {
    var bytes = new TextEncoder().encode(text), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64decode(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    var out = { kb: params.get("kb"), id: params.get("id") };
    try {
      if (params.get("case")) out.case = JSON.parse(b64decode(params.get("case")));
      if (params.get("cases")) out.cases = JSON.parse(b64decode(params.get("cases")));
      if (out.case && (typeof out.case !== "object" || Array.isArray(out.case))) throw new Error("not a profile");
      if (out.cases && !Array.isArray(out.cases)) throw new Error("not a list of cases");
    } catch (e) {
      out.bad = true; out.case = null; out.cases = null;
    }
    return out;
  }

  function hashFor(state) {
    var p = new URLSearchParams();
    p.set("kb", kbVersion);
    if (state.id) p.set("id", state.id);
    if (state.case && Object.keys(state.case).length) p.set("case", b64encode(JSON.stringify(state.case)));
    if (state.cases) p.set("cases", b64encode(JSON.stringify(state.cases)));
    return "#" + p.toString();
  }

  function writeHash(state) {
    history.replaceState(null, "", location.pathname + location.search + hashFor(state));
  }

  function notice(text) {
    var box = document.getElementById("notice");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
  }

  var opened = readHash();
  if (opened.bad) notice(body.dataset.msgBadLink);
  else if (opened.kb && opened.kb !== kbVersion) {
    notice(body.dataset.msgMismatch.replace("{old}", opened.kb).replace("{new}", kbVersion));
  }
  current = opened.case || null;
  if (!current && opened.cases && opened.cases.length && opened.cases[0].profile) current = opened.cases[0].profile;

  // ------------------------------------------------------------------ links carry the case

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.case-link");
    if (link && current) {
      var target = new URL(link.href, location.href);
      var id = target.searchParams.get("id");
      link.href = target.pathname + target.search + hashFor({ case: current, id: id });
    }
    var switcher = event.target.closest("#switch-lang");
    if (switcher) {
      var here = new URL(location.href);
      here.searchParams.set("lang", switcher.getAttribute("hreflang"));
      switcher.href = here.pathname + here.search + location.hash;
    }
  });

  function post(url, values, target, swap) {
    return htmx.ajax("POST", url, { target: target, swap: swap || "innerHTML", values: values });
  }

  function withLang(path) { return path + (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang; }

  function compareList() {
    try { return JSON.parse(sessionStorage.getItem(COMPARE_KEY) || "[]"); } catch (e) { return []; }
  }

  function openCompare(cases) {
    sessionStorage.setItem(COMPARE_KEY, JSON.stringify(cases));
    location.href = withLang("/compare") + hashFor({ cases: cases });
  }

  function caseName(profile, fallback) {
    return (profile && typeof profile.name === "string" && profile.name) || fallback;
  }

  // ------------------------------------------------------------------ pages

  var setup = {
    evaluate: function () {
      if (current) {
        post(withLang("/ui/form"), { profile: JSON.stringify(current) }, "#form-area");
      }
    },
    interview: function () {
      post(withLang("/ui/interview"), { profile: JSON.stringify(current || {}) }, "#interview");
    },
    why: function () {
      var select = document.getElementById("why-id");
      if (opened.id && select.querySelector("option[value='" + CSS.escape(opened.id) + "']")) select.value = opened.id;
      function load() {
        writeHash({ case: current, id: select.value });
        post(withLang("/ui/why"), { profile: JSON.stringify(current || {}), id: select.value }, "#why");
      }
      select.addEventListener("change", load);
      load();
    },
    compare: function () {
      var cases = opened.cases || (opened.case ? [{ name: caseName(opened.case, "A"), profile: opened.case }] : compareList());
      post(withLang("/ui/compare"), { cases: JSON.stringify(cases) }, "#compare");
    },
    policy: function () {
      if (current) post(withLang("/ui/policy"), { profile: JSON.stringify(current) }, "#policy");
    },
    graph: function () {
      if (window.policykbGraph) window.policykbGraph(current);
    }
  };

  // The Evaluate form: when a case comes with the link, the empty form must not race the filled one.
  if (page === "evaluate" && current) {
    var form = document.getElementById("profile-form");
    if (form) form.setAttribute("hx-trigger", "change, input delay:120ms");
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (setup[page]) setup[page]();
  });

  // ------------------------------------------------------------------ after each swap

  document.addEventListener("htmx:afterSwap", function (event) {
    var holder = event.detail.target.querySelector("[data-profile]");
    if (holder && (page === "evaluate" || page === "interview" || page === "why")) {
      try { current = JSON.parse(holder.dataset.profile); } catch (e) { return; }
      writeHash({ case: current, id: holder.dataset.id || null });
    }
    var compared = event.detail.target.querySelector("[data-cases]");
    if (compared) {
      var cases = JSON.parse(compared.dataset.cases);
      sessionStorage.setItem(COMPARE_KEY, JSON.stringify(cases));
      current = cases.length ? cases[0].profile : null;
      writeHash({ cases: cases });
    }
  });

  // ------------------------------------------------------------------ buttons

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("print-form")) {
      form.querySelector("input[name=profile]").value = JSON.stringify(current || {});
    }
    if (form.id === "add-case-form") {
      event.preventDefault();
      post(withLang("/ui/compare"), { cases: JSON.stringify(compareList()), text: form.elements.text.value }, "#compare");
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("what-if")) {
      var cases = compareList();
      cases.push({ name: caseName(current, "#" + (cases.length + 1)), profile: current || {} });
      openCompare(cases);
    } else if (button.classList.contains("copy-link")) {
      var done = function () { button.textContent = body.dataset.msgCopied; };
      if (navigator.clipboard) navigator.clipboard.writeText(location.href).then(done, done); else done();
    } else if (button.classList.contains("apply-copy")) {
      var facts = JSON.parse(button.dataset.changes), values = JSON.parse(button.dataset.values);
      var copy = JSON.parse(JSON.stringify(current || {}));
      facts.forEach(function (fact, i) {
        if (values[i] === null) delete copy[fact]; else copy[fact] = values[i];
      });
      var name = caseName(current, "A");
      copy.name = name + (lang === "zh" ? "（副本）" : " (copy)");
      openCompare([{ name: name, profile: current || {} }, { name: copy.name, profile: copy }]);
    } else if (button.classList.contains("remove-case")) {
      var list = compareList();
      list.splice(Number(button.dataset.index), 1);
      post(withLang("/ui/compare"), { cases: JSON.stringify(list) }, "#compare");
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.open-case");
    if (!link) return;
    var item = compareList()[Number(link.dataset.index)];
    if (item) link.href = withLang("/evaluate") + hashFor({ case: item.profile });
  });
})();
