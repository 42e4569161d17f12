// Small conveniences only: every page works without JavaScript.
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { ev.preventDefault(); return; }
    var buttons = form.querySelectorAll("button");
    window.setTimeout(function () { buttons.forEach(function (b) { b.disabled = true; }); }, 0);
  });
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.hasAttribute && el.hasAttribute("data-autosubmit")) { el.form.submit(); }
    var group = el.getAttribute && el.getAttribute("data-check-all");
    if (group) {
      el.form.querySelectorAll('input[name="' + group + '"]').forEach(function (b) { b.checked = el.checked; });
    }
  });
})();
