/* The printable report: its Print button (no inline handler: the page's CSP forbids them). */
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print-now");
  if (button) button.addEventListener("click", function () { window.print(); });
});
