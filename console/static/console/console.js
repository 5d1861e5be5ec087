/* Modelyard console: the few live parts htmx does not cover. No inline scripts anywhere (CSP script-src 'self'). */
(function () {
  "use strict";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }

  /* The service's message next to the field it names (as the server-rendered form does); false if none. */
  function showFieldError(form, field, message) {
    form.querySelectorAll(".error[data-live]").forEach(function (old) { old.remove(); });
    var input = field ? form.querySelector("#id_" + field) : null;
    if (!input) return false;
    var note = document.createElement("div");
    note.className = "error"; note.dataset.live = "1"; note.dataset.field = field; note.setAttribute("role", "alert");
    note.textContent = message;
    (input.closest(".dropzone") || input).insertAdjacentElement("afterend", note);
    return true;
  }

  /* --- Upload: drag and drop, and a progress bar while the file goes up ------------------------------ */
  function initUpload() {
    var form = document.getElementById("upload-form");
    if (!form) return;
    var input = document.getElementById("id_file");
    var zone = document.getElementById("dropzone");
    var chosen = document.getElementById("chosen");
    function showChosen() {
      if (input.files.length) chosen.textContent = input.files[0].name + " (" + input.files[0].size + " bytes)";
    }
    input.addEventListener("change", showChosen);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer.files.length) { input.files = event.dataTransfer.files; showChosen(); }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = document.getElementById("upload-error");
      error.textContent = "";
      if (!input.files.length) { error.textContent = "Choose a model file first."; return; }
      var bar = document.getElementById("upload-bar"), percent = document.getElementById("upload-percent");
      var button = document.getElementById("upload-submit");
      document.getElementById("upload-progress").hidden = false;
      button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          var value = Math.round(100 * e.loaded / e.total);
          bar.value = value; percent.textContent = value + "%";
        }
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
        if (xhr.status === 201 && body.url) { window.location.assign(body.url); return; }
        button.disabled = false;
        var problem = body.error || {message: "The upload failed (HTTP " + xhr.status + ")"};
        showFieldError(form, problem.field, problem.message) || (error.textContent = problem.message);
      });
      xhr.addEventListener("error", function () {
        button.disabled = false; error.textContent = "The connection failed before the upload finished.";
      });
      xhr.send(new FormData(form));
    });
  }

  /* --- Try it: the real predict route, with a short-lived token of the signed-in user -----------------
     Delegated from the document: the panel arrives with the page, or later, swapped in once validation settles. */
  var tryToken = null;
  function getToken(url) {
    if (tryToken) return Promise.resolve(tryToken);
    return fetch(url, {method: "POST", headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"},
                       credentials: "same-origin"})
      .then(function (r) { return r.json(); }).then(function (j) { tryToken = j.access; return tryToken; });
  }
  function tryIt() {
    var body = document.getElementById("try-body");
    var answer = document.getElementById("try-answer"), status = document.getElementById("try-status");
    var started = performance.now();
    status.textContent = "Sending…";
    getToken(body.dataset.tokenUrl).then(function (access) {
      return fetch(body.dataset.predictUrl, {method: "POST", body: body.value,
        headers: {"Content-Type": "application/json", "Authorization": "Bearer " + access}});
    }).then(function (r) {
      if (r.status === 401) tryToken = null;  /* expired: the next try gets a fresh one */
      return r.text().then(function (text) {
        var shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: show as is */ }
        answer.hidden = false; answer.textContent = shown;
        answer.dataset.status = r.status;
        status.textContent = "HTTP " + r.status + " in " + Math.round(performance.now() - started) + " ms";
      });
    }).catch(function (e) { status.textContent = "Failed: " + e; });
  }
  function initTryIt() {
    document.addEventListener("click", function (event) {
      if (event.target && event.target.id === "try-send") tryIt();
    });
  }

  /* --- Charts (uPlot) ---------------------------------------------------------------------------- */
  var COLORS = ["#3b5bdb", "#e8590c", "#2f9e44", "#ae3ec9", "#1098ad", "#f08c00"];

  function chartWidth(el) { return Math.max(260, el.clientWidth - 8); }

  function initMetricCharts() {
    var source = document.getElementById("metric-series");
    if (!source || typeof uPlot === "undefined") return;
    var data = JSON.parse(source.textContent);
    document.querySelectorAll(".metric-chart").forEach(function (el) {
      var name = el.dataset.metric;
      new uPlot({width: chartWidth(el), height: 180, scales: {x: {time: false}},
                 axes: [{label: "version", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500],
                          values: function (u, ticks) { return ticks.map(function (t) { return "v" + t; }); }}, {}],
                 series: [{label: "version"}, {label: name, stroke: COLORS[0], width: 2, points: {size: 7}}]},
                [data.versions, data.metrics[name]], el);
    });
  }

  function rolloutData(json, kind) {
    if (kind === "weight") {
      var w = json.weight, series = [w.t];
      w.lines.forEach(function (line) { series.push(line.values); });
      return {data: series, labels: w.lines.map(function (l) { return l.label; })};
    }
    var m = json.metrics, rows = [m.t];
    m[kind].forEach(function (line) { rows.push(line.values); });
    return {data: rows, labels: m[kind].map(function (l) { return l.label; })};
  }

  function drawRollout(el, json, kind, height) {
    var shaped = rolloutData(json, kind);
    var note = el.querySelector(".empty");
    if (!shaped.data[0].length) {  /* no minute of traffic rolled up yet: say so rather than draw empty axes */
      if (!note) { note = document.createElement("p"); note.className = "empty"; el.appendChild(note); }
      note.textContent = "No requests measured yet: per-minute figures appear once traffic arrives.";
      el.dataset.points = "0";
      return;
    }
    if (note) note.remove();
    var series = [{}].concat(shaped.labels.map(function (label, i) {
      return {label: label, stroke: COLORS[i % COLORS.length], width: 2, points: {size: 5}};
    }));
    if (el._plot) { el._plot.destroy(); }
    el._plot = new uPlot({width: chartWidth(el), height: height, series: series}, shaped.data, el);
    el.dataset.points = String(shaped.data[0].length);
    el.dataset.until = String(shaped.data[0][shaped.data[0].length - 1]);  /* the newest moment drawn */
  }

  /* One request per rollout every two seconds, however many charts draw it; stops once the rollout ended. */
  function initRolloutCharts() {
    if (typeof uPlot === "undefined") return;
    var groups = {};
    document.querySelectorAll(".chart[data-series-url]").forEach(function (el) {
      (groups[el.dataset.seriesUrl] = groups[el.dataset.seriesUrl] || []).push(el);
    });
    Object.keys(groups).forEach(function (url) {
      function refresh() {
        fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (json) {
            if (!json) return;
            groups[url].forEach(function (el) {
              drawRollout(el, json, el.dataset.kind || "weight", parseInt(el.dataset.height || "200", 10));
            });
            if (json.active) setTimeout(refresh, 2000);
          });
      }
      refresh();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initUpload(); initTryIt(); initMetricCharts(); initRolloutCharts();
  });
})();
