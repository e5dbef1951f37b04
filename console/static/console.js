// Live refresh: every element with data-live="/api/..." is replaced by the "html" the JSON endpoint
// renders (already escaped on the server), every few seconds, without reloading the page.
(function () {
  "use strict";
  var PERIOD_MS = 4000;

  function refresh(element) {
    fetch(element.getAttribute("data-live"), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      cache: "no-store"
    }).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
        return null;
      }
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data || typeof data.html !== "string") { return; }
      if (element.getAttribute("data-html") !== data.html) {
        element.innerHTML = data.html;
        element.setAttribute("data-html", data.html);
      }
      var stamp = document.getElementById("refreshed");
      if (stamp && data.refreshed) { stamp.textContent = data.refreshed; }
      // The queue's counts ("Tickets 51–100 sur 1 234 · 12 urgents") change with the rows.
      var summary = document.getElementById("queue-summary");
      if (summary && typeof data.summary === "string") { summary.textContent = data.summary; }
    }).catch(function () { /* offline for a moment: the next round tries again */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.querySelectorAll("[data-live]");
    Array.prototype.forEach.call(live, function (element) {
      window.setInterval(function () { refresh(element); }, PERIOD_MS);
    });
  });
})();
