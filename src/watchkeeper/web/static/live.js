// Live updates without a reload: every 5 s, fetch this page again with "X-Live: 1" (the server then
// answers with the inside of <main> only) and swap it in when it changed. Nothing is swapped while
// the user is typing in a form, and nothing is fetched while the tab is hidden.
(function () {
  "use strict";
  var EVERY_MS = 5000;
  var main = document.getElementById("main");
  if (!main) return;

  // Filter forms submit themselves when a select changes.
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosubmit") && event.target.tagName === "SELECT") {
      form.submit();
    }
  });

  if (!main.hasAttribute("data-live")) return;
  var last = null;
  var busy = false;

  function typing() {
    var active = document.activeElement;
    return Boolean(active && main.contains(active) && active.closest("form"));
  }

  async function refresh() {
    if (document.hidden || busy) return;
    busy = true;
    try {
      var response = await fetch(location.href, {
        headers: { "X-Live": "1" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.redirected) {
        // The session ended: a full load lets the server send us to the sign-in page.
        location.reload();
        return;
      }
      if (!response.ok) return;
      var html = await response.text();
      if (html === last || typing()) return;
      var open = Array.prototype.map.call(main.querySelectorAll("details[open][id]"), function (d) {
        return d.id;
      });
      main.innerHTML = html;
      last = html;
      open.forEach(function (id) {
        var details = document.getElementById(id);
        if (details) details.open = true;
      });
    } catch (error) {
      // Offline for a moment, or the server is restarting: try again on the next tick.
    } finally {
      busy = false;
    }
  }

  setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
})();
