// The review console's only script: load a retained image when the reviewer asks for it
// (each load is decrypted, watermarked and audited on the server, so none is fetched unasked).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-show-image]");
  if (!button) return;
  var img = document.getElementById(button.getAttribute("data-show-image"));
  if (!img) return;
  if (!img.getAttribute("src")) img.setAttribute("src", img.getAttribute("data-src"));
  img.hidden = !img.hidden;
  button.textContent = img.hidden ? "Show" : "Hide";
});
