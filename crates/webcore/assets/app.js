// Small progressive enhancements only: every form works without this file.
(function () {
  "use strict";
  // After a refused form, put the cursor on the first field to fix.
  document.addEventListener("DOMContentLoaded", function () {
    var bad = document.querySelector("[aria-invalid=true]");
    if (bad) { bad.focus(); }
  });
  // Confirm destructive actions marked with data-confirm.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); }
  });
  // A document's 打印 button (no inline script: the page's CSP forbids it).
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) { window.print(); }
  });
  // A long region list (区县 › 街道 › 社区) becomes three linked lists and a search by name;
  // the original select stays in the form and carries the value.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-region-picker]").forEach(regionPicker);
  });
  function make(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) { e.textContent = text; }
    return e;
  }
  function regionPicker(sel) {
    var nodes = [], roots = [], stack = [], byCode = {};
    Array.prototype.forEach.call(sel.options, function (o) {
      if (!o.value) { return; }
      var n = { code: o.value, name: o.getAttribute("data-name") || o.text.trim(),
        depth: +(o.getAttribute("data-depth") || 0), path: o.getAttribute("data-path") || o.text.trim(), kids: [] };
      stack.length = n.depth;
      n.parent = n.depth > 0 ? stack[n.depth - 1] || null : null;
      (n.parent ? n.parent.kids : roots).push(n);
      stack[n.depth] = n;
      nodes.push(n);
      byCode[n.code] = n;
    });
    var id = sel.id || "region";
    var box = make("div", { "class": "region-picker" });
    var search = make("input", { type: "search", id: id + "-search", placeholder: "输入区、街道或社区名称查找",
      "aria-label": "按名称查找区划", autocomplete: "off" });
    var found = make("ul", { "class": "region-found", id: id + "-found" });
    var names = ["区县", "街道（乡镇）", "社区（村）"];
    var levels = names.map(function (label, i) {
      var s = make("select", { id: id + "-level" + i, "aria-label": label });
      s.addEventListener("change", function () {
        var n = byCode[s.value];
        choose(n || (i > 0 ? byCode[levels[i - 1].value] : null));
      });
      return s;
    });
    var shown = make("p", { "class": "muted region-path", id: id + "-path", "aria-live": "polite" });
    function fill(s, i, list, chosen, above) {
      s.innerHTML = "";
      var hint = list.length ? "请选择" + names[i] : i > 0 && !above ? "请先选择" + names[i - 1] : "（无下级）";
      s.appendChild(make("option", { value: "" }, hint));
      list.forEach(function (n) {
        var o = make("option", { value: n.code }, n.name);
        if (chosen && chosen.code === n.code) { o.selected = true; }
        s.appendChild(o);
      });
      s.disabled = !list.length;
    }
    function choose(n) {
      sel.value = n ? n.code : "";
      var line = [];
      for (var p = n; p; p = p.parent) { line.unshift(p); }
      var list = roots;
      levels.forEach(function (s, i) {
        fill(s, i, list, line[i], i > 0 ? line[i - 1] : null);
        list = line[i] ? line[i].kids : [];
      });
      shown.textContent = n ? "已选：" + n.path : "";
    }
    search.addEventListener("input", function () {
      var q = search.value.trim();
      found.innerHTML = "";
      if (!q) { return; }
      nodes.filter(function (n) { return n.path.indexOf(q) >= 0; }).slice(0, 12).forEach(function (n) {
        var b = make("button", { type: "button", "class": "link" }, n.path);
        b.addEventListener("click", function () { choose(n); search.value = ""; found.innerHTML = ""; levels[Math.min(n.depth, 2)].focus(); });
        var li = make("li");
        li.appendChild(b);
        found.appendChild(li);
      });
      if (!found.children.length) { found.appendChild(make("li", { "class": "muted" }, "没有找到，请换个名称")); }
    });
    box.appendChild(search);
    box.appendChild(found);
    var row = make("div", { "class": "region-levels" });
    levels.forEach(function (s) { row.appendChild(s); });
    box.appendChild(row);
    box.appendChild(shown);
    sel.parentNode.insertBefore(box, sel);
    sel.hidden = true;
    var label = document.querySelector("label[for='" + sel.id + "']");
    if (label) { label.setAttribute("for", levels[0].id); }
    choose(byCode[sel.value] || null);
  }
  // Keyboard: "/" focuses the page's search box, as listed in the page help.
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      var s = document.querySelector("input[type=search]");
      if (s) { e.preventDefault(); s.focus(); }
    }
  });
})();
