/* placevoice coding: selecting words in an answer copies them into the excerpt field. */
(function () {
  "use strict";
  var answer = document.getElementById("answer-text");
  var target = document.querySelector("[data-selection-target]");
  if (!answer || !target) { return; }
  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) { return; }
    var range = selection.getRangeAt(0);
    if (!answer.contains(range.commonAncestorContainer)) { return; }
    var text = selection.toString().trim();
    if (text) { target.value = text; }
  });
}());
