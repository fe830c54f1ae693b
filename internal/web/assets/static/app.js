// Live widgets: the server renders each widget's HTML and streams it over
// Server-Sent Events at most once a second; this swaps it in.
(function () {
  "use strict";
  var body = document.body;
  var names = body.getAttribute("data-stream");
  if (!names || !window.EventSource) { return; }
  var meta = document.querySelector('meta[name="csrf"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var es = new EventSource("/ui/stream?w=" + encodeURIComponent(names));
  names.split(",").forEach(function (name) {
    es.addEventListener(name, function (ev) {
      var el = document.querySelector('[data-live="' + name + '"]');
      if (!el) { return; }
      el.innerHTML = ev.data;
      el.querySelectorAll('input[name="csrf"]').forEach(function (i) { i.value = csrf; });
      el.setAttribute("data-updated", String(Date.now()));
    });
  });
  es.onopen = function () { body.setAttribute("data-live-open", "1"); };
})();
