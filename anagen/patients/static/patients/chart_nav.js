// The chart's section links mark the section on screen with aria-current="location" (and its
// style), so the reader and a screen reader know where they are. Without JavaScript the links
// are ordinary in-page links and work the same.
(function () {
  "use strict";
  var nav = document.querySelector("nav.chart-nav");
  var header = document.querySelector(".chart-header");
  if (!nav) { return; }
  var links = Array.prototype.slice.call(nav.querySelectorAll("a[href^='#']"));
  var sections = links.map(function (a) { return document.getElementById(a.getAttribute("href").slice(1)); });

  function mark(index) {
    links.forEach(function (a, i) {
      if (i === index) { a.setAttribute("aria-current", "location"); } else { a.removeAttribute("aria-current"); }
    });
  }
  function current() {
    // The last section whose top has reached the bottom of the sticky header (or the place a
    // section link scrolls it to: its scroll-margin-top).
    var margin = sections[0] ? parseFloat(window.getComputedStyle(sections[0]).scrollMarginTop) || 0 : 0;
    var line = Math.max(header ? header.getBoundingClientRect().bottom : 0, margin) + 8;
    var found = 0;
    sections.forEach(function (s, i) { if (s && s.getBoundingClientRect().top <= line) { found = i; } });
    if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2) {
      // At the bottom of the page a short last section never reaches the line: the link clicked wins.
      var byHash = links.findIndex(function (a) { return a.getAttribute("href") === window.location.hash; });
      if (byHash > found) { found = byHash; }
    }
    return found;
  }
  var pending = false;
  function update() {
    pending = false;
    mark(current());
  }
  window.addEventListener("scroll", function () {
    if (!pending) { pending = true; window.requestAnimationFrame(update); }
  }, { passive: true });
  window.addEventListener("hashchange", update);
  update();
})();
