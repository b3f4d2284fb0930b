// Progressive enhancement of the match review page: the page works without this file.
// Pointing at a hair (or its row) highlights it in both images; clicking a lost or new hair
// in an image ticks or unticks its "reject" box.
(function () {
  "use strict";
  var items = document.querySelectorAll("[data-group]");
  var highlight = function (group, on) {
    document.querySelectorAll('[data-group="' + group + '"]').forEach(function (el) {
      el.classList.toggle("match-highlight", on);
      var line = el.querySelector("polyline");
      if (line) { line.setAttribute("stroke-opacity", on ? "1" : "0.85"); line.style.strokeWidth = on ? "4" : ""; }
    });
  };
  items.forEach(function (el) {
    var group = el.dataset.group;
    el.addEventListener("mouseenter", function () { highlight(group, true); });
    el.addEventListener("mouseleave", function () { highlight(group, false); });
    if (el.tagName.toLowerCase() === "g" && (el.classList.contains("lost") || el.classList.contains("new"))) {
      el.style.cursor = "pointer";
      el.addEventListener("click", function () {
        var box = document.querySelector('label[data-group="' + group + '"] input[type="checkbox"]');
        if (box && !box.disabled) { box.checked = !box.checked; box.focus(); }
      });
    }
  });
})();
