// Refresh the live panels every few seconds without reloading the page; a lost session goes to login.
(function () {
  "use strict";
  var panels = document.getElementById("panels");
  if (!panels || !window.fetch) { return; }
  var seconds = Number(panels.getAttribute("data-refresh-seconds")) || 5;
  function refresh() {
    if (document.hidden || panels.contains(document.activeElement) && document.activeElement !== document.body) {
      return; // someone is using a form in the panels: leave it alone
    }
    fetch("/dashboard/panels" + window.location.search, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.redirected && response.url.indexOf("/dashboard/login") !== -1) {
          window.location.assign("/dashboard/login");
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) {
          panels.innerHTML = html;
          panels.setAttribute("data-refreshed-at", String(Date.now()));
        }
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }
  window.setInterval(refresh, seconds * 1000);
}());
