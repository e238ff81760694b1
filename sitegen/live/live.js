/* sitegen serve: reload when a rebuild has finished, swap stylesheets for CSS-only changes,
   and show build errors over the page until they are fixed. Added by the dev server only. */
(function () {
  "use strict";
  var script = document.currentScript;
  var epoch = Number(script && script.dataset.epoch || 0);
  var base = script && script.dataset.base || "/";  // the site's base path, as published
  var SCROLL_KEY = "sitegen-scroll:" + location.pathname;

  var saved = sessionStorage.getItem(SCROLL_KEY);
  if (saved !== null) {
    sessionStorage.removeItem(SCROLL_KEY);
    window.addEventListener("load", function () { window.scrollTo(0, Number(saved)); });
  }

  // A rebuilt page is fetched once and its body swapped in: no new requests for styles and
  // scripts, no flash, the scroll position kept. A page whose <head> changed is reloaded whole.
  function reload() {
    fetch(location.href, { cache: "no-store" }).then(function (response) {
      if (response.status === 404) {
        location.href = base;  // the article was deleted: go to the index
        return;
      }
      return response.text().then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (!swapBody(fresh)) {
          sessionStorage.setItem(SCROLL_KEY, String(window.scrollY));
          location.reload();
        }
      });
    }).catch(function () { location.reload(); });
  }

  function headOf(doc) {
    return Array.prototype.map.call(doc.head.children, function (element) {
      return element.outerHTML;
    }).join("");
  }

  function swapBody(fresh) {
    if (!fresh.body || headOf(fresh) !== headOf(document)) return false;
    var x = window.scrollX, y = window.scrollY;
    document.body.replaceWith(document.adoptNode(fresh.body));
    window.scrollTo(x, y);
    document.dispatchEvent(new CustomEvent("sitegen:swap"));  // the theme's script sets up again
    return true;
  }

  function swapStylesheets() {
    document.querySelectorAll('link[rel="stylesheet"]').forEach(function (link) {
      var url = new URL(link.href);
      url.searchParams.set("v", String(Date.now()));
      var fresh = link.cloneNode();
      fresh.href = url.toString();
      fresh.onload = function () { link.remove(); };
      link.after(fresh);
    });
  }

  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function showErrors(errors) {
    var overlay = document.getElementById("sitegen-overlay");
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "sitegen-overlay";
      overlay.setAttribute("role", "alertdialog");
      overlay.setAttribute("aria-label", "Build errors");
      overlay.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
        "background:rgba(20,20,24,.97);color:#f3f3f3;font:14px/1.5 ui-monospace,monospace;padding:2rem";
      document.body.appendChild(overlay);
    }
    var html = "<h2 style='color:#ff8a80;font:600 18px system-ui;margin:0 0 1rem'>" +
      errors.length + " build error" + (errors.length === 1 ? "" : "s") +
      ": showing the last good build</h2>";
    errors.forEach(function (error) {
      html += "<section style='margin:0 0 1.5rem'><div><strong class='sitegen-where'>" +
        escapeText(error.where) + "</strong>: " + escapeText(error.message) + "</div>";
      if (error.hint) html += "<div style='color:#9ccc65'>hint: " + escapeText(error.hint) + "</div>";
      if (error.lines.length) {
        html += "<pre style='background:#000;padding:.5rem;margin:.5rem 0;overflow:auto'>";
        error.lines.forEach(function (pair) {
          var mark = pair[0] === error.line ? "&gt;" : " ";
          html += mark + String(pair[0]).padStart(5) + " | " + escapeText(pair[1]) + "\n";
        });
        html += "</pre>";
      }
      html += "</section>";
    });
    overlay.innerHTML = html;
  }

  function clearErrors() {
    var overlay = document.getElementById("sitegen-overlay");
    if (overlay) overlay.remove();
  }

  function handle(data) {
    var state = JSON.parse(data);
    if (state.errors.length) {
      showErrors(state.errors);
      return;
    }
    clearErrors();
    if (state.epoch > epoch) {
      var onlyStyles = state.kind === "css" && state.epoch === epoch + 1;
      epoch = state.epoch;
      if (onlyStyles) swapStylesheets();
      else reload();
    }
  }

  if (window.SharedWorker) {
    var worker = new SharedWorker("/__sitegen/worker.js");
    worker.port.onmessage = function (event) { handle(event.data); };
    worker.port.start();
  } else {
    new EventSource("/__sitegen/events").onmessage = function (event) { handle(event.data); };
  }
})();
