// Shows when this page was served: a HEAD request for the page itself (no API, nothing
// dynamic) returns the server's Date header. Falls back to the local clock if it is absent.
(function () {
  "use strict";
  var holder = document.getElementById("served");
  if (!holder || !window.fetch) {
    return;
  }
  fetch(window.location.pathname, { method: "HEAD", cache: "no-store" })
    .then(function (response) {
      var header = response.headers.get("Date");
      show(header ? new Date(header) : new Date());
    })
    .catch(function () {
      show(new Date());
    });

  function show(when) {
    var time = holder.querySelector("time");
    time.dateTime = when.toISOString();
    time.textContent = when.toLocaleString();
    holder.hidden = false;
  }
})();
