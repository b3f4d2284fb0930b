// The per-side value form: once a visit is chosen, the photograph select offers only that visit's
// target images (each option names its visit in data-visit); a photograph of another visit that
// was chosen before is cleared. Without JavaScript every image is listed, grouped by visit, and
// the server refuses a photograph of another visit with its message.
(function () {
  "use strict";
  var visit = document.getElementById("side_visit");
  var image = document.getElementById("side_image");
  if (!visit || !image) { return; }

  function narrow() {
    var chosen = visit.value;
    Array.prototype.forEach.call(image.querySelectorAll("option[data-visit]"), function (option) {
      var other = option.getAttribute("data-visit") !== chosen;
      option.hidden = other;
      option.disabled = other;
      if (other && option.selected) { image.value = ""; }
    });
    Array.prototype.forEach.call(image.querySelectorAll("optgroup"), function (group) {
      group.hidden = !group.querySelector("option:not([hidden])");
    });
  }
  visit.addEventListener("change", narrow);
  narrow();
}());
