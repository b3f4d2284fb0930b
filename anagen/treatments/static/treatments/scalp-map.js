// Progressive enhancement of the procedure form: clicking a zone on the scalp map ticks its
// checkbox and moves to its volume; ticking a checkbox colours the zone. Without this script
// the checkboxes and volume inputs work on their own.
(function () {
  var map = document.querySelector(".scalp-map.interactive");
  if (!map) return;
  function box(zone) { return document.querySelector('input[name="zone_' + zone + '"]'); }
  function paint() {
    map.querySelectorAll(".zone").forEach(function (el) {
      var b = box(el.dataset.zone);
      el.classList.toggle("on", !!(b && b.checked));
    });
  }
  map.querySelectorAll(".zone").forEach(function (el) {
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", "checkbox");
    function toggle() {
      var b = box(el.dataset.zone);
      if (!b) return;
      b.checked = !b.checked;
      paint();
      if (b.checked) {
        var v = document.querySelector('input[name="volume_' + el.dataset.zone + '"]');
        if (v) v.focus();
      }
    }
    el.addEventListener("click", toggle);
    el.addEventListener("keydown", function (e) { if (e.key === " " || e.key === "Enter") { e.preventDefault(); toggle(); } });
  });
  document.querySelectorAll('input[name^="zone_"]').forEach(function (b) { b.addEventListener("change", paint); });
  paint();
})();
