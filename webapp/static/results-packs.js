/* Results → wave: while packs are generated in the background, update the run's status
   region every few seconds from /results/<wave>/packs/run. Without JavaScript the page has
   a "Refresh the page" link instead. When the run ends, the form to generate packs again
   comes back. */
(function () {
  "use strict";
  var region = document.getElementById("pack-run");
  if (!region || !window.fetch || region.getAttribute("data-active") !== "true") { return; }
  var url = region.getAttribute("data-run-url");
  var timer = null;
  var update = function () {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (region.innerHTML.trim() !== data.html.trim()) { region.innerHTML = data.html; }
        if (!data.active) {
          window.clearInterval(timer);
          region.setAttribute("data-active", "false");
          var refresh = document.getElementById("pack-run-refresh");
          if (refresh) { refresh.hidden = true; }
          var form = document.getElementById("pack-run-form");
          if (form) { form.hidden = false; }
          if (data.status === "done") {  /* every pack but the failed ones is made now */
            Array.prototype.forEach.call(document.querySelectorAll(".pack-pending"), function (el) {
              if (data.failed.indexOf(el.getAttribute("data-site")) < 0) { el.hidden = true; }
            });
          }
        }
      })
      .catch(function () { /* try again next time */ });
  };
  timer = window.setInterval(update, 3000);
})();
