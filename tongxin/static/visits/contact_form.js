// The contact form on a phone: a checklist item marked "concern" opens its "problem found"
// fields (the others hide them), and the phone's location can be added. The form works
// without this script: the problem fields are then offered under every item.
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) {
    return;
  }

  function syncRow(row) {
    var details = row.querySelector("details.problem");
    if (!details) {
      return;
    }
    var chosen = row.querySelector("input[type=radio]:checked");
    var concern = chosen !== null && chosen.value === "concern";
    var text = details.querySelector("textarea");
    var filled = text !== null && text.value.trim() !== "";
    details.hidden = !concern && !filled;
    if (concern) {
      details.open = true;
    }
  }

  Array.prototype.forEach.call(form.querySelectorAll(".check-row"), function (row) {
    syncRow(row);
    row.addEventListener("change", function () {
      syncRow(row);
    });
  });

  // "All good": every item set to good at once and the list folded (each item can still be
  // opened and changed). Changing an item away from good unticks it, so that the server,
  // which turns items left "not seen" into good while it is ticked, keeps what was chosen.
  var allGood = form.querySelector("input[name=all_good]");
  var items = form.querySelector("details.check-items");
  if (allGood && items) {
    allGood.addEventListener("change", function () {
      if (!allGood.checked) {
        items.open = true;
        return;
      }
      Array.prototype.forEach.call(
        form.querySelectorAll(".check-row input[type=radio][value=good]"),
        function (radio) {
          if (!radio.checked) {
            radio.checked = true;
            radio.dispatchEvent(new Event("change", { bubbles: true }));
          }
        }
      );
      items.open = false;
    });
    items.addEventListener("change", function (event) {
      var target = event.target;
      if (target.type === "radio" && target.value !== "good" && event.isTrusted) {
        allGood.checked = false;
      }
    });
  }

  var button = document.getElementById("locate");
  var box = document.getElementById("location");
  var status = document.getElementById("location-status");
  var lat = form.querySelector("input[name=latitude]");
  var lon = form.querySelector("input[name=longitude]");
  if (!button || !box || !status || !lat || !lon || !("geolocation" in navigator)) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = box.dataset.waiting;
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        status.textContent = box.dataset.recorded + ": " + lat.value + ", " + lon.value;
        button.disabled = false;
      },
      function () {
        status.textContent = box.dataset.failed;
        button.disabled = false;
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 }
    );
  });
})();
