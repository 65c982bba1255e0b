// The desk's few scripts: review from the keyboard and a live query preview.
// Every page works without them; nothing here writes HTML that the server
// did not render and escape.
(function () {
  "use strict";

  function queue() {
    var form = document.getElementById("queue");
    if (!form) return;
    var items = Array.prototype.slice.call(form.querySelectorAll(".item"));
    if (!items.length) return;
    var at = 0;
    function show(i) {
      at = Math.max(0, Math.min(items.length - 1, i));
      items.forEach(function (item, n) { item.classList.toggle("current", n === at); });
      items[at].focus({ preventScroll: false });
      items[at].scrollIntoView({ block: "nearest" });
    }
    function press(selector) {
      var button = items[at].querySelector(selector);
      if (button) button.click();
    }
    items.forEach(function (item, n) {
      item.addEventListener("click", function () { at = n; show(n); });
    });
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "j") { show(at + 1); event.preventDefault(); }
      else if (event.key === "k") { show(at - 1); event.preventDefault(); }
      else if (event.key === "x") {
        var box = items[at].querySelector("input.select");
        if (box) box.checked = !box.checked;
        event.preventDefault();
      }
      else if (event.key === "c") { press("button.confirm"); event.preventDefault(); }
      else if (event.key === "r") { press("button.reject"); event.preventDefault(); }
    });
    show(0);
    document.body.setAttribute("data-keys", "ready");
  }

  function preview() {
    var form = document.querySelector("form[data-preview]");
    if (!form) return;
    var target = document.querySelector(form.getAttribute("data-preview"));
    var input = form.querySelector("input[name=query]");
    var timer = null;
    var asked = 0;
    function run() {
      var n = ++asked;
      var url = form.action + "?fragment=1&query=" + encodeURIComponent(input.value);
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      }).then(function (html) {
        // The fragment is the server's own template output, escaped there.
        if (n === asked) target.innerHTML = html;
      }).catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 400);
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  }

  document.addEventListener("DOMContentLoaded", function () { queue(); preview(); });
})();
