/* sitegen: place sidenotes beside their references without overlaps, light up a highlighted
   quote and its note together, open a note in a popover beside its reference where there is no
   margin for sidenotes, and remember the reader's theme. The page reads fully without this
   script: every reference links to its endnote, and every endnote back to its reference. */
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
      var body = note.querySelector(".sidenote-body");
      note.classList.toggle("is-clamped", !!body && body.scrollHeight > body.clientHeight + 1);
    });
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

  /* Popovers, below 1200 px: a click, tap or Enter on a reference opens its note beside it;
     Escape, a second click or a click outside closes it (the popover attribute's light dismiss),
     and focus moves into the note and back. Devices that hover preview the note on hover. */
  var WIDE = window.matchMedia("(min-width: 1200px)");
  var HOVER = window.matchMedia("(hover: hover) and (pointer: fine)");
  var canPopover = typeof HTMLElement.prototype.showPopover === "function";
  var popover = null;
  var openedBy = null;
  var byHover = false;
  var closedByPointer = null;
  var hoverTimer = 0;
  var hovered = null;  // the reference under the mouse, for the hover preview

  function noteRef(target) {
    return target && target.closest ? target.closest("a[role='doc-noteref']") : null;
  }

  function isOpen() {
    return popover !== null && popover.matches(":popover-open");
  }

  function makePopover() {
    if (popover && popover.isConnected) return popover;
    popover = document.createElement("div");
    popover.className = "note-popover";
    popover.id = "note-popover";
    popover.setAttribute("popover", "auto");
    popover.setAttribute("role", "dialog");
    popover.setAttribute("aria-labelledby", "note-popover-title");
    popover.tabIndex = -1;
    popover.addEventListener("toggle", function (event) {
      if (event.newState !== "closed") return;
      var ref = openedBy;
      openedBy = null;
      var active = document.activeElement;
      if (ref && !byHover && (popover.contains(active) || active === document.body || active === null)) {
        ref.focus();
      }
    });
    popover.addEventListener("mouseenter", function () { clearTimeout(hoverTimer); });
    popover.addEventListener("mouseleave", leave);
    document.body.appendChild(popover);
    return popover;
  }

  function fill(ref) {
    var id = (ref.getAttribute("href") || "").slice(1);
    var note = document.getElementById(id);
    if (!note) return false;
    var title = document.createElement("p");
    title.className = "note-popover-title";
    title.id = "note-popover-title";
    title.textContent = ref.getAttribute("aria-label") || "Note";
    popover.replaceChildren(title);
    Array.prototype.forEach.call(note.children, function (child) {
      var copy = child.cloneNode(true);
      copy.querySelectorAll("[id]").forEach(function (element) { element.removeAttribute("id"); });
      copy.querySelectorAll("[role='doc-backlink']").forEach(function (element) { element.remove(); });
      popover.appendChild(copy);
    });
    return true;
  }

  function place(ref) {
    var box = ref.getBoundingClientRect();
    var width = Math.min(popover.offsetWidth, window.innerWidth - 16);
    var left = Math.min(Math.max(8, box.left + box.width / 2 - width / 2), window.innerWidth - width - 8);
    var below = box.bottom + 8;
    var height = popover.offsetHeight;
    var top = below + height <= window.innerHeight - 8 || box.top - 8 - height < 8 ? below : box.top - 8 - height;
    popover.style.left = left + "px";
    popover.style.top = Math.max(8, top) + "px";
  }

  function open(ref, hover) {
    makePopover();
    if (isOpen()) popover.hidePopover();
    if (!fill(ref)) return false;
    openedBy = ref;
    byHover = hover;
    popover.showPopover();
    place(ref);
    if (!hover) popover.focus();
    return true;
  }

  function leave() {
    if (!byHover) return;
    clearTimeout(hoverTimer);
    hoverTimer = setTimeout(function () { if (byHover && isOpen()) popover.hidePopover(); }, 200);
  }

  function listenForNotes() {
    if (!canPopover) return;  // older browsers: the link goes to the endnote
    document.addEventListener("pointerdown", function (event) {
      var ref = noteRef(event.target);
      closedByPointer = ref && ref === openedBy && isOpen() && !byHover ? ref : null;
    }, true);
    document.addEventListener("click", function (event) {
      var ref = noteRef(event.target);
      if (!ref || WIDE.matches) return;
      event.preventDefault();
      clearTimeout(hoverTimer);  // a click decides: no preview may open after it
      if (closedByPointer === ref || (ref === openedBy && isOpen() && !byHover)) {
        closedByPointer = null;
        if (isOpen()) popover.hidePopover();
        return;  // a second click closes
      }
      closedByPointer = null;
      if (ref === openedBy && isOpen() && byHover) {  // previewed: the click keeps it, focus moves in
        byHover = false;
        popover.focus();
        return;
      }
      open(ref, false);
    });
    document.addEventListener("mouseover", function (event) {
      var ref = noteRef(event.target);
      if (!ref || WIDE.matches || !HOVER.matches || (isOpen() && !byHover)) return;
      hovered = ref;
      clearTimeout(hoverTimer);
      hoverTimer = setTimeout(function () {
        if (hovered === ref && !(isOpen() && (openedBy === ref || !byHover))) open(ref, true);
      }, 250);
    });
    document.addEventListener("mouseout", function (event) {
      if (noteRef(event.target)) { hovered = null; clearTimeout(hoverTimer); leave(); }
    });
    document.addEventListener("keydown", function () { clearTimeout(hoverTimer); });
    WIDE.addEventListener("change", function () { if (isOpen()) popover.hidePopover(); });
  }

  /* The theme: the system's, until the reader picks one with the toggle; remembered. */
  var DARK = window.matchMedia("(prefers-color-scheme: dark)");

  function theme() {
    return document.documentElement.dataset.theme || (DARK.matches ? "dark" : "light");
  }

  function setUpThemeToggle() {
    var button = document.querySelector(".theme-toggle");
    if (!button) return;
    var show = function () { button.setAttribute("aria-pressed", String(theme() === "dark")); };
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      var next = theme() === "dark" ? "light" : "dark";
      document.documentElement.dataset.theme = next;
      try { localStorage.setItem("sitegen-theme", next); } catch (error) { /* private mode */ }
      show();
    });
    DARK.addEventListener("change", show);
  }

  var pending = 0;
  function schedule() {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(placeSidenotes);
  }

  function setUp() {
    placeSidenotes();
    linkHover();
    setUpThemeToggle();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp();
    listenForNotes();
    window.addEventListener("resize", schedule);
    if (document.fonts && document.fonts.ready) document.fonts.ready.then(schedule);
  });
  document.addEventListener("sitegen:swap", setUp);  // the live preview swapped the page's body
})();
