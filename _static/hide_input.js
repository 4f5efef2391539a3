// tecore book: every code cell's source starts folded ("Show code cell source"), as myst-nb's
// `hide-input` tag renders it, without tagging each cell. A cell tagged `show-input` (where the
// call is the lesson) stays open. Without JavaScript the code is simply shown.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("div.cell").forEach(function (cell) {
    if (cell.classList.contains("tag_show-input")) return;
    var input = cell.querySelector(":scope > div.cell_input");
    if (!input) return;  // already hidden by a tag, or removed
    var details = document.createElement("details");
    details.className = "admonition hide above-input";
    details.innerHTML = '<summary aria-label="Toggle hidden content">' +
      '<p class="collapsed admonition-title">Show code cell source</p>' +
      '<p class="expanded admonition-title">Hide code cell source</p></summary>';
    input.parentNode.insertBefore(details, input);
    details.appendChild(input);
  });
});
