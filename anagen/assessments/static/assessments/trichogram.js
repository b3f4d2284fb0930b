// Progressive enhancement of the phototrichogram page: the page works without this file.
// 1. While the analysis runs, poll its status and move the progress bar; reload when finished.
// 2. On the automatic overlay, two clicks (the two ends of a missed hair) add an
//    "x0,y0,x1,y1" line, in image pixels, to the "Add hairs" box.
(function () {
  "use strict";
  var box = document.getElementById("analysis-status");
  if (box && box.dataset.finished === "0") {
    var bar = document.getElementById("analysis-progress");
    var step = document.getElementById("analysis-step");
    var poll = function () {
      fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          if (bar) { bar.value = s.progress; bar.textContent = s.progress + "%"; }
          if (step) { step.textContent = s.status + ": " + s.step + " (" + s.progress + "%)"; }
          if (s.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 500);
  }

  var overlay = document.getElementById("overlay");
  var added = document.getElementById("id_added");
  if (overlay && added) {
    var first = null;
    overlay.addEventListener("click", function (ev) {
      var rect = overlay.getBoundingClientRect();
      // One scale for both axes: the overlay is the image's width with a caption strip below it.
      var sx = Number(overlay.dataset.width) / rect.width;
      var sy = sx;
      var x = Math.round((ev.clientX - rect.left) * sx);
      var y = Math.round((ev.clientY - rect.top) * sy);
      if (y > Number(overlay.dataset.height)) { return; }  // a click on the caption
      if (first === null) {
        first = [x, y];
        overlay.title = "First end at " + x + "," + y + ": click the other end";
      } else {
        var line = first.concat([x, y]).join(",");
        added.value = (added.value.trim() ? added.value.trim() + "\n" : "") + line;
        first = null;
        overlay.title = "Added " + line + "; save the correction to apply it";
      }
    });
  }
})();
