/* placevoice survey pages: small progressive enhancements. Everything works without this. */
(function () {
  "use strict";

  // Move focus to the error summary so screen reader users hear the problems first.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // A second click on Next or Send does nothing while the first is on its way
  // (the server stores one response anyway; this just avoids a confusing double page).
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || !button.hasAttribute("data-once")) { return; }
      if (form.getAttribute("data-sending") === "yes") { event.preventDefault(); return; }
      form.setAttribute("data-sending", "yes");
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      form.removeAttribute("data-sending");
    });
  });

  // The teacher's live count: fetch the numbers every 15 seconds.
  var counts = document.getElementById("counts");
  if (counts && window.fetch) {
    var url = counts.getAttribute("data-counts-url");
    var update = function () {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          ["started", "answering", "finished"].forEach(function (key) {
            var el = counts.querySelector("[data-count='" + key + "']");
            if (el && String(data[key]) !== el.textContent) { el.textContent = String(data[key]); }
          });
        })
        .catch(function () { /* try again next time */ });
    };
    window.setInterval(update, 15000);
  }
})();
