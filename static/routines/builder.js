/* The builder's drag to reorder: a row dropped on another row of the same slot takes its place.
   Progressive enhancement only: without this script the ↑/↓ buttons do the same, one place at a time.
   The drop posts the page's own move form (CSRF token included) with move=to:<step id>:<place in slot>. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var form = document.getElementById("step-move");
  if (!form) return;
  var rows = Array.prototype.slice.call(document.querySelectorAll(".step-table tr.step-row"));
  var dragged = null;

  function slotOf(row) {
    return row.getAttribute("data-slot");
  }

  rows.forEach(function (row) {
    row.draggable = true;
    row.classList.add("is-draggable");
    row.addEventListener("dragstart", function (event) {
      dragged = row;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.getAttribute("data-step"));
    });
    row.addEventListener("dragover", function (event) {
      if (dragged && dragged !== row && slotOf(dragged) === slotOf(row)) {
        event.preventDefault();
        row.classList.add("is-drop-target");
      }
    });
    row.addEventListener("dragleave", function () {
      row.classList.remove("is-drop-target");
    });
    row.addEventListener("drop", function (event) {
      event.preventDefault();
      row.classList.remove("is-drop-target");
      if (!dragged || dragged === row || slotOf(dragged) !== slotOf(row)) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "move";
      input.value = "to:" + dragged.getAttribute("data-step") + ":" + row.getAttribute("data-place");
      form.appendChild(input);
      form.submit();
    });
    row.addEventListener("dragend", function () {
      dragged = null;
    });
  });
});
