// The JS port against a bundle's conformance.json: every step, then each ONNX variant's top-3.
// INKCAST_BUNDLE names the bundle (the Python tests pass the one they export).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { pipeline, roundHalfEven, rank, recognition } from '../inkcast/contract.js';
import { Recognizer } from '../inkcast/recognizer.js';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const bundle = process.env.INKCAST_BUNDLE;
if (!bundle) throw new Error('set INKCAST_BUNDLE to a sketch bundle folder');
const doc = JSON.parse(readFileSync(join(bundle, 'conformance.json'), 'utf8'));
const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));

function close(a, b, tol, what) {
  assert.equal(a.length, b.length, `${what}: ${a.length} vs ${b.length} values`);
  a.forEach((v, i) => {
    if (Array.isArray(v)) close(v, b[i], tol, `${what}[${i}]`);
    else assert.ok(Math.abs(v - b[i]) <= tol, `${what}[${i}]: ${v} vs ${b[i]}`);
  });
}

test('half-to-even rounding', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 0, 2, 3]);
});

test('every step of every vector', () => {
  for (const v of doc.vectors) {
    const s = pipeline(v.input, doc.preprocessing);
    const id = `vector ${v.id} (${v.kind})`;
    assert.equal(s.raw_detected, v.steps.raw_detected, id);
    if (v.steps.raw) {
      close(s.raw.offset, v.steps.raw.offset, 1e-9, `${id} offset`);
      assert.ok(Math.abs(s.raw.scale - v.steps.raw.scale) <= 1e-12 * v.steps.raw.scale, `${id} scale`);
      close(s.raw.aligned, v.steps.raw.aligned, 1e-6, `${id} aligned`);
      close(s.raw.dense, v.steps.raw.resampled_1px, 1e-6, `${id} resampled_1px`);
      close(s.raw.kept, v.steps.raw.rdp_kept, 1e-6, `${id} rdp_kept`);
    }
    const simplified = s.simplified.map((st) => [st.map((p) => p[0]), st.map((p) => p[1])]);
    assert.deepEqual(simplified, v.steps.simplified, `${id} simplified`);
    close(s.arc_resampled, v.steps.arc_resampled, 1e-6, `${id} arc_resampled`);
    close(s.features, v.steps.features, 1e-6, `${id} features`);
  }
});

// ONNX Runtime Web's wasm build has no ConvInteger kernel, which dynamic quantization emits: that
// variant cannot run in a browser (the page offers float32 and static int8).
test('onnx-dynamic-int8 is refused by onnxruntime-web (no ConvInteger kernel)', async () => {
  const bytes = readFileSync(join(bundle, manifest.variants['onnx-dynamic-int8'].file));
  await assert.rejects(Recognizer.create(ort, manifest, bytes, 'onnx-dynamic-int8'), /ConvInteger/);
});

const WEB_VARIANTS = Object.keys(manifest.variants)
  .filter((n) => manifest.variants[n].backend === 'onnx' && n !== 'onnx-dynamic-int8');
assert.ok(WEB_VARIANTS.includes('onnx-float32') && WEB_VARIANTS.includes('onnx-static-int8'));
for (const variant of WEB_VARIANTS) {
  test(`top-3 of ${variant}`, async () => {
    const bytes = readFileSync(join(bundle, manifest.variants[variant].file));
    const rec = await Recognizer.create(ort, manifest, bytes, variant);
    for (const v of doc.vectors) {
      const got = await rec.predict(v.input, 3);
      const want = v.expected[variant].top;
      assert.deepEqual(got.map((g) => g[0]), want.map((w) => w[0]), `vector ${v.id} ${variant}`);
      close(got.map((g) => g[1]), want.map((w) => w[1]), 1e-5, `vector ${v.id} ${variant} probabilities`);
      if ('label' in v.expected[variant]) {  // bundles from before "unknown" have no expected answer
        const r = await rec.recognize(v.input, 3);
        assert.equal(r.label, v.expected[variant].label, `vector ${v.id} (${v.kind}) ${variant} answer`);
        assert.equal(r.known, v.expected[variant].known, `vector ${v.id} (${v.kind}) ${variant} known`);
      }
    }
  });
}

test('the threshold decides known or unknown', () => {
  assert.equal(doc.threshold, manifest.unknown ? manifest.unknown.threshold : null);
  const unknown = doc.vectors.filter((v) => v.kind === 'unknown');
  if (doc.threshold !== null) {
    assert.ok(unknown.length > 0, 'a bundle with a threshold has unknown vectors');
    assert.ok(unknown.some((v) => v.expected['onnx-float32'].label === null), 'some unknown vector is rejected');
  }
  const r = recognition([0.2, 0.5, 0.3], ['a', 'b', 'c'], 2, 0.6);
  assert.deepEqual([r.label, r.known, r.score], [null, false, 0.5]);
  assert.equal(recognition([0.2, 0.5, 0.3], ['a', 'b', 'c'], 2, 0.5).label, 'b');
  assert.equal(recognition([0.2, 0.5, 0.3], ['a', 'b', 'c'], 2, null).label, 'b');
});

test('ranking keeps label order on ties', () => {
  assert.deepEqual(rank([0.2, 0.4, 0.4], ['a', 'b', 'c'], 2), [['b', 0.4], ['c', 0.4]]);
});
