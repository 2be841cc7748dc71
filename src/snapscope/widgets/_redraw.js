// Prepended to _datatable.js and _thumbnails.js by _views.py (they are standalone modules,
// with no imports). One message may change several traits: call draw() now, then once after
// each batch of changes to `names`. Returns the cleanup that stops listening.
function redrawOnChange(model, names, draw) {
  let queued = false;
  const schedule = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      draw();
    });
  };
  for (const n of names) model.on(`change:${n}`, schedule);
  draw();
  return () => {
    for (const n of names) model.off(`change:${n}`, schedule);
  };
}

