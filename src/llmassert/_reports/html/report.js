/* llmassert HTML report: renders the embedded run report. No network access, no framework.
 * Data: #llm-meta (the report without its tests) and #llm-tests (the tests, packed by
 * llmassert._reports._html.pack_tests). Every text from the report is inserted as text
 * (textContent), never as HTML. */
(function () {
  "use strict";

  var PAGE_SIZE = 100;
  var NO_MODEL = "(no model)"; // the model filter's value for tests that used no model
  var OUTCOMES = ["passed", "failed", "error", "skipped", "xfailed", "xpassed"];
  var KIND_ORDER = ["format", "refusal", "content", "runtime", "judge", "custom"];

  // ---- small helpers -------------------------------------------------------------------
  function h(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      for (var name in props) {
        var value = props[name];
        if (value === null || value === undefined || value === false) continue;
        if (name === "text") node.textContent = value;
        else if (name === "class") node.className = value;
        else if (name === "on") {
          for (var ev in value) node.addEventListener(ev, value[ev]);
        } else node.setAttribute(name, value === true ? "" : value);
      }
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else if (typeof child === "string" || typeof child === "number") {
      node.appendChild(document.createTextNode(String(child)));
    } else node.appendChild(child);
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function byId(id) { return document.getElementById(id); }
  function isNum(x) { return typeof x === "number" && isFinite(x); }
  function int(x) { return isNum(x) ? Math.round(x).toLocaleString("en-US") : "—"; }
  function pct(x, digits) {
    if (!isNum(x)) return "—";
    var v = x * 100;
    var d = digits === undefined ? (v === 0 || v === 100 || Math.abs(v - Math.round(v)) < 1e-9 ? 0 : 1) : digits;
    return v.toFixed(d) + "%";
  }
  function secs(x) {
    if (!isNum(x)) return "—";
    if (x < 1) return Math.round(x * 1000) + " ms";
    if (x < 100) return x.toFixed(2) + " s";
    return Math.round(x) + " s";
  }
  function usd(x) {
    if (!isNum(x)) return "—";
    if (x === 0) return "$0";
    if (x >= 1) return "$" + x.toFixed(2);
    return "$" + x.toPrecision(2).replace(/\.?0+$/, "").replace(/(\.\d*?)0+e/, "$1e");
  }
  function pts(x) {
    if (!isNum(x)) return "—";
    var v = Math.round(x * 100);
    return (v > 0 ? "+" : "") + v + " pts";
  }
  function ratio(r) {
    if (!r || !isNum(r.ratio)) return "—";
    var s = r.ratio.toFixed(2) + "×";
    if (isNum(r.ci_low) && isNum(r.ci_high)) {
      s += " (95% CI " + r.ci_low.toFixed(2) + "–" + r.ci_high.toFixed(2) + ")";
    }
    return s;
  }
  function readJSON(id) {
    var node = byId(id);
    return JSON.parse(node ? node.textContent : "null");
  }
  function outcomeBadge(outcome) {
    var o = outcome || "none";
    return h("span", { class: "badge o-" + String(o).replace(/\s+/g, "-"), text: outcome || "—" });
  }
  function checkName(c) { return (c.negated ? "not_" : "") + (c.name || "?"); }

  // ---- unpacking (mirrors llmassert._reports._html.pack_tests) -------------------------
  function unpackTests(packed) {
    var S = packed.strings, F = packed.fields;
    var TEXT = {};
    Object.keys(packed.text).forEach(function (k) {
      TEXT[k] = {};
      packed.text[k].forEach(function (n) { TEXT[k][n] = true; });
    });
    function text(x) {
      if (typeof x === "number") return S[x];
      if (x === null || x === undefined) return null;
      return x.j;
    }
    function prompt(x) {
      if (Array.isArray(x)) {
        return x.map(function (m) { return { role: text(m[0]), content: text(m[1]) }; });
      }
      return text(x);
    }
    function list(x, decode) {
      if (Array.isArray(x)) return x.map(decode);
      if (x === null || x === undefined) return null;
      return x.j;
    }
    function decoder(kind, special) {
      var fields = F[kind], texts = TEXT[kind];
      return function (a) {
        var o = {};
        for (var i = 0; i < fields.length; i++) {
          var name = fields[i], v = a[i];
          if (v === undefined) v = null;
          if (special[name]) o[name] = special[name](v);
          else if (texts[name]) o[name] = text(v);
          else o[name] = v;
        }
        if (a.length > fields.length) Object.assign(o, a[fields.length]);
        return o;
      };
    }
    var check = decoder("check", {});
    var call = decoder("call", { prompt: prompt });
    var sample = decoder("sample", {
      calls: function (v) { return list(v, call); },
      checks: function (v) { return list(v, check); },
    });
    var test = decoder("test", {
      nodeid: function (v) { return v; },
      samples: function (v) { return list(v, sample); },
    });
    return packed.tests.map(function (a) {
      var t = test(a), n = t.nodeid;
      if (n === -1) t.nodeid = t.key + "[" + t.model + "]";
      else if (n === -2) t.nodeid = t.key;
      else t.nodeid = text(n);
      return t;
    });
  }

  // ---- summary -------------------------------------------------------------------------
  function modelOrder(meta, tests) {
    var seen = {}, order = [];
    function add(m) {
      if (typeof m !== "string" || seen[m]) return;
      seen[m] = true;
      order.push(m);
    }
    var run = meta.run || {};
    (Array.isArray(run.models) ? run.models : []).forEach(add);
    Object.keys(meta.models || {}).forEach(add);
    (tests || []).forEach(function (t) { add(t.model || ""); });
    return order;
  }
  function modelLabel(m) { return m === "" ? "(no model)" : m; }

  function renderRunInfo(meta) {
    var run = meta.run || {}, tool = meta.tool || {}, bits = [];
    if (meta.created_at) bits.push(String(meta.created_at));
    if (isNum(meta.duration_s)) bits.push("took " + secs(meta.duration_s));
    if (run.record_mode) bits.push("record mode " + run.record_mode);
    if (isNum(run.workers) && run.workers > 1) bits.push(run.workers + " workers");
    if (isNum(run.shards) && run.shards > 1) bits.push("merged from " + run.shards + " shards");
    if (tool.version) bits.push((tool.name || "llmassert") + " " + tool.version);
    byId("run-info").textContent = bits.join(" · ");
  }

  function renderModels(meta) {
    var box = byId("models");
    clear(box);
    var summaries = meta.models || {};
    var models = modelOrder(meta, null).filter(function (m) { return summaries[m]; });
    if (!models.length) {
      box.appendChild(h("p", { class: "muted", text: "This report has no per-model summary." }));
      return;
    }
    var kinds = [];
    models.forEach(function (m) {
      Object.keys(summaries[m].compliance || {}).forEach(function (k) {
        if (kinds.indexOf(k) < 0) kinds.push(k);
      });
    });
    kinds.sort(function (a, b) {
      var ia = KIND_ORDER.indexOf(a), ib = KIND_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : 1);
    });
    var anyTtft = models.some(function (m) { return isNum(summaries[m].ttft_p50_s); });
    var replayedAny = models.some(function (m) {
      var source = summaries[m].latency_source;
      return source === "recorded" || source === "mixed" || (source === undefined && summaries[m].replayed_calls > 0);
    });
    var xAny = models.some(function (m) { return summaries[m].xfailed > 0 || summaries[m].xpassed > 0; });
    // One column per model, one row per measure: the models read side by side.
    var measures = [
      ["Tests", function (s) { return int(s.tests); }],
      ["Passed", function (s) { return int(s.passed); }],
      ["Failed", function (s) { return int(s.failed); }],
      ["Skipped", function (s) { return int(s.skipped); }],
      ["Errors", function (s) { return int(s.errors); }],
    ];
    if (xAny) {
      measures.push(["Xfailed / xpassed", function (s) { return int(s.xfailed) + " / " + int(s.xpassed); }]);
    }
    measures.push(
      ["Pass rate", function (s) {
        return [pct(s.pass_rate), isNum(s.pass_rate) ? h("span", { class: "bar", "aria-hidden": "true" },
          h("span", { style: "width:" + Math.round(s.pass_rate * 100) + "%" })) : null];
      }, "strong"]);
    kinds.forEach(function (k) {
      measures.push([k.charAt(0).toUpperCase() + k.slice(1) + " checks", function (s) {
        var c = (s.compliance || {})[k];
        return c ? pct(c.rate) + " (" + int(c.passed) + "/" + int(c.total) + ")" : "—";
      }]);
    });
    measures.push(
      ["Latency p50" + (replayedAny ? " *" : ""), function (s) { return secs(s.latency_p50_s); }],
      ["Latency p95" + (replayedAny ? " *" : ""), function (s) { return secs(s.latency_p95_s); }]);
    if (anyTtft) {
      measures.push(["Time to first token p50", function (s) { return secs(s.ttft_p50_s); }],
        ["Time to first token p95", function (s) { return secs(s.ttft_p95_s); }]);
    }
    measures.push(
      ["Tokens in / out", function (s) { return int(s.input_tokens) + " / " + int(s.output_tokens); }],
      ["Cost", function (s) {
        return usd(s.cost_usd) + (s.cost_unknown_calls > 0 ? " (+" + int(s.cost_unknown_calls) + " calls without a price)" : "");
      }],
      ["Retries", function (s) { return int(s.retries); }],
      ["Calls: live / replayed", function (s) { return int(s.live_calls) + " / " + int(s.replayed_calls); }]);
    var thead = h("thead", null, h("tr", null, h("th", { scope: "col", text: "" }),
      models.map(function (m) { return h("th", { scope: "col", class: "num", text: modelLabel(m) }); })));
    var tbody = h("tbody", null, measures.map(function (row) {
      return h("tr", { class: row[2] || null }, h("th", { scope: "row", text: row[0] }),
        models.map(function (m) { return h("td", { class: "num" }, row[1](summaries[m])); }));
    }));
    box.appendChild(h("div", { class: "table-wrap" },
      h("table", { class: "summary-table", id: "models-table" }, thead, tbody)));
    if (replayedAny) {
      box.appendChild(h("p", { class: "note muted",
        text: "* Replayed calls count with the latency recorded when they were made live." +
          " Latency measured: " + models.map(function (m) {
            return modelLabel(m) + " " + (summaries[m].latency_source || (summaries[m].live_calls ? "mixed" : "recorded"));
          }).join(", ") + "." }));
    }
    [["judge", "Judge"], ["embedding", "Embeddings"]].forEach(function (g) {
      var totals = meta[g[0]];
      if (totals && isNum(totals.calls) && totals.calls > 0) {
        box.appendChild(h("p", { class: "note muted", text: g[1] + ": " + int(totals.calls) +
          (totals.calls === 1 ? " call, " : " calls, ") + usd(totals.cost_usd) + ", " + secs(totals.latency_s_total) +
          " in total (not counted in the models above)." }));
      }
    });
    var groups = Array.isArray(meta.unattributed) ? meta.unattributed : [];
    var fixtureCalls = [];
    groups.forEach(function (g) {
      (Array.isArray(g.calls) ? g.calls : []).forEach(function (c) {
        if (!c.purpose || c.purpose === "model") fixtureCalls.push(c);
      });
    });
    if (fixtureCalls.length) {
      var names = groups.map(function (g) { return String(g.fixture); })
        .filter(function (n, i, all) { return all.indexOf(n) === i; }).sort();
      var cost = 0, known = false, latency = 0;
      fixtureCalls.forEach(function (c) {
        if (isNum(c.cost_usd)) { cost += c.cost_usd; known = true; }
        if (isNum(c.latency_s)) latency += c.latency_s;
      });
      box.appendChild(h("p", { class: "note muted", text: "Fixtures: " + fixtureCalls.length +
        (fixtureCalls.length === 1 ? " call" : " calls") + " made by module- or session-scoped fixtures (" + names.join(", ") + "), " +
        usd(known ? cost : null) + ", " + secs(latency) +
        " in total, attributed to no test (counted in their model's column when it has tests)." }));
    }
  }

  function renderComparisons(meta) {
    var box = byId("comparisons");
    clear(box);
    var comps = Array.isArray(meta.comparisons) ? meta.comparisons : [];
    if (!comps.length) return;
    box.appendChild(h("h2", { text: comps.length > 1 ? "Comparisons" : "Comparison" }));
    comps.forEach(function (c) {
      var pr = c.pass_rate || {};
      var conf = isNum(pr.confidence) ? pct(pr.confidence) : "95%";
      var sig = pr.significant === true;
      var rows = [];
      function row(label, value) { rows.push(h("dt", { text: label }), h("dd", null, value)); }
      if (c.pass_rate) {
        row("Pass rate", modelLabel(c.a) + " " + pct(pr.a) + " vs " + modelLabel(c.b) + " " + pct(pr.b));
        var diff = pts(pr.diff);
        if (isNum(pr.ci_low) && isNum(pr.ci_high)) {
          diff += " (" + conf + " CI " + pts(pr.ci_low) + " .. " + pts(pr.ci_high) + (pr.ci_method ? ", " + pr.ci_method : "") + ")";
        }
        row("Difference, a − b", diff);
        row("Significance", [
          h("span", { class: "badge " + (sig ? "sig-yes" : "sig-no"),
            text: sig ? "significant" : "not significant" }),
          " p = " + (isNum(pr.p_value) ? (pr.p_value < 0.001 ? "< 0.001" : pr.p_value.toFixed(3)) : "—"),
          pr.method ? " · " + pr.method : "",
        ]);
      } else {
        row("Pass rate", "no shared tests to compare");
      }
      var lat = c.latency_median_ratio;
      row("Median latency, b / a", ratio(lat) + (lat && lat.replayed ? " (recorded latencies)" : ""));
      row("Mean cost, b / a", ratio(c.cost_mean_ratio));
      var onlyA = Array.isArray(c.only_a) ? c.only_a : [], onlyB = Array.isArray(c.only_b) ? c.only_b : [];
      row("Shared tests", int(c.shared_tests) + (onlyA.length || onlyB.length ?
        " (only on " + modelLabel(c.a) + ": " + onlyA.length + ", only on " + modelLabel(c.b) + ": " + onlyB.length + ")" : ""));
      var extra = null;
      if (onlyA.length || onlyB.length) {
        extra = h("details", null, h("summary", { text: "Tests that ran on one model only" }),
          onlyA.length ? h("p", null, h("strong", { text: modelLabel(c.a) + ": " }), onlyA.slice(0, 200).join(", ") + (onlyA.length > 200 ? " …" : "")) : null,
          onlyB.length ? h("p", null, h("strong", { text: modelLabel(c.b) + ": " }), onlyB.slice(0, 200).join(", ") + (onlyB.length > 200 ? " …" : "")) : null);
      }
      box.appendChild(h("div", { class: "cmp" + (sig ? " sig" : "") },
        h("p", { class: "verdict", text: c.verdict || (modelLabel(c.a) + " vs " + modelLabel(c.b)) }),
        h("dl", null, rows), extra));
    });
  }

  // ---- tests list ----------------------------------------------------------------------
  var state = { model: "", outcome: "", check: "", q: "", page: 0 };
  var data = { models: [], rows: [], filtered: [], open: {} };

  function buildRows(tests) {
    var rows = [], byKey = {};
    tests.forEach(function (t) {
      var key = t.key || t.nodeid || "?", model = t.model || "";
      var row = byKey[key];
      if (row && row.entries[model]) {
        key = t.nodeid || key + " #" + rows.length; // the same key twice on one model: own row
        row = byKey[key];
      }
      if (!row) {
        row = byKey[key] = { id: "r" + rows.length, key: key, kind: t.kind, entries: {} };
        rows.push(row);
      }
      row.entries[model] = t;
    });
    return rows;
  }

  function shownModels() {
    if (!state.model) return data.models;
    return [state.model === NO_MODEL ? "" : state.model];
  }
  function entriesOf(row, models) {
    var out = [];
    models.forEach(function (m) { if (row.entries[m]) out.push(row.entries[m]); });
    return out;
  }
  function haystack(t) {
    if (t._hay !== undefined) return t._hay;
    var parts = [t.nodeid || "", t.message || ""];
    (t.samples || []).forEach(function (s) {
      (s.calls || []).forEach(function (c) {
        parts.push(promptText(c.prompt), c.output || "");
      });
      (s.checks || []).forEach(function (c) { parts.push(c.reason || ""); });
    });
    t._hay = parts.join("\n").toLowerCase();
    return t._hay;
  }
  function hasCheck(t, name, failedOnly) {
    return (t.samples || []).some(function (s) {
      return (s.checks || []).some(function (c) {
        return checkName(c) === name && (!failedOnly || c.passed === false);
      });
    });
  }
  function matches(row, models, terms) {
    var es = entriesOf(row, models);
    if (!es.length) return false;
    if (state.outcome === "disagree") {
      var all = entriesOf(row, data.models), seen = {};
      all.forEach(function (e) { seen[e.outcome] = true; });
      if (all.length < 2 || Object.keys(seen).length < 2) return false;
    } else if (state.outcome && !es.some(function (e) { return e.outcome === state.outcome; })) {
      return false;
    }
    if (state.check) {
      var failedOnly = state.check.charAt(0) === "!";
      var name = failedOnly ? state.check.slice(1) : state.check;
      if (!es.some(function (e) { return hasCheck(e, name, failedOnly); })) return false;
    }
    if (terms.length) {
      if (!es.some(function (e) {
        var hay = haystack(e);
        return terms.every(function (w) { return hay.indexOf(w) >= 0; });
      })) return false;
    }
    return true;
  }

  function applyFilters() {
    var models = shownModels();
    var terms = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    data.filtered = data.rows.filter(function (r) { return matches(r, models, terms); });
    var pages = Math.max(1, Math.ceil(data.filtered.length / PAGE_SIZE));
    if (state.page >= pages) state.page = pages - 1;
    renderTable();
    saveHash();
  }

  // The latency of a test's model calls (case files fetch answers ahead: the test itself then
  // takes no time); a test without calls: how long it took.
  function timing(t) {
    var total = 0, any = false;
    (t.samples || []).forEach(function (s) {
      (s.calls || []).forEach(function (c) {
        if (isNum(c.latency_s)) { total += c.latency_s; any = true; }
      });
    });
    return any ? "latency " + secs(total) : "took " + secs(t.duration_s);
  }

  function cellFor(t) {
    if (!t) return h("td", { class: "o-none", text: "—", title: "did not run on this model" });
    var meta = [];
    if (t.verdict && isNum(t.verdict.total)) {
      meta.push(t.verdict.passed + "/" + t.verdict.total + " samples");
    }
    meta.push(timing(t));
    return h("td", null, outcomeBadge(t.outcome), h("span", { class: "cell-meta", text: meta.join(" · ") }));
  }

  function renderTable() {
    var models = shownModels();
    var table = byId("tests");
    var thead = table.tHead, tbody = table.tBodies[0];
    clear(thead);
    clear(tbody);
    thead.appendChild(h("tr", null, h("th", { scope: "col", text: "Test" }),
      models.map(function (m) { return h("th", { scope: "col", text: modelLabel(m) }); })));
    var start = state.page * PAGE_SIZE;
    var page = data.filtered.slice(start, start + PAGE_SIZE);
    var frag = document.createDocumentFragment();
    page.forEach(function (row) {
      var open = !!data.open[row.id];
      var button = h("button", { type: "button", class: "open", "aria-expanded": open ? "true" : "false",
        "aria-controls": row.id + "-d", text: row.key });
      button.addEventListener("click", function () { toggle(row, tr); });
      var tr = h("tr", { class: "row", "data-key": row.key },
        h("td", null, button, " ", row.kind ? h("span", { class: "kind muted", text: row.kind }) : null),
        models.map(function (m) { return cellFor(row.entries[m]); }));
      tr.addEventListener("click", function (ev) {
        if (ev.target === button || window.getSelection().toString()) return;
        toggle(row, tr);
      });
      frag.appendChild(tr);
      if (open) frag.appendChild(renderDetail(row, models.length + 1));
    });
    tbody.appendChild(frag);
    var n = data.filtered.length, total = data.rows.length;
    byId("count").textContent = (n === total ? int(total) + " rows" : int(n) + " of " + int(total) + " rows match") +
      (n ? " · showing " + int(Math.min(n, start + 1)) + "–" + int(Math.min(n, start + PAGE_SIZE)) : "") +
      " · one row per test, its models side by side";
    var pages = Math.max(1, Math.ceil(n / PAGE_SIZE));
    byId("page").textContent = "Page " + (state.page + 1) + " of " + pages;
    byId("prev").disabled = state.page <= 0;
    byId("next").disabled = state.page >= pages - 1;
  }

  function toggle(row, tr) {
    var button = tr.querySelector("button.open");
    var next = tr.nextElementSibling;
    if (data.open[row.id]) {
      delete data.open[row.id];
      if (next && next.classList.contains("detail")) next.parentNode.removeChild(next);
      button.setAttribute("aria-expanded", "false");
    } else {
      data.open[row.id] = true;
      tr.parentNode.insertBefore(renderDetail(row, shownModels().length + 1), tr.nextSibling);
      button.setAttribute("aria-expanded", "true");
    }
  }

  function promptText(p) {
    if (p === null || p === undefined) return "";
    if (typeof p === "string") return p;
    if (Array.isArray(p)) {
      return p.map(function (m) {
        if (m && typeof m === "object" && "role" in m) {
          return m.role + ": " + (typeof m.content === "string" ? m.content : JSON.stringify(m.content));
        }
        return JSON.stringify(m);
      }).join("\n");
    }
    return JSON.stringify(p);
  }
  function firstPrompt(t) {
    var s = (t.samples || [])[0];
    var c = s && (s.calls || [])[0];
    return c ? promptText(c.prompt) : null;
  }

  function renderDetail(row, colspan) {
    var models = shownModels().filter(function (m) { return row.entries[m]; });
    var entries = models.map(function (m) { return row.entries[m]; });
    var prompts = entries.map(firstPrompt);
    var shared = prompts[0] !== null && prompts.every(function (p) { return p === prompts[0]; }) ? prompts[0] : null;
    var grid = h("div", { class: "side", style: "--cols:" + Math.max(1, entries.length) },
      entries.map(function (t) { return renderColumn(t, shared); }));
    return h("tr", { class: "detail", id: row.id + "-d" }, h("td", { colspan: colspan },
      shared !== null ? h("div", { class: "shared-prompt" }, h("div", { class: "label", text: "Prompt" }), h("pre", { class: "prompt", text: shared })) : null,
      grid));
  }

  function renderColumn(t, shared) {
    var col = h("div", { class: "col", "data-model": t.model || "" },
      h("h3", null, h("span", { text: modelLabel(t.model || "") }), outcomeBadge(t.outcome),
        h("span", { class: "muted", text: timing(t) })),
      h("div", { class: "nodeid", text: t.nodeid || "" }));
    if (t.message) {
      col.appendChild(h("div", { class: "label", text: "Message" }));
      col.appendChild(h("pre", { class: "msg", text: t.message }));
    }
    var v = t.verdict;
    if (v && typeof v === "object") {
      var bits = [int(v.passed) + "/" + int(v.total) + " samples passed (" + pct(v.rate) + ")"];
      if (isNum(v.required)) bits.push("required " + pct(v.required));
      if (isNum(v.ci_low) && isNum(v.ci_high)) {
        bits.push((isNum(v.confidence) ? pct(v.confidence) : "") + " CI " + pct(v.ci_low) + "–" + pct(v.ci_high));
      }
      if (v.mode) bits.push("mode " + v.mode);
      if (v.stopped_early) bits.push("stopped early: " + v.stopped_early);
      col.appendChild(h("p", { class: "verdict-line", text: bits.join(" · ") }));
    }
    var samples = Array.isArray(t.samples) ? t.samples : [];
    if (!samples.length) {
      col.appendChild(h("p", { class: "muted", text: "No model calls recorded for this test." }));
    } else if (samples.length === 1) {
      col.appendChild(renderSample(samples[0], shared));
    } else {
      samples.forEach(function (s) { col.appendChild(renderSampleDetails(s, shared)); });
    }
    return col;
  }

  function renderSampleDetails(s, shared) {
    var checks = s.checks || [];
    var ok = checks.filter(function (c) { return c.passed === true; }).length;
    var failing = s.outcome === "failed" || s.outcome === "error";
    var body = null;
    var details = h("details", { class: "sample", open: failing },
      h("summary", null, "Sample " + (s.index === null ? "?" : s.index) + " ", outcomeBadge(s.outcome),
        " " + secs(s.duration_s) + (checks.length ? " · checks " + ok + "/" + checks.length : "")));
    function fill() {
      if (body) return;
      body = renderSample(s, shared);
      details.appendChild(body);
    }
    if (failing) fill();
    else details.addEventListener("toggle", fill);
    return details;
  }

  function renderSample(s, shared) {
    var box = h("div", { class: "sample-body" });
    var calls = s.calls || [];
    calls.forEach(function (c) {
      var p = promptText(c.prompt);
      if (p && p !== shared) {
        box.appendChild(h("div", { class: "label", text: "Prompt" }));
        box.appendChild(h("pre", { class: "prompt", text: p }));
      }
      var purpose = c.purpose && c.purpose !== "model" ? " (" + c.purpose + (c.model ? ", " + c.model : "") + ")" : "";
      box.appendChild(h("div", { class: "label", text: "Output" + purpose }));
      box.appendChild(c.output ? h("pre", { class: "output", text: c.output })
        : h("pre", { class: "output muted", text: c.purpose === "embedding" ? "(vectors: no text output)" : "(empty output)" }));
      var meta = [h("span", { class: "badge " + (c.replayed ? "replayed" : "live"), text: c.replayed ? "replayed" : "live" })];
      meta.push(h("span", { text: "latency " + secs(c.latency_s) + (c.replayed ? " (recorded)" : "") }));
      if (isNum(c.ttft_s)) meta.push(h("span", { text: "first token " + secs(c.ttft_s) }));
      if (isNum(c.input_tokens) || isNum(c.output_tokens)) {
        meta.push(h("span", { text: "tokens " + int(c.input_tokens) + " in / " + int(c.output_tokens) + " out" }));
      }
      meta.push(h("span", { text: "cost " + usd(c.cost_usd) }));
      if (c.finish_reason) meta.push(h("span", { text: "finish " + c.finish_reason }));
      if (isNum(c.retries) && c.retries > 0) meta.push(h("span", { text: c.retries + (c.retries > 1 ? " retries" : " retry") }));
      box.appendChild(h("div", { class: "callmeta" }, meta));
    });
    var checks = s.checks || [];
    if (checks.length) {
      box.appendChild(h("div", { class: "label", text: "Checks" }));
      box.appendChild(h("ul", { class: "checks" }, checks.map(function (c) {
        var ok = c.passed === true;
        return h("li", null, h("span", { class: ok ? "ok" : "ko", text: ok ? "✓" : "✗", "aria-label": ok ? "passed" : "failed" }),
          " ", h("span", { class: "cname", text: checkName(c) }),
          isNum(c.score) ? h("span", { class: "muted", text: " score " + c.score.toFixed(2) }) : null,
          c.reason ? " — " + c.reason : null);
      })));
    }
    return box;
  }

  // ---- filters, URL hash, keyboard --------------------------------------------------------
  function fillSelect(select, options) {
    options.forEach(function (o) { select.appendChild(h("option", { value: o[0], text: o[1] })); });
  }
  function setupFilters(tests) {
    var outcomes = {}, checks = {}, failedChecks = {};
    tests.forEach(function (t) {
      outcomes[t.outcome] = (outcomes[t.outcome] || 0) + 1;
      (t.samples || []).forEach(function (s) {
        (s.checks || []).forEach(function (c) {
          var n = checkName(c);
          checks[n] = true;
          if (c.passed === false) failedChecks[n] = true;
        });
      });
    });
    fillSelect(byId("f-model"), data.models.map(function (m) { return [m || NO_MODEL, modelLabel(m)]; }));
    var known = OUTCOMES.concat(Object.keys(outcomes).filter(function (o) { return OUTCOMES.indexOf(o) < 0; }));
    fillSelect(byId("f-outcome"), known.filter(function (o) { return outcomes[o]; }).map(function (o) {
      return [o, o + " (" + int(outcomes[o]) + ")"];
    }));
    if (data.models.length > 1) fillSelect(byId("f-outcome"), [["disagree", "models disagree"]]);
    var names = Object.keys(checks).sort();
    var opts = [];
    names.forEach(function (n) {
      opts.push([n, n]);
      if (failedChecks[n]) opts.push(["!" + n, n + " — failed"]);
    });
    fillSelect(byId("f-check"), opts);

    loadHash();
    var debounce = null;
    byId("f-model").addEventListener("change", function (e) { state.model = e.target.value; state.page = 0; applyFilters(); });
    byId("f-outcome").addEventListener("change", function (e) { state.outcome = e.target.value; state.page = 0; applyFilters(); });
    byId("f-check").addEventListener("change", function (e) { state.check = e.target.value; state.page = 0; applyFilters(); });
    byId("f-search").addEventListener("input", function (e) {
      clearTimeout(debounce);
      debounce = setTimeout(function () { state.q = e.target.value; state.page = 0; applyFilters(); }, 150);
    });
    byId("f-search").addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.target.value = ""; state.q = ""; state.page = 0; applyFilters(); }
      if (e.key === "Enter") { clearTimeout(debounce); state.q = e.target.value; state.page = 0; applyFilters(); }
    });
    byId("prev").addEventListener("click", function () { state.page -= 1; applyFilters(); });
    byId("next").addEventListener("click", function () { state.page += 1; applyFilters(); });
    byId("filters").addEventListener("submit", function (e) { e.preventDefault(); });
    document.addEventListener("keydown", function (e) {
      var tag = (e.target && e.target.tagName) || "";
      if (e.key === "/" && !/^(INPUT|SELECT|TEXTAREA)$/.test(tag)) {
        e.preventDefault();
        byId("f-search").focus();
      }
    });
  }
  function saveHash() {
    var parts = [];
    ["model", "outcome", "check", "q"].forEach(function (k) {
      if (state[k]) parts.push(k + "=" + encodeURIComponent(state[k]));
    });
    if (state.page) parts.push("page=" + (state.page + 1));
    try { history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search); } catch (e) { /* file:// in some browsers */ }
  }
  function loadHash() {
    var hash = location.hash.replace(/^#/, "");
    hash.split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i < 0) return;
      var k = kv.slice(0, i), v;
      try { v = decodeURIComponent(kv.slice(i + 1)); } catch (e) { return; }
      if (k === "page") state.page = Math.max(0, (parseInt(v, 10) || 1) - 1);
      else if (k in state) state[k] = v;
    });
    [["model", "f-model"], ["outcome", "f-outcome"], ["check", "f-check"]].forEach(function (p) {
      var sel = byId(p[1]);
      sel.value = state[p[0]];
      if (sel.value !== state[p[0]]) state[p[0]] = sel.value = "";
    });
    byId("f-search").value = state.q;
  }

  function setupTheme() {
    var modes = ["auto", "light", "dark"], i = 0;
    var button = byId("theme");
    button.addEventListener("click", function () {
      i = (i + 1) % modes.length;
      if (modes[i] === "auto") delete document.documentElement.dataset.theme;
      else document.documentElement.dataset.theme = modes[i];
      button.textContent = "Theme: " + modes[i];
    });
  }

  function fail(where, err) {
    var box = byId(where);
    clear(box);
    box.appendChild(h("p", { class: "msg", text: "This report could not be read: " + err }));
  }

  // ---- start ----------------------------------------------------------------------------
  var meta;
  setupTheme();
  try {
    meta = readJSON("llm-meta") || {};
    renderRunInfo(meta);
    renderModels(meta);
    renderComparisons(meta);
  } catch (err) {
    meta = {};
    fail("models", err);
  }
  performance.mark("llm-summary");
  document.documentElement.dataset.summary = "ready";

  function startTests() {
    try {
      var tests = unpackTests(readJSON("llm-tests"));
      window.llmReportTests = tests;
      data.models = modelOrder(meta, tests);
      data.rows = buildRows(tests);
      setupFilters(tests);
      applyFilters();
    } catch (err) {
      fail("count", err);
    }
    performance.mark("llm-tests");
    document.documentElement.dataset.tests = "ready";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", startTests);
  else startTests();
})();
