// "Print" prints the page itself (print.css makes it a handout). Without
// JavaScript the same button opens the PDF handout instead.
document.querySelectorAll(".js-print").forEach(function (button) {
  button.addEventListener("click", function (event) {
    event.preventDefault();
    window.print();
  });
});
