// Before and after: for each pair with both images, offer side by side (the page without
// JavaScript), a slider that wipes from A to B, and a blink that alternates A and B.
(function () {
  "use strict";
  var BLINK_MS = 900;

  function setup(pair, index) {
    var a = pair.querySelector(".compare-a img");
    var b = pair.querySelector(".compare-b img");
    if (!a || !b) { return; }
    var bFigure = pair.querySelector(".compare-b");
    var timer = null;
    var modes = document.createElement("div");
    modes.className = "compare-modes";
    modes.setAttribute("role", "group");
    modes.setAttribute("aria-label", "How to compare");
    var status = document.createElement("span");
    status.className = "compare-now";
    status.setAttribute("aria-live", "polite");
    var slider = document.createElement("div");
    slider.className = "compare-slider";
    var rangeId = "compare-range-" + index;
    var label = document.createElement("label");
    label.setAttribute("for", rangeId);
    label.textContent = "A to B";
    var range = document.createElement("input");
    range.type = "range"; range.min = "0"; range.max = "100"; range.value = "50"; range.id = rangeId;
    slider.appendChild(label); slider.appendChild(range);

    function wipe() {
      bFigure.style.clipPath = "inset(0 0 0 " + (100 - Number(range.value)) + "%)";
    }
    range.addEventListener("input", wipe);

    var buttons = {};
    function choose(mode) {
      if (timer) { clearInterval(timer); timer = null; }
      pair.classList.remove("mode-slider", "mode-blink", "show-b");
      bFigure.style.clipPath = "";
      status.textContent = "";
      Object.keys(buttons).forEach(function (k) { buttons[k].setAttribute("aria-pressed", String(k === mode)); });
      if (mode === "slider") {
        pair.classList.add("mode-slider");
        wipe();
      } else if (mode === "blink") {
        pair.classList.add("mode-blink");
        status.textContent = "Showing A";
        timer = setInterval(function () {
          var showB = pair.classList.toggle("show-b");
          status.textContent = showB ? "Showing B" : "Showing A";
        }, BLINK_MS);
      }
    }
    [["side", "Side by side"], ["slider", "Slider"], ["blink", "Blink"]].forEach(function (m) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = m[1];
      button.setAttribute("aria-pressed", String(m[0] === "side"));
      button.dataset.mode = m[0];
      button.addEventListener("click", function () { choose(m[0]); });
      buttons[m[0]] = button;
      modes.appendChild(button);
    });
    modes.appendChild(status);
    var side = pair.querySelector(".compare-side");
    pair.insertBefore(modes, side);
    pair.insertBefore(slider, side);
  }

  document.querySelectorAll("[data-compare]").forEach(setup);
})();
