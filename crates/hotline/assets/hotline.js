// Hotline workbench: live suggestions and keyboard shortcuts. Every form works without this
// file; when an intelligence endpoint fails or does not exist, its panel simply stays hidden.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function csrf() {
    var i = document.querySelector("input[name=_csrf]");
    return i ? i.value : "";
  }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }
  function postJSON(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify(body)
    }).then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function pct(x) { return Math.round((x || 0) * 100) + "%"; }
  function debounce(fn, ms) {
    var t = null;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }
  function val(id) { var e = document.getElementById(id); return e ? e.value.trim() : ""; }
  function show(section, on) { if (section) { section.hidden = !on; } }

  // ---- intake ----
  function intake(form) {
    var root = form.closest(".intake");
    var canMerge = root && root.getAttribute("data-can-merge") === "1";
    var cat = document.getElementById("category_id");
    var saveBtn = document.getElementById("save");
    var answerBtn = document.getElementById("answer-submit");

    // The chosen category's extra questions, without a round trip.
    function questions() {
      document.querySelectorAll("fieldset.questions").forEach(function (fs) {
        var on = fs.getAttribute("data-category") === cat.value;
        fs.hidden = !on; fs.disabled = !on;
      });
    }
    if (cat) { cat.addEventListener("change", questions); }

    // Narrow the long region list (district › street › community) by typing part of a name.
    var region = document.getElementById("region_code");
    if (region) {
      var filter = el("input", { type: "search", id: "region-filter", placeholder: "输入街道或社区名筛选区划", "aria-label": "筛选区划", "aria-controls": "region_code" });
      region.parentNode.insertBefore(filter, region);
      filter.addEventListener("input", function () {
        var q = filter.value.trim();
        var first = null;
        region.querySelectorAll("optgroup").forEach(function (g) {
          var groupHit = q !== "" && g.label.indexOf(q) >= 0;
          var any = false;
          g.querySelectorAll("option").forEach(function (o) {
            var hit = q === "" || groupHit || o.textContent.indexOf(q) >= 0;
            o.hidden = !hit;
            if (hit) { any = true; if (!first && q) { first = o; } }
          });
          g.hidden = !any;
        });
        if (first) { region.value = first.value; }
      });
    }

    // The caller's history.
    var phone = document.getElementById("caller_phone");
    var histBody = document.getElementById("history-body");
    var lastPhone = phone ? phone.value.trim() : "";
    var history = debounce(function () {
      var p = phone.value.trim();
      if (p === lastPhone || p.length < 5) { return; }
      lastPhone = p;
      getJSON("/api/v1/hotline/tickets?per_page=10&caller_phone=" + encodeURIComponent(p)).then(function (page) {
        histBody.textContent = "";
        if (!page.items.length) { histBody.appendChild(el("p", { "class": "muted", text: "此号码没有历史工单。" })); return; }
        histBody.appendChild(el("p", { "class": "muted", text: "共 " + page.total + " 件" }));
        var ul = el("ul", { "class": "compact" });
        page.items.forEach(function (t) {
          ul.appendChild(el("li", {}, [el("a", { href: "/hotline/tickets/" + t.id, text: t.number }), " ",
            el("span", { "class": "badge st-" + t.status, text: t.status_label }), el("br"), t.title]));
        });
        histBody.appendChild(ul);
      }).catch(function () { /* the no-script lookup button still works */ });
    }, 400);
    if (phone) { phone.addEventListener("input", history); }

    var seq = 0;
    var suggested = null;
    var kbItems = [];
    function live() {
      var title = val("title"), content = val("content");
      var text = (title + " " + content).trim();
      if (text.length < 4) { return; }
      var n = ++seq;
      var region = val("region_code") || undefined;
      var kind = val("kind") || undefined;
      var urg = document.querySelector("input[name=urgency]:checked");
      var body = { title: title || undefined, content: content || title, region_code: region, kind: kind,
        urgency: urg ? urg.value : undefined, category_id: cat && cat.value ? Number(cat.value) : undefined };

      var sBox = document.getElementById("suggest"), sBody = document.getElementById("suggest-body");
      postJSON("/api/v1/hotline/suggest", body).then(function (s) {
        if (n !== seq) { return; }
        sBody.textContent = "";
        suggested = s.categories && s.categories.length ? s.categories[0] : null;
        if (suggested) {
          var ul = el("ol", { "class": "compact" });
          s.categories.slice(0, 3).forEach(function (c) {
            ul.appendChild(el("li", {}, [c.path.replace(/\s*\/\s*/g, " › ") + " ", el("span", { "class": "confidence", text: pct(c.probability) })]));
          });
          sBody.appendChild(el("p", { "class": "muted", text: "建议分类：" }));
          sBody.appendChild(ul);
          var use = el("button", { type: "button", "class": "secondary", text: "采用第一项 (Alt+S)" });
          use.addEventListener("click", useSuggestion);
          sBody.appendChild(use);
          if (s.explanation && s.explanation.length) {
            sBody.appendChild(el("p", { "class": "muted small", text: "依据：" + s.explanation.join("、") }));
          }
        }
        if (s.department) {
          var d = s.department;
          var co = (d.co_handlers || []).map(function (x) { return x.name; }).join("、");
          sBody.appendChild(el("p", {}, ["建议承办：", el("strong", { text: d.name }), " ",
            el("span", { "class": "confidence", text: pct(d.confidence) }), co ? "（协办：" + co + "）" : ""]));
          if (d.reason) { sBody.appendChild(el("p", { "class": "muted small", text: d.reason })); }
        }
        show(sBox, !!(suggested || s.department));
      }).catch(function () { show(sBox, false); });

      var kBox = document.getElementById("kb"), kBody = document.getElementById("kb-body");
      getJSON("/api/v1/hotline/kb/search?limit=5&q=" + encodeURIComponent(text.slice(0, 200))).then(function (r) {
        if (n !== seq) { return; }
        kbItems = r.items || [];
        kBody.textContent = "";
        kbItems.forEach(function (a, i) {
          var b = el("button", { type: "button", "class": "secondary small", text: "以此解答并办结 (Alt+" + (i + 1) + ")" });
          b.addEventListener("click", function () { answerWith(i); });
          kBody.appendChild(el("li", {}, [el("strong", { text: a.title }), el("br"), el("span", { "class": "muted small", text: a.snippet || "" }), el("br"), b]));
        });
        show(kBox, kbItems.length > 0);
      }).catch(function () { kbItems = []; show(kBox, false); });

      var dBox = document.getElementById("dups"), dBody = document.getElementById("dups-body");
      postJSON("/api/v1/hotline/duplicates", { title: title || undefined, content: content || title, region_code: region,
        phone: val("caller_phone") || undefined }).then(function (r) {
        if (n !== seq) { return; }
        dBody.textContent = "";
        (r.candidates || []).forEach(function (c) {
          var li = el("li", {}, [el("a", { href: "/hotline/tickets/" + c.ticket_id, text: c.number }), " " + c.title + " ",
            el("span", { "class": "confidence", text: "相似 " + pct(c.similarity) }), "，来电 " + c.callers + " 人"]);
          if (canMerge) {
            var b = el("button", { type: "button", "class": "secondary small", text: "保存并合并到此工单" });
            b.addEventListener("click", function () {
              var h = form.querySelector("input[name=merge_into]");
              if (!h) { h = el("input", { type: "hidden", name: "merge_into" }); form.appendChild(h); }
              h.value = c.ticket_id;
              form.requestSubmit(saveBtn);
            });
            li.appendChild(el("br")); li.appendChild(b);
          }
          dBody.appendChild(li);
        });
        show(dBox, (r.candidates || []).length > 0);
      }).catch(function () { show(dBox, false); });
    }
    var liveSoon = debounce(live, 450);
    ["title", "content"].forEach(function (id) {
      var e = document.getElementById(id);
      if (e) { e.addEventListener("input", liveSoon); }
    });

    function useSuggestion() {
      if (!suggested || !cat) { return; }
      cat.value = String(suggested.category_id);
      questions();
    }
    function answerWith(i) {
      var a = kbItems[i];
      var sel = document.getElementById("kb_article_id");
      if (!a || !sel) { return; }
      if (!sel.querySelector("option[value='" + a.article_id + "']")) {
        sel.appendChild(el("option", { value: String(a.article_id), text: a.title }));
      }
      sel.value = String(a.article_id);
      form.requestSubmit(answerBtn);
    }

    document.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        form.requestSubmit(saveBtn);
      } else if (e.altKey && /^[1-5]$/.test(e.key)) {
        e.preventDefault();
        answerWith(Number(e.key) - 1);
      } else if (e.altKey && (e.key === "s" || e.key === "S")) {
        e.preventDefault();
        useSuggestion();
      }
    });
  }

  // ---- dispatch suggestions (queue rows and the ticket page) ----
  function suggestions() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-suggestion-for]"));
    // One at a time: a queue of 30 rows must not flood a 2-core server.
    boxes.reduce(function (prev, box) {
      return prev.then(function () {
        var id = box.getAttribute("data-suggestion-for");
        return getJSON("/api/v1/hotline/tickets/" + id + "/suggestion").then(function (s) {
          var d = s.department;
          if (!d) { return; }
          box.textContent = "";
          box.appendChild(el("span", {}, ["建议：", el("strong", { text: d.name }), " ",
            el("span", { "class": "confidence", text: pct(d.confidence) }),
            d.source === "rule" ? "（规则）" : d.source === "history" ? "（历史派单）" : "（模型）"]));
          box.hidden = false;
          var sel = document.querySelector("select[data-suggest-target='" + id + "']") ||
            (box.closest("form") ? box.closest("form").querySelector("select[name=main_dept_id]") : null);
          if (sel && !sel.value) { sel.value = String(d.department_id); }
          var co = box.closest("form") ? box.closest("form").querySelector("select[name=co_dept_ids]") : null;
          if (co && d.co_handlers) {
            d.co_handlers.forEach(function (c) {
              var o = co.querySelector("option[value='" + c.department_id + "']");
              if (o) { o.selected = true; }
            });
          }
        }).catch(function () { /* no suggestion: the dispatcher chooses */ });
      });
    }, Promise.resolve());
    document.addEventListener("keydown", function (e) {
      if (e.altKey && (e.key === "a" || e.key === "A")) {
        var any = false;
        document.querySelectorAll("select[data-suggest-target]").forEach(function (s) {
          var box = document.getElementById("sel-" + s.getAttribute("data-suggest-target"));
          if (box && s.value) { box.checked = true; any = true; }
        });
        if (any) { e.preventDefault(); }
      }
    });
  }

  // ---- reply templates fill the reply box ----
  function templates() {
    document.querySelectorAll("select[data-fill]").forEach(function (s) {
      s.addEventListener("change", function () {
        var o = s.options[s.selectedIndex];
        var target = document.getElementById(s.getAttribute("data-fill"));
        if (o && target && o.getAttribute("data-text")) { target.value = o.getAttribute("data-text"); target.focus(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var f = document.getElementById("intake-form");
    if (f) { intake(f); }
    suggestions();
    templates();
  });
})();
