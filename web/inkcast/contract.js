// The sketch recognizer's input contract (docs/CONTRACT.md) in plain JavaScript: raw-input
// detection, Google's simplification (align, scale, 1-px resampling, RDP epsilon 2, rounding),
// arc-length resampling, bounding-box normalization, offsets, truncation. A port of
// runtime/simplify.py and runtime/sketch_preprocess.py, step for step in IEEE doubles, so it can
// be held to a bundle's conformance.json. No dependencies; runs in browsers and in Node.

export const SIDE = 255;
export const EPSILON = 2.0;
export const MIN_MEDIAN_STEP = 4.0;
export const MAX_INK = 200000;
export const MAX_INPUT_POINTS = 100000;
export const MAX_COORDINATE = 1e7;

export class BadInputError extends Error {
  constructor(message) { super(message); this.name = 'BadInputError'; }
}

// NumPy's round: half to even (Math.round rounds half up).
export function roundHalfEven(v) {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

const isNumber = (v) => typeof v === 'number';

// ------------------------------------------------------------------ 0. input -> strokes [[x, y], ...]

function strokeArray(i, stroke) {
  if (!Array.isArray(stroke)) throw new BadInputError(`stroke ${i}: expected [[x...], [y...]] or [(x, y), ...]`);
  if (stroke.length === 0) throw new BadInputError(`stroke ${i} has no points`);
  const nested = stroke.every(Array.isArray);
  if (!nested) throw new BadInputError(`stroke ${i}: expected a 2-D list of numbers`);
  const width = stroke[0].length;
  if (!stroke.every((r) => r.length === width)) throw new BadInputError(`stroke ${i}: its rows have different lengths`);
  stroke.forEach((r, j) => r.forEach((v, k) => {
    if (!isNumber(v)) throw new BadInputError(`stroke ${i}, entry [${j}][${k}]: ${JSON.stringify(v)} is not a number`);
  }));
  return { rows: stroke.length, cols: width };
}

function layoutsOf({ rows, cols }) {
  const out = new Set();
  if (rows === 2 || rows === 3) out.add('strokes');
  if (cols === 2 || cols === 3) out.add('points');
  return out;
}

/** Validate a drawing in either layout; returns {strokes: [[[x, y], ...], ...], layout}. */
export function parseDrawing(drawing) {
  if (!Array.isArray(drawing)) throw new BadInputError('a drawing must be a list of strokes');
  if (drawing.length === 0) throw new BadInputError('the drawing is empty: it has no strokes');
  const shapes = drawing.map((s, i) => strokeArray(i, s));
  let possible = new Set(['strokes', 'points']);
  shapes.forEach((sh, i) => {
    const fits = layoutsOf(sh);
    if (fits.size === 0) throw new BadInputError(`stroke ${i}: neither [[x...], [y...]] nor [(x, y), ...]`);
    possible = new Set([...possible].filter((l) => fits.has(l)));
    if (possible.size === 0) throw new BadInputError(`stroke ${i}: its layout differs from the strokes before it`);
  });
  const layout = possible.has('strokes') ? 'strokes' : 'points';
  let total = 0;
  const strokes = drawing.map((s, i) => {
    const pts = layout === 'strokes' ? s[0].map((x, j) => [x, s[1][j]]) : s.map((p) => [p[0], p[1]]);
    pts.forEach(([x, y], j) => {
      for (const [k, v] of [['x', x], ['y', y]]) {
        if (!Number.isFinite(v) || Math.abs(v) > MAX_COORDINATE) {
          throw new BadInputError(`stroke ${i}, point ${j}: ${k} = ${v} is not a finite number within +-1e7`);
        }
      }
    });
    total += pts.length;
    if (total > MAX_INPUT_POINTS) throw new BadInputError(`the drawing has more than ${MAX_INPUT_POINTS} points`);
    return pts;
  });
  return { strokes, layout };
}

// ------------------------------------------------------------------ 1. raw or simplified

function median(sorted) {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

export function looksSimplified(strokes) {
  for (const s of strokes) for (const [x, y] of s) {
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x > SIDE || y > SIDE) return false;
  }
  const steps = [];
  for (const s of strokes) for (let i = 1; i < s.length; i++) {
    const d = Math.hypot(s[i][0] - s[i - 1][0], s[i][1] - s[i - 1][1]);
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return false;
  steps.sort((a, b) => a - b);
  return median(steps) >= MIN_MEDIAN_STEP;
}

// ------------------------------------------------------------------ 2. raw -> simplified

export function frameOf(strokes) {
  const all = strokes.flat();
  let lx = Infinity, ly = Infinity, hx = -Infinity, hy = -Infinity, mag = 1;
  for (const [x, y] of all) {
    lx = Math.min(lx, x); ly = Math.min(ly, y); hx = Math.max(hx, x); hy = Math.max(hy, y);
    mag = Math.max(mag, Math.abs(x), Math.abs(y));
  }
  const side = Math.max(hx - lx, hy - ly);
  if (side <= 1e-9 * mag) {
    throw new BadInputError(all.length === 1 ? 'the drawing is a single point: nothing to recognize'
      : `all ${all.length} points of the drawing are at one place: nothing to recognize`);
  }
  return { offset: [lx, ly], scale: SIDE / side };
}

// numpy.interp for increasing xp (one value).
function interp(x, xp, fp) {
  const n = xp.length;
  if (x >= xp[n - 1]) return fp[n - 1];
  if (x <= xp[0]) return fp[0];
  let lo = 0, hi = n - 1; // xp[lo] <= x < xp[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xp[mid] <= x) lo = mid; else hi = mid;
  }
  if (xp[lo] === x) return fp[lo];
  const slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
  return slope * (x - xp[lo]) + fp[lo];
}

/** Points every `spacing` along a polyline's arc length, plus its last point (simplify.resample). */
export function resample(points, spacing = 1.0) {
  const p = [points[0]];
  const s = [0];
  for (let i = 1; i < points.length; i++) {
    const step = Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
    if (step > 0) { p.push(points[i]); s.push(s[s.length - 1] + step); }
  }
  if (p.length === 1) return [p[0].slice()];
  const length = s[s.length - 1];
  const count = Math.ceil(length / spacing);
  const t = [];
  for (let k = 0; k < count; k++) t.push(k * spacing);
  if (length - t[t.length - 1] < 1e-9 * spacing) t[t.length - 1] = length; else t.push(length);
  const xs = p.map((q) => q[0]), ys = p.map((q) => q[1]);
  return t.map((v) => [interp(v, s, xs), interp(v, s, ys)]);
}

function lineDistance(p, a, b) {
  const abx = b[0] - a[0], aby = b[1] - a[1], apx = p[0] - a[0], apy = p[1] - a[1];
  const length = Math.hypot(abx, aby);
  if (length === 0) return Math.hypot(apx, apy);
  return Math.abs(apx * aby - apy * abx) / length;
}

/** Ramer-Douglas-Peucker: which points are kept (the farthest point of a span, the first on ties). */
export function rdpMask(points, epsilon = EPSILON) {
  const n = points.length;
  const keep = new Array(n).fill(false);
  if (n === 0) return keep;
  keep[0] = keep[n - 1] = true;
  const spans = [[0, n - 1]];
  while (spans.length) {
    const [a, b] = spans.pop();
    let best = -1, peak = -Infinity;
    for (let i = a + 1; i < b; i++) {
      const d = lineDistance(points[i], points[a], points[b]);
      if (d > peak) { peak = d; best = i; }
    }
    if (best >= 0 && peak > epsilon) {
      keep[best] = true;
      spans.push([a, best], [best, b]);
    }
  }
  return keep;
}

function roundStroke(points) {
  let p = points.map(([x, y]) => [Math.min(Math.max(roundHalfEven(x), 0), SIDE), Math.min(Math.max(roundHalfEven(y), 0), SIDE)]);
  p = p.filter((q, i) => i === 0 || q[0] !== p[i - 1][0] || q[1] !== p[i - 1][1]);
  if (p.length === 1) p = [p[0], p[0].slice()];
  return p;
}

/** Every step of Google's simplification, for one drawing's parsed strokes. */
export function simplifySteps(strokes) {
  const { offset, scale } = frameOf(strokes);
  let ink = 0;
  strokes.forEach((s, i) => {
    let len = 0;
    for (let j = 1; j < s.length; j++) len += Math.hypot(s[j][0] - s[j - 1][0], s[j][1] - s[j - 1][1]);
    ink += len * scale;
    if (ink > MAX_INK) throw new BadInputError(`stroke ${i}: the drawing's strokes are longer than ${MAX_INK} pixels in total`);
  });
  const aligned = strokes.map((s) => s.map(([x, y]) => [(x - offset[0]) * scale, (y - offset[1]) * scale]));
  const dense = aligned.map((s) => resample(s, 1.0));
  const kept = dense.map((d) => { const m = rdpMask(d); return d.filter((_, i) => m[i]); });
  const simplified = kept.map(roundStroke);
  return { offset, scale, aligned, dense, kept, simplified };
}

// ------------------------------------------------------------------ 3. simplified -> model rows

/** Arc-length resampling in Google's frame (sketch_preprocess.resample_points): [[x, y, e], ...]. */
export function resamplePoints(points, spacing) {
  let lx = Infinity, ly = Infinity;
  for (const [x, y] of points) { lx = Math.min(lx, x); ly = Math.min(ly, y); }
  let xs = points.map((p) => p[0] - lx), ys = points.map((p) => p[1] - ly);
  let extent = -Infinity;
  for (let i = 0; i < xs.length; i++) extent = Math.max(extent, xs[i], ys[i]);
  if (extent > 0) { const f = 255.0 / extent; xs = xs.map((v) => v * f); ys = ys.map((v) => v * f); }
  const out = [];
  const half = spacing / 2;
  let start = 0;
  points.forEach((p, end) => {
    if (p[2] !== 1) return;
    const kx = [xs[start]], ky = [ys[start]], ka = [0.0];
    let arc = 0.0;
    for (let i = start + 1; i <= end; i++) {
      const dx = xs[i] - xs[i - 1], dy = ys[i] - ys[i - 1];
      const nxt = arc + Math.sqrt(dx * dx + dy * dy);
      if (nxt - arc > 0) { kx.push(xs[i]); ky.push(ys[i]); ka.push(nxt); }
      arc = nxt;
    }
    start = end + 1;
    if (arc > 0) {
      let j = 0;
      const count = Math.ceil((Math.max(arc - half, half) - 1e-9 * spacing) / spacing);
      for (let i = 0; i < count; i++) {
        const a = i * spacing;
        while (ka[j + 1] <= a) j++;
        if (ka[j] === a) out.push([kx[j], ky[j], 0]);
        else {
          const w = a - ka[j];
          out.push([(kx[j + 1] - kx[j]) / (ka[j + 1] - ka[j]) * w + kx[j], (ky[j + 1] - ky[j]) / (ka[j + 1] - ka[j]) * w + ky[j], 0]);
        }
      }
    }
    out.push([kx[kx.length - 1], ky[ky.length - 1], 1]);
  });
  return out;
}

/** [[x, y, e], ...] absolute points -> model rows [[dx, dy, e], ...] (float32 values). */
export function pointsToFeatures(points, maxPoints = 128, spacing = 24.0) {
  const pts = spacing === null ? points : resamplePoints(points, spacing);
  let lx = Infinity, ly = Infinity, hx = -Infinity, hy = -Infinity;
  for (const [x, y] of pts) { lx = Math.min(lx, x); ly = Math.min(ly, y); hx = Math.max(hx, x); hy = Math.max(hy, y); }
  const sx = (hx - lx) || 1.0, sy = (hy - ly) || 1.0;
  const nx = pts.map((p) => (p[0] - lx) / sx), ny = pts.map((p) => (p[1] - ly) / sy);
  const rows = [];
  for (let i = 1; i < pts.length; i++) {
    const dx = nx[i] - nx[i - 1], dy = ny[i] - ny[i - 1];
    if (dx !== 0 || dy !== 0) rows.push([dx, dy, pts[i][2]]);
    else if (pts[i][2] === 1 && rows.length) rows[rows.length - 1][2] = 1;
  }
  if (!rows.length) throw new BadInputError('the drawing has fewer than two distinct points: nothing to recognize');
  return rows.slice(0, maxPoints).map((r) => r.map(Math.fround));
}

function toPoints(strokes) {
  const points = [];
  for (const s of strokes) s.forEach(([x, y], j) => points.push([x, y, j === s.length - 1 ? 1 : 0]));
  return points;
}

/** The whole contract for one drawing: every intermediate result and the model rows. */
export function pipeline(drawing, preprocessing = { max_points: 128, resample_spacing: 24.0 }, raw = null) {
  const { strokes, layout } = parseDrawing(drawing);
  const isRaw = raw === null ? !looksSimplified(strokes) : raw;
  const steps = { layout, raw_detected: isRaw };
  let simplified = strokes;
  if (isRaw) {
    const r = simplifySteps(strokes);
    steps.raw = r;
    simplified = r.simplified;
  }
  steps.simplified = simplified;
  const points = toPoints(simplified);
  if (preprocessing.resample_spacing !== null) steps.arc_resampled = resamplePoints(points, preprocessing.resample_spacing);
  steps.features = pointsToFeatures(points, preprocessing.max_points, preprocessing.resample_spacing);
  return steps;
}

/** The top-k labels, best first; equal probabilities keep label order. */
export function rank(probabilities, labels, topK = 3) {
  if (!Number.isInteger(topK) || topK < 1) throw new BadInputError(`top_k must be an integer >= 1, got ${topK}`);
  const order = Array.from(probabilities.keys()).sort((a, b) => (probabilities[b] - probabilities[a]) || (a - b));
  return order.slice(0, Math.min(topK, labels.length)).map((i) => [labels[i], probabilities[i]]);
}

/** The answer with "I don't know" (docs/CONTRACT.md, "Unknown"): the top-1 label when its
 * probability is at least `threshold`, else null; a bundle without a threshold (null) always
 * answers its top-1. Returns {label, known, score, threshold, topK}. */
export function recognition(probabilities, labels, topK = 3, threshold = null) {
  const top = rank(probabilities, labels, topK);
  const score = Math.max(...probabilities);
  const known = threshold === null || threshold === undefined || score >= threshold;
  return { label: known ? top[0][0] : null, known, score, threshold: threshold ?? null, topK: top };
}
