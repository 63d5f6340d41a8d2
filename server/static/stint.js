// stint.js: keyboard navigation for the screenshot view. Every link that
// names a key in data-key follows on that key, so the template, not this
// file, says what each key does; the pages read the same without it.
"use strict";
document.addEventListener("keydown", function (event) {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) {
    return;
  }
  var target = event.target;
  if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
    return;
  }
  var link = document.querySelector('a[data-key="' + event.key + '"]');
  if (link) {
    event.preventDefault();
    window.location.assign(link.href);
  }
});
