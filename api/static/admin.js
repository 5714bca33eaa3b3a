// Keyboard shortcuts on the compare page: m merge, d distinct, s skip, n next.
(function () {
  "use strict";
  var form = document.getElementById("decision");
  if (!form) return;
  var keys = { m: "merge", d: "distinct", s: "skip" };
  var sent = false;
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || sent) return;
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    var key = event.key.toLowerCase();
    if (keys[key]) {
      var button = form.querySelector('button[value="' + keys[key] + '"]');
      if (button) { sent = true; event.preventDefault(); button.click(); }
    } else if (key === "n" && form.dataset.next) {
      event.preventDefault();
      window.location.assign(form.dataset.next);
    }
  });
})();
