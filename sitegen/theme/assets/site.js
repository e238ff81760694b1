/* sitegen: place sidenotes beside their references without overlaps, and light up a
   highlighted quote and its note together. The page reads fully without this script. */
(function () {
  "use strict";
  var GAP = 12;

  function placeSidenotes() {
    var column = document.querySelector(".sidenotes");
    if (!column || getComputedStyle(column).display === "none") return;
    column.classList.add("is-positioned");
    var origin = column.getBoundingClientRect().top;
    var bottom = 0;
    column.querySelectorAll(".sidenote").forEach(function (note) {
      var ref = document.getElementById("ref-" + note.dataset.note);
      if (!ref) return;
      var top = Math.max(ref.getBoundingClientRect().top - origin, bottom);
      note.style.top = top + "px";
      bottom = top + note.offsetHeight + GAP;
    });
    column.style.minHeight = bottom + "px";
  }

  function setActive(id, on) {
    document.querySelectorAll('[data-note="' + id + '"]').forEach(function (element) {
      element.classList.toggle("is-active", on);
    });
  }

  function linkHover() {
    document.querySelectorAll("mark[data-note], .sidenote, a[role='doc-noteref']").forEach(function (element) {
      var id = element.dataset.note || (element.getAttribute("href") || "").slice(1);
      ["mouseenter", "focusin"].forEach(function (kind) {
        element.addEventListener(kind, function () { setActive(id, true); });
      });
      ["mouseleave", "focusout"].forEach(function (kind) {
        element.addEventListener(kind, function () { setActive(id, false); });
      });
    });
  }

  var pending = 0;
  function schedule() {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(placeSidenotes);
  }

  function setUp() {
    placeSidenotes();
    linkHover();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp();
    window.addEventListener("resize", schedule);
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(schedule);
  });
  document.addEventListener("sitegen:swap", setUp);  // the live preview swapped the page's body
})();
