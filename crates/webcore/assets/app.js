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
  // Keyboard: "/" focuses the page's search box, as listed in the page help.
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      var s = document.querySelector("input[type=search]");
      if (s) { e.preventDefault(); s.focus(); }
    }
  });
})();
