// Progressive enhancement: show a Print button where JavaScript can open the print dialog.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.classList.remove("d-none");
  button.addEventListener("click", function () { window.print(); });
});
