// Moving an appointment in the time grid by dragging it to another time (HTML5 drag and drop).
// The drop fills the page's move form and sends it: the server's scheduling service decides, so
// a time that is not free is refused with its message and nothing changes. Without JavaScript
// (or without a pointer) each appointment's "Move" link and the "Move here" buttons do the same.
(function () {
  "use strict";
  var grid = document.querySelector("table.time-grid");
  var form = document.getElementById("grid-move-form");
  var status = document.getElementById("grid-move-status");
  if (!grid || !form) { return; }
  var dragged = null;

  function target(event) {
    var cell = event.target.closest ? event.target.closest("td.slot[data-start]") : null;
    return cell && grid.contains(cell) ? cell : null;
  }
  function clear() {
    grid.querySelectorAll("td.drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  }

  grid.addEventListener("dragstart", function (event) {
    var link = event.target.closest ? event.target.closest("a.appt[data-move-url]") : null;
    if (!link) { return; }
    dragged = link;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", link.textContent.trim());
    grid.classList.add("dragging");
    link.classList.add("being-dragged");
    if (status) { status.textContent = "Moving " + link.textContent.trim() + ": drop it on a time."; }
  });
  grid.addEventListener("dragend", function () {
    grid.classList.remove("dragging");
    if (dragged) { dragged.classList.remove("being-dragged"); }
    clear();
    dragged = null;
  });
  grid.addEventListener("dragover", function (event) {
    var cell = dragged && target(event);
    if (!cell) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!cell.classList.contains("drop-target")) {
      clear();
      cell.classList.add("drop-target");
    }
  });
  grid.addEventListener("drop", function (event) {
    var cell = dragged && target(event);
    if (!cell) { return; }
    event.preventDefault();
    form.action = dragged.getAttribute("data-move-url");
    form.elements.starts_at.value = cell.getAttribute("data-start");
    // A clinician's column moves it to that clinician; a room's column to that room, same clinician.
    form.elements.clinician.value = cell.getAttribute("data-clinician") || dragged.getAttribute("data-clinician") || "";
    form.elements.room.value = cell.getAttribute("data-room") || "";
    if (status) { status.textContent = "Moving to " + cell.getAttribute("data-start").replace("T", " ") + "…"; }
    form.submit();
  });
})();
