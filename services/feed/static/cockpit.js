// Live updates: the server says "changed" (server-sent events); htmx reloads the parts that
// listen for "feed-changed". Nothing else runs in the browser.
(function () {
  "use strict";
  var url = document.body.getAttribute("data-live");
  if (!url || !window.EventSource) { return; }
  var badge = document.getElementById("live");
  var source = new EventSource(url);
  source.addEventListener("open", function () { if (badge) { badge.classList.add("aan"); } });
  source.addEventListener("error", function () { if (badge) { badge.classList.remove("aan"); } });
  source.addEventListener("changed", function () {
    document.body.dispatchEvent(new CustomEvent("feed-changed"));
  });
})();
