// The live drawing page: Pointer Events on a canvas, the answer (a label, or "I'm not sure" below the
// bundle's threshold) and the top-3 after every change of the drawing; it lists the categories it knows.
// Two modes: "browser" runs the bundle's ONNX file with ONNX Runtime Web and the JS port of the
// contract (works from any static folder, offline); "server" posts the strokes to inkcast serve.
// Query options: ?mode=browser|server&bundle=URL of a bundle folder&variant=onnx-float32&ort=URL of ort.min.mjs
import { Recognizer } from './inkcast/recognizer.js';

const q = new URLSearchParams(location.search);
const canvas = document.getElementById('pad');
const ctx = canvas.getContext('2d');
const top = document.getElementById('top');
const answerEl = document.getElementById('answer');
const knownEl = document.getElementById('known');
const status = document.getElementById('status');
const modeSelect = document.getElementById('mode');
modeSelect.value = q.get('mode') || (location.pathname.startsWith('/web') ? 'server' : 'browser');

let strokes = [];   // finished and current strokes: [[x, y, t], ...] in canvas pixels
let drawing = false;
let recognizer = null;
let pending = false;
let updates = 0;

async function browserRecognizer() {
  if (recognizer) return recognizer;
  const bundle = (q.get('bundle') || 'bundle').replace(/\/$/, '');
  const ort = await import(q.get('ort') || './node_modules/onnxruntime-web/dist/ort.min.mjs');
  ort.env.wasm.numThreads = 1;
  const manifest = await (await fetch(`${bundle}/manifest.json`)).json();
  const variant = q.get('variant') || 'onnx-float32';
  const bytes = new Uint8Array(await (await fetch(`${bundle}/${manifest.variants[variant].file}`)).arrayBuffer());
  recognizer = await Recognizer.create(ort, manifest, bytes, variant);
  return recognizer;
}

async function recognize(points) {
  if (modeSelect.value === 'server') {
    const r = await fetch(q.get('server') || '/v1/recognize', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ drawing: points, top_k: 3 }) });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || r.statusText);
    return { label: body.label, known: body.known, score: body.score, threshold: body.threshold, topK: body.top_k };
  }
  return (await browserRecognizer()).recognize(points, 3);
}

// "I know: ..." from the bundle's labels (the manifest in browser mode, /v1/model on the server)
async function showKnown() {
  try {
    let labels;
    if (modeSelect.value === 'server') {
      const r = await fetch(q.get('model') || '/v1/model');
      labels = (await r.json()).sketch.labels;
    } else {
      labels = (await browserRecognizer()).labels;
    }
    knownEl.textContent = `I know: ${labels.join(', ')}. Anything else, I should say I'm not sure.`;
    document.body.dataset.known = labels.join(',');
  } catch (e) {
    knownEl.textContent = `could not load the categories: ${e.message}`;
  }
}

function show(answer, ms) {
  top.innerHTML = '';
  answerEl.textContent = answer.known ? `It's ${answer.topK[0][0]}.` : "I'm not sure what that is.";
  answerEl.className = answer.known ? 'known' : 'unsure';
  for (const [label, p] of answer.topK) {
    const li = document.createElement('li');
    li.textContent = `${label} ${(100 * p).toFixed(1)} %`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.round(200 * p)}px`;
    li.appendChild(bar);
    top.appendChild(li);
  }
  document.body.dataset.top1 = answer.topK.length ? answer.topK[0][0] : '';
  document.body.dataset.label = answer.known ? answer.label : 'unknown';
  document.body.dataset.updates = String(++updates);
  status.textContent = `${modeSelect.value}: ${ms.toFixed(1)} ms for the last update`;
}

async function update() {
  if (pending) return;  // one update at a time; the next one reads the drawing as it is then
  pending = true;
  try {
    while (true) {
      const snapshot = JSON.stringify(strokes);
      const points = strokes.filter((s) => s.length).map((s) => s.map(([x, y, t]) => [x, y, t]));
      if (!points.length) {
        top.innerHTML = ''; answerEl.textContent = ''; document.body.dataset.top1 = ''; document.body.dataset.label = '';
        status.textContent = 'draw something';
showKnown(); break;
      }
      const t0 = performance.now();
      try {
        show(await recognize(points), performance.now() - t0);
      } catch (e) {
        status.textContent = `not recognized yet: ${e.message}`;
        document.body.dataset.updates = String(++updates);
      }
      if (snapshot === JSON.stringify(strokes)) break;
    }
  } finally {
    pending = false;
    document.body.dataset.busy = '';
  }
}

function redraw() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 4; ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  for (const s of strokes) {
    ctx.beginPath();
    s.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    ctx.stroke();
  }
}

function at(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height, e.timeStamp];
}

canvas.addEventListener('pointerdown', (e) => {
  canvas.setPointerCapture(e.pointerId);
  drawing = true;
  strokes.push([at(e)]);
  redraw();
});
canvas.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (const ev of (events.length ? events : [e])) strokes[strokes.length - 1].push(at(ev));
  redraw();
  document.body.dataset.busy = '1';
  update();
});
const finish = () => { if (drawing) { drawing = false; document.body.dataset.busy = '1'; update(); } };
canvas.addEventListener('pointerup', finish);
canvas.addEventListener('pointercancel', finish);
document.getElementById('clear').onclick = () => { strokes = []; redraw(); update(); };
document.getElementById('undo').onclick = () => { strokes.pop(); redraw(); update(); };
modeSelect.onchange = () => { showKnown(); update(); };

status.textContent = 'draw something';
showKnown();
window.inkcast = { strokes: () => strokes.map((s) => s.map(([x, y]) => [x, y])) };  // for tests and debugging
document.body.dataset.ready = '1';
