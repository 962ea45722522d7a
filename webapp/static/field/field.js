/* placevoice field mode: interviews saved on the device (IndexedDB) and sent when the
   server can take them. An interview leaves the device only after a 2xx answer. */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("field-config").textContent);
  var DB_NAME = "placevoice-field";
  var STORE = "interviews";
  var META = "meta";
  var OLD_DAYS = 3;
  var RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";

  var $ = function (id) { return document.getElementById(id); };
  var current = null; // the interview being recorded
  var flushing = false;
  var retryTimer = null;
  var csrfToken = (document.querySelector("meta[name=csrf-token]") || {}).content || "";

  // --- IndexedDB ------------------------------------------------------------------
  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "id" });
          request.result.createObjectStore(META);
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }
  function withStore(name, mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result = action(tx.objectStore(name));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  function putRecord(record) { return withStore(STORE, "readwrite", function (s) { return s.put(record); }); }
  function deleteRecord(id) { return withStore(STORE, "readwrite", function (s) { return s.delete(id); }); }
  function allRecords() { return withStore(STORE, "readonly", function (s) { return s.getAll(); }); }

  function deviceId() {
    return withStore(META, "readonly", function (s) { return s.get("device_id"); }).then(function (id) {
      if (id) { return id; }
      var fresh = crypto.randomUUID();
      return withStore(META, "readwrite", function (s) { return s.put(fresh, "device_id"); })
        .then(function () { return fresh; });
    });
  }

  function newReceipt() {
    var bytes = new Uint32Array(12);
    crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < 12; i += 1) {
      if (i && i % 4 === 0) { out += "-"; }
      out += RECEIPT_ALPHABET[bytes[i] % RECEIPT_ALPHABET.length];
    }
    return out;
  }

  // --- the form ---------------------------------------------------------------------
  // One form per questionnaire and language; the first of a questionnaire's forms is in
  // its default language (interviews saved before languages were offered have none).
  function formFor(record) {
    var forms = Array.prototype.filter.call(
      document.querySelectorAll("form[data-instrument]"),
      function (f) { return f.getAttribute("data-instrument") === record.instrument_id; });
    var chosen = forms.filter(function (f) { return f.getAttribute("data-language") === record.language; });
    return chosen[0] || forms[0] || null;
  }

  function readAnswers(form) {
    var answers = {};
    form.querySelectorAll("[data-item]").forEach(function (block) {
      if (block.hidden) { return; }
      var name = block.getAttribute("data-item");
      var inputs = block.querySelectorAll("input, textarea, select");
      if (!inputs.length) { return; }
      var first = inputs[0];
      if (first.type === "radio") {
        var checked = block.querySelector("input:checked");
        if (checked) { answers[name] = checked.value; }
      } else if (first.type === "checkbox") {
        var values = [];
        block.querySelectorAll("input:checked").forEach(function (c) { values.push(c.value); });
        if (values.length) { answers[name] = values; }
      } else if (first.value.trim() !== "") {
        answers[name] = first.value;
      }
    });
    return answers;
  }

  function writeAnswers(form, answers) {
    form.reset();
    Object.keys(answers || {}).forEach(function (name) {
      var value = answers[name];
      form.querySelectorAll("[name='" + name + "']").forEach(function (input) {
        if (input.type === "radio") { input.checked = input.value === value; }
        else if (input.type === "checkbox") { input.checked = Array.isArray(value) && value.indexOf(input.value) >= 0; }
        else { input.value = value; }
      });
    });
  }

  function applyRelevance(form) {
    var values = {};
    form.querySelectorAll("[data-item]").forEach(function (block) { values[block.getAttribute("data-item")] = ""; });
    var all = readAnswersIgnoringHidden(form);
    Object.keys(all).forEach(function (k) { values[k] = all[k]; });
    form.querySelectorAll("[data-relevant]").forEach(function (block) {
      var show = true;
      try { show = window.PlacevoiceRelevance.evaluate(block.getAttribute("data-relevant"), values); }
      catch (e) { show = true; }
      block.hidden = !show;
      if (!show && block.hasAttribute("data-item")) { values[block.getAttribute("data-item")] = ""; }
    });
  }

  function readAnswersIgnoringHidden(form) {
    var hidden = [];
    form.querySelectorAll("[data-item]").forEach(function (b) { if (b.hidden) { hidden.push(b); b.hidden = false; } });
    var answers = readAnswers(form);
    hidden.forEach(function (b) { b.hidden = true; });
    return answers;
  }

  function showErrors(form, missing) {
    form.querySelectorAll(".error-message").forEach(function (e) { e.hidden = true; e.textContent = ""; });
    form.querySelectorAll(".form-group-error").forEach(function (e) { e.classList.remove("form-group-error"); });
    missing.forEach(function (block) {
      block.classList.add("form-group-error");
      var message = block.querySelector(".error-message");
      if (message) { message.hidden = false; message.textContent = "Record an answer before finishing."; }
    });
    if (missing.length) {
      var input = missing[0].querySelector("input, textarea");
      if (input) { input.focus(); }
    }
  }

  function missingRequired(form, answers) {
    var missing = [];
    form.querySelectorAll("[data-item]").forEach(function (block) {
      if (block.hidden) { return; }
      var required = block.querySelector("[data-required]");
      if (required && !(block.getAttribute("data-item") in answers)) { missing.push(block); }
    });
    return missing;
  }

  function selectedAssignment() {
    var key = $("assignment").value;
    return cfg.assignments.filter(function (a) { return a.key === key; })[0];
  }

  // The languages of the chosen assignment's questionnaire (the choice shows with two or more).
  function showLanguages() {
    var select = $("language"), group = $("language-group");
    if (!select || !group) { return; }
    var assignment = selectedAssignment();
    var languages = assignment ? assignment.languages : [];
    var previous = select.value;
    select.textContent = "";
    languages.forEach(function (language) {
      var option = document.createElement("option");
      option.value = language.code;
      option.textContent = language.name;
      option.lang = language.code;
      select.appendChild(option);
    });
    if (languages.some(function (l) { return l.code === previous; })) { select.value = previous; }
    group.hidden = languages.length < 2;
  }

  function selectedLanguage(assignment) {
    var select = $("language");
    if (select && select.value) { return select.value; }
    return assignment.languages.length ? assignment.languages[0].code : "";
  }

  function openInterview(record) {
    current = record;
    document.querySelectorAll("form[data-instrument]").forEach(function (f) { f.hidden = true; });
    var form = formFor(record);
    if (!form) { return; }
    writeAnswers(form, record.answers);
    var area = form.querySelector("[name='area']");
    if (area && !area.value) { area.value = record.site_name || ""; }
    form.querySelectorAll("[data-receipt]").forEach(function (el) { el.textContent = record.receipt_code; });
    applyRelevance(form);
    showErrors(form, []);
    form.hidden = false;
    $("start-panel").hidden = true;
    $("interview-title").hidden = false;
    $("interview-title").focus();
  }

  function closeInterview() {
    current = null;
    document.querySelectorAll("form[data-instrument]").forEach(function (f) { f.hidden = true; });
    $("start-panel").hidden = false;
    $("interview-title").hidden = true;
  }

  function saveDraft() {
    if (!current) { return Promise.resolve(); }
    var form = formFor(current);
    current.answers = readAnswers(form);
    current.saved_at = new Date().toISOString();
    return putRecord(current);
  }

  function startInterview() {
    var assignment = selectedAssignment();
    if (!assignment) { return; }
    deviceId().then(function (device) {
      var now = new Date().toISOString();
      var record = {
        id: crypto.randomUUID(),
        state: "draft",
        researcher_id: cfg.researcherId,
        device_id: device,
        wave_id: assignment.waveId,
        site_id: assignment.siteId,
        site_name: assignment.siteName,
        instrument_id: assignment.instrumentId,
        language: selectedLanguage(assignment),
        answers: {},
        receipt_code: newReceipt(),
        started_at: now,
        saved_at: now
      };
      openInterview(record);
      return putRecord(record);
    });
  }

  function finishInterview(event) {
    event.preventDefault();
    if (!current) { return; }
    var form = formFor(current);
    applyRelevance(form);
    var answers = readAnswers(form);
    var missing = missingRequired(form, answers);
    showErrors(form, missing);
    if (missing.length) { return; }
    current.answers = answers;
    current.state = "queued";
    current.saved_at = new Date().toISOString();
    var receipt = answers.consent === "yes" ? current.receipt_code : "";
    putRecord(current).then(function () {
      closeInterview();
      announce(receipt
        ? "Interview saved on this phone. The receipt code for withdrawal is " + receipt + "."
        : "Interview saved on this phone.");
      return render();
    }).then(flush);
  }

  function discardInterview() {
    if (!current) { return; }
    var id = current.id;
    closeInterview();
    deleteRecord(id).then(function () { announce("The unfinished interview was discarded."); return render(); });
  }

  function announce(text) {
    var box = $("field-message");
    box.textContent = text;
    box.hidden = !text;
  }

  // --- the queue ----------------------------------------------------------------------
  function unsent(records) {
    return records.filter(function (r) { return r.state !== "draft"; });
  }

  function render() {
    return allRecords().then(function (records) {
      var pending = unsent(records);
      var count = pending.length;
      $("unsent-count").textContent = count === 0
        ? "All interviews sent"
        : count + (count === 1 ? " interview" : " interviews") + " not yet sent";
      $("unsent-count").setAttribute("data-count", String(count));
      var limit = Date.now() - OLD_DAYS * 24 * 3600 * 1000;
      var old = pending.filter(function (r) { return Date.parse(r.saved_at) < limit; });
      $("old-warning").hidden = old.length === 0;
      $("export").disabled = count === 0;
      var list = $("queue-list");
      list.textContent = "";
      pending.forEach(function (r) {
        var li = document.createElement("li");
        var when = new Date(r.saved_at);
        var text = (r.site_name || "") + ", saved " + when.toLocaleString("en-GB");
        if (r.state === "conflict") { text += ": needs attention – the server already has a different interview with this id. Export it and give the file to the core team."; li.className = "queue-problem"; }
        else if (r.state === "invalid") { text += ": needs attention – " + (r.message || "the server could not accept it") + ". Export it and give the file to the core team."; li.className = "queue-problem"; }
        else if (r.researcher_id !== cfg.researcherId) { text += ": recorded by another researcher on this phone – they need to sign in to send it."; }
        else { text += ": waiting to send"; }
        li.textContent = text;
        list.appendChild(li);
      });
      var draft = records.filter(function (r) { return r.state === "draft" && r.researcher_id === cfg.researcherId; })[0];
      $("resume").hidden = !draft || !!current;
      $("resume").onclick = function () { if (draft) { openInterview(draft); } };
      $("queue-heading").hidden = count === 0;
    });
  }

  function needSignIn(show, text) {
    $("signin-needed").hidden = !show;
    if (text) { $("signin-text").textContent = text; }
  }

  function scheduleRetry() {
    if (retryTimer) { return; }
    retryTimer = setTimeout(function () { retryTimer = null; flush(); }, 3000);
  }

  function payloadOf(r) {
    return {
      id: r.id, wave_id: r.wave_id, site_id: r.site_id, instrument_id: r.instrument_id,
      language: r.language || "", answers: r.answers, device_id: r.device_id, started_at: r.started_at, saved_at: r.saved_at,
      receipt_code: r.answers && r.answers.consent === "yes" ? r.receipt_code : "",
      researcher_id: r.researcher_id
    };
  }

  function post(record) {
    return fetch(cfg.urls.interviews, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(payloadOf(record))
    });
  }

  function flush() {
    if (flushing) { return Promise.resolve(); }
    flushing = true;
    $("sync-state").textContent = "Sending…";
    var failed = false;
    return allRecords().then(function (records) {
      var queued = records.filter(function (r) { return r.state === "queued" && r.researcher_id === cfg.researcherId; });
      if (!queued.length) { return null; }
      return fetch(cfg.urls.session, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 403 || response.redirected) {
            needSignIn(true);
            return null;
          }
          if (!response.ok) { failed = true; return null; }
          return response.json().then(function (session) {
            if (session.researcher_id !== cfg.researcherId) {
              needSignIn(true, "You are signed in as someone else. Sign in with your own account to send your interviews.");
              return null;
            }
            needSignIn(false);
            csrfToken = session.csrf_token;
            return queued.reduce(function (chain, record) {
              return chain.then(function (stop) {
                if (stop) { return true; }
                return post(record).then(function (response) {
                  if (response.status === 200 || response.status === 201) { return deleteRecord(record.id).then(function () { return false; }); }
                  if (response.status === 409) { record.state = "conflict"; return putRecord(record).then(function () { return false; }); }
                  if (response.status === 422) {
                    return response.json().then(function (body) {
                      record.state = "invalid"; record.message = body.error || "";
                      return putRecord(record);
                    }, function () { record.state = "invalid"; return putRecord(record); }).then(function () { return false; });
                  }
                  if (response.status === 401 || response.status === 403) {
                    return response.json().then(function (body) { needSignIn(true, body.error ? "The server said: " + body.error + ". Sign in again to send your interviews." : ""); return true; },
                      function () { needSignIn(true); return true; });
                  }
                  failed = true; // 5xx, or a stale form token (400): keep it and try again soon
                  return false;
                }, function () { failed = true; return true; });
              });
            }, Promise.resolve(false));
          });
        }, function () { failed = true; return null; });
    }).catch(function () { failed = true; }).then(function () {
      flushing = false;
      $("sync-state").textContent = navigator.onLine ? (failed ? "Some interviews could not be sent yet; trying again shortly." : "") : "You are offline. Interviews are kept on this phone.";
      if (failed && navigator.onLine) { scheduleRetry(); }
      return render();
    });
  }

  function exportUnsent() {
    return allRecords().then(function (records) {
      var pending = unsent(records);
      var document_ = {
        format: "placevoice-field-export",
        version: 1,
        exported_at: new Date().toISOString(),
        interviews: pending.map(payloadOf)
      };
      var blob = new Blob([JSON.stringify(document_, null, 2)], { type: "application/json" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "unsent-interviews-" + new Date().toISOString().slice(0, 10) + ".json";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    });
  }

  function onlineState() {
    $("sync-state").textContent = navigator.onLine ? "" : "You are offline. Interviews are kept on this phone.";
  }

  // --- start ----------------------------------------------------------------------------
  document.querySelectorAll("form[data-instrument]").forEach(function (form) {
    form.addEventListener("change", function () { applyRelevance(form); saveDraft(); });
    form.addEventListener("input", function () { saveDraft(); });
    form.addEventListener("submit", finishInterview);
    form.querySelectorAll("[data-discard]").forEach(function (b) { b.addEventListener("click", discardInterview); });
  });
  $("start").addEventListener("click", startInterview);
  $("assignment").addEventListener("change", showLanguages);
  showLanguages();
  $("send-now").addEventListener("click", function () { flush(); });
  $("export").addEventListener("click", exportUnsent);
  window.addEventListener("online", function () { onlineState(); flush(); });
  window.addEventListener("offline", onlineState);

  if (navigator.storage && navigator.storage.persist) {
    navigator.storage.persist().then(function (granted) { document.body.setAttribute("data-persisted", String(granted)); });
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(cfg.urls.sw, { scope: cfg.urls.scope }).then(function (registration) {
      document.body.setAttribute("data-sw", "registered");
      return navigator.serviceWorker.ready;
    }).then(function () { document.body.setAttribute("data-sw", "ready"); }).catch(function () {
      document.body.setAttribute("data-sw", "failed");
    });
  }
  onlineState();
  render().then(function () {
    document.body.setAttribute("data-field-ready", "1");
    if (navigator.onLine) { flush(); }
  });
}());
