// hwcli capture page: records Pointer Events on the canvas and sends each line to the local hwcli server.
// Every request goes to a path under the random token this page was opened with (relative URLs).
"use strict";
(function () {
  const pad = document.getElementById("pad");
  const ctx = pad.getContext("2d");
  const statusEl = document.getElementById("status");
  let sentences = [], saved = new Set(), index = 0;
  let strokes = [], current = null, t0 = null;

  function resize() {
    const r = pad.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    pad.width = Math.round(r.width * dpr); pad.height = Math.round(r.height * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    redraw();
  }
  function redraw() {
    ctx.clearRect(0, 0, pad.width, pad.height);
    ctx.lineWidth = 2; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#1a237e";
    for (const s of strokes) {
      ctx.beginPath();
      s.forEach((p, k) => (k ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
      if (s.length === 1) ctx.lineTo(s[0][0] + 0.5, s[0][1]);
      ctx.stroke();
    }
  }
  function point(e) {
    const r = pad.getBoundingClientRect();
    if (t0 === null) t0 = e.timeStamp;
    // a mouse reports pressure 0.5 while a button is down: the page keeps what the device says
    return [e.clientX - r.left, e.clientY - r.top, Math.round((e.timeStamp - t0) * 10) / 10, e.pressure || 0];
  }
  pad.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    pad.setPointerCapture(e.pointerId);
    current = [point(e)]; strokes.push(current); redraw();
    e.preventDefault();
  });
  pad.addEventListener("pointermove", (e) => {
    if (!current) return;
    const evs = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const c of (evs.length ? evs : [e])) current.push(point(c));
    redraw();
  });
  function end(e) { if (current) { current.push(point(e)); current = null; redraw(); } }
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);

  function show() {
    strokes = []; t0 = null; redraw();
    document.getElementById("prompt").textContent = index < sentences.length ? sentences[index] : "All lines written.";
    document.getElementById("counter").textContent =
      `line ${Math.min(index + 1, sentences.length)} of ${sentences.length} · ${saved.size} saved`
      + (saved.has(index) ? " · this line is saved already (saving again replaces it)" : "");
  }
  function say(msg) { statusEl.textContent = msg; }
  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }
  function next() {
    let k = index + 1;
    while (k < sentences.length && saved.has(k)) k++;
    index = Math.min(k, sentences.length); show();
  }
  document.getElementById("redo").onclick = () => { strokes = []; t0 = null; redraw(); say(""); };
  document.getElementById("back").onclick = () => { if (index > 0) { index--; show(); say(""); } };
  document.getElementById("skip").onclick = () => { index = Math.min(index + 1, sentences.length); show(); say(""); };
  document.getElementById("save").onclick = async () => {
    if (index >= sentences.length) { say("every sentence is done: press Done"); return; }
    if (!strokes.length) { say("write the sentence first"); return; }
    try {
      const j = await post("line", { index: index, strokes: strokes });
      saved.add(index); say(`saved ${j.saved}`); next();
    } catch (err) { say("not saved: " + err.message); }
  };
  document.getElementById("done").onclick = async () => {
    try {
      const j = await post("done", {});
      document.body.dataset.finished = "1";
      say(`${j.saved} line(s) saved. You can close this page; add them with: hwcli styles add NAME FOLDER`);
    } catch (err) { say("the hwcli server is gone: " + err.message); }
  };
  window.addEventListener("resize", resize);
  fetch("state").then((r) => r.json()).then((s) => {
    sentences = s.sentences; saved = new Set(s.saved); index = -1; next(); resize();
    document.body.dataset.ready = "1";
  }).catch((err) => say("cannot reach the hwcli server: " + err.message));
})();
