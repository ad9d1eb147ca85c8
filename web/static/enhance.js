// Progressive enhancement only: every page works without this file.
// The language switch submits as soon as a language is chosen (the button stays for keyboards
// and for browsers without JavaScript).
document.addEventListener("DOMContentLoaded", function () {
  var select = document.getElementById("lang-select");
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
  // Ask before deleting a brief or rejecting a submission.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
});
