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

  // A fragment sent with 503 or 507 (the batch queue is full, the server's disk is) says why in
  // the page's language: show it rather than the general "the request failed".
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr, kind = xhr ? xhr.getResponseHeader("content-type") || "" : "";
    if (xhr && (xhr.status === 503 || xhr.status === 507) && kind.indexOf("text/html") === 0 &&
        xhr.responseText.indexOf('id="batch-job"') >= 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    event.detail.target.classList.remove("stale", "updating");
    if (event.detail.target.id === "result") placeMessages();
    if (event.detail.target.id === "result" || event.detail.target.id === "form-area") applyFocus();
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
      copyLink(button);
    } else if (button.classList.contains("calendar")) {
      openCalendar(button);
    } else if (button.classList.contains("to-field")) {
      toField(button.dataset.fact);
    } else if (button.id === "focus-all") {
      var focus = document.getElementById("focus-benefit");
      focus.value = "";
      applyFocus();
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

  // ------------------------------------------------------------------ a failed request is said at once

  // A request that fails (the server answers 4xx/5xx, cannot be reached, or does not answer in
  // time) leaves what is on screen from before the change: it is marked out of date, with the
  // reason in the page's language, until a request succeeds.
  function requestFailed(event, text) {
    var target = event.detail.target || (event.detail.elt && document.querySelector(event.detail.elt.getAttribute("hx-target") || "main"));
    if (!target) return;
    target.classList.remove("updating");
    target.classList.add("stale");
    var box = target.querySelector(":scope > .request-error");
    if (!box) {
      box = document.createElement("p");
      box.className = "request-error error";
      box.setAttribute("role", "alert");
      target.insertBefore(box, target.firstChild);
    }
    box.textContent = text;
    if (target.id === "result") placeMessages(true);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : "";
    requestFailed(event, body.dataset.msgFailed.replace("{status}", status));
  });
  document.addEventListener("htmx:sendError", function (event) { requestFailed(event, body.dataset.msgOffline); });
  document.addEventListener("htmx:timeout", function (event) { requestFailed(event, body.dataset.msgTimeout); });
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "result" && target.querySelector("#case")) target.classList.add("updating");
  });

  // ------------------------------------------------------------------ messages at their fields

  // The result says, per fact, why its value was left out or how it was read (data-fields on
  // #case); each message goes under its field. ``clear`` empties them (a stale result's).
  function placeMessages(clear) {
    var holder = document.getElementById("case");
    var messages = {};
    if (holder && !clear) {
      try { messages = JSON.parse(holder.dataset.fields || "{}"); } catch (e) { messages = {}; }
    }
    document.querySelectorAll("#profile-form .field-message").forEach(function (slot) {
      var message = messages[slot.dataset.for];
      var field = slot.closest(".field");
      var input = field && field.querySelector("input[type=text], select");
      slot.textContent = message ? message.text : "";
      slot.hidden = !message;
      slot.className = "field-message" + (message ? " " + message.kind : "");
      if (message && message.kind === "error") slot.setAttribute("role", "alert"); else slot.removeAttribute("role");
      var invalid = !!(message && message.kind === "error");
      if (field) field.classList.toggle("invalid", invalid);
      if (input) { if (invalid) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid"); }
    });
  }

  function toField(fact) {
    var field = document.querySelector("#profile-form [data-fact='" + CSS.escape(fact) + "']");
    if (!field) return;
    if (field.hidden) { document.getElementById("focus-benefit").value = ""; applyFocus(); }
    field.scrollIntoView({ block: "center" });
    var input = field.querySelector("input:not([type=hidden]):not(.date-picker), select");
    if (input) input.focus();
  }

  // ------------------------------------------------------------------ check one benefit

  // The form shows only the facts that decide the chosen benefit (data-decides on each field);
  // the others stay in the form, hidden, with what was filled in.
  function applyFocus() {
    var select = document.getElementById("focus-benefit");
    if (!select) return;
    var chosen = select.value, count = 0;
    document.querySelectorAll("#profile-form .field[data-fact]").forEach(function (field) {
      var decides = (" " + (field.dataset.decides || "") + " ").indexOf(" " + chosen + " ") >= 0;
      field.hidden = !!chosen && !decides && !field.dataset.always;
      if (chosen && decides) count++;
    });
    document.querySelectorAll("#profile-form fieldset.group").forEach(function (group) {
      group.hidden = !!chosen && !group.querySelector(".field[data-fact]:not([hidden])");
    });
    var note = document.getElementById("focus-note");
    if (note) {
      note.hidden = !chosen;
      var label = chosen ? select.options[select.selectedIndex].textContent : "";
      note.querySelector(".text").textContent = note.dataset.template.replace("{benefit}", label).replace("{n}", count);
    }
    document.querySelectorAll("table.benefits tr.focus").forEach(function (row) { row.classList.remove("focus"); });
    var row = chosen && document.getElementById("benefit-" + chosen);
    if (row) row.classList.add("focus");
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "focus-benefit") applyFocus();
  });

  // ------------------------------------------------------------------ dates: typed text, a calendar beside

  // A date is typed as text in the engine's forms (2021-03-01, 2021/3/1, 2021年3月1日), read by
  // the server whatever the browser's locale; the calendar only writes an ISO date into it.
  function isoOf(text) {
    var m = /^\s*(\d{4})\s*(?:[-\/.]|年)\s*(\d{1,2})\s*(?:[-\/.]|月)\s*(\d{1,2})\s*日?\s*$/.exec(text || "");
    if (!m) return "";
    var pad = function (n) { return (n.length < 2 ? "0" : "") + n; };
    return m[1] + "-" + pad(m[2]) + "-" + pad(m[3]);
  }

  function openCalendar(button) {
    var picker = button.parentNode.querySelector(".date-picker");
    var text = document.getElementById(button.dataset.for);
    if (!picker || !text) return;
    picker.value = isoOf(text.value);
    if (typeof picker.showPicker === "function") {
      try { picker.showPicker(); return; } catch (e) { /* not allowed here: focus it instead */ }
    }
    picker.focus();
  }

  function fromCalendar(event) {
    var picker = event.target;
    if (!picker.classList || !picker.classList.contains("date-picker") || !picker.value) return;
    var text = document.getElementById(picker.dataset.for);
    if (text && text.value !== picker.value) text.value = picker.value;
  }
  // Capture: the text is written before the form (htmx) hears the change and sends it.
  document.addEventListener("change", fromCalendar, true);
  document.addEventListener("input", fromCalendar, true);

  // ------------------------------------------------------------------ copy the link

  // Copied only when the clipboard says so; otherwise (no clipboard API on plain http, or the
  // browser refuses) the link is shown, selected, for the person to copy.
  function copyLink(button) {
    var link = location.href;
    var manual = function () { showLink(button, link); };
    var clipboard = navigator.clipboard;
    if (clipboard && typeof clipboard.writeText === "function") {
      var copied = function () { button.textContent = body.dataset.msgCopied; };
      try { clipboard.writeText(link).then(copied, manual); } catch (e) { manual(); }
    } else {
      manual();
    }
  }

  function showLink(button, link) {
    var actions = button.closest(".actions") || button.parentNode;
    var box = actions.parentNode.querySelector(".copy-fallback");
    if (!box) {
      box = document.createElement("div");
      box.className = "copy-fallback";
      var field = document.createElement("input");
      field.type = "text";
      field.readOnly = true;
      field.setAttribute("aria-label", body.dataset.msgPermalink);
      var note = document.createElement("p");
      note.className = "muted";
      note.setAttribute("role", "status");
      note.textContent = body.dataset.msgCopyManual;
      box.appendChild(field);
      box.appendChild(note);
      actions.insertAdjacentElement("afterend", box);
    }
    var input = box.querySelector("input");
    input.value = link;
    input.focus();
    input.select();
  }
})();
