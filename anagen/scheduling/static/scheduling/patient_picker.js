// The booking form's patient picker: a search-as-you-type text box over the clinic's patients.
// Without JavaScript the plain <select> (and the "Find a patient" search above it) still work.
(function () {
  "use strict";
  document.querySelectorAll("select[data-picker-url]").forEach(function (select) {
    var url = select.getAttribute("data-picker-url");
    var input = document.createElement("input");
    var list = document.createElement("datalist");
    var status = document.createElement("div");
    list.id = select.id + "-options";
    input.type = "search";
    input.id = select.id + "-search";
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    input.placeholder = "Type a name, number, date of birth or phone";
    status.className = "help";
    status.setAttribute("aria-live", "polite");
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.value) { input.value = chosen.text; }
    var label = document.querySelector("label[for='" + select.id + "']");
    if (label) { label.setAttribute("for", input.id); }
    select.hidden = true;
    // The page-reload search is the fallback for browsers without JavaScript; this box replaces it.
    var fallback = document.querySelector("form[aria-label='Find a patient']");
    if (fallback) { fallback.hidden = true; }
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(list, select);
    select.parentNode.insertBefore(status, select.nextSibling);

    var found = {};  // label -> id, from the latest answers
    var timer = null;
    var asked = 0;

    function choose() {
      var id = found[input.value];
      if (!id) {
        select.value = "";
        return;
      }
      var option = select.querySelector("option[value='" + id + "']");
      if (!option) {
        option = new Option(input.value, id);
        select.appendChild(option);
      }
      select.value = String(id);
      status.textContent = "Chosen: " + input.value;
    }

    function search() {
      var q = input.value.trim();
      if (q.length < 2 || found[input.value]) { return; }
      var mine = ++asked;
      fetch(url + "&q=" + encodeURIComponent(q), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : {results: []}; })
        .then(function (data) {
          if (mine !== asked) { return; }  // a later keystroke asked again
          list.textContent = "";
          data.results.forEach(function (p) {
            found[p.label] = p.id;
            var option = document.createElement("option");
            option.value = p.label;
            list.appendChild(option);
          });
          status.textContent = data.results.length ? data.results.length + " found" : "No patient found at this clinic";
          choose();
        })
        .catch(function () { status.textContent = "Search is unavailable; reload the page to use the list."; });
    }

    input.addEventListener("input", function () {
      choose();
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("change", choose);
  });
})();
