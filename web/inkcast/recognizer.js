// The sketch recognizer on ONNX Runtime Web: a bundle's manifest and one of its .onnx files.
// `ort` is passed in (the npm package in Node, the same package's browser build on the page), so
// this module has no import side effects and no build step.

import { BadInputError, pipeline, rank, recognition } from './contract.js';

export class Recognizer {
  /** @param ort onnxruntime-web; @param manifest the bundle's manifest.json; @param variant e.g. "onnx-float32" */
  static async create(ort, manifest, modelBytes, variant = 'onnx-float32') {
    const v = manifest.variants[variant];
    if (!v || v.backend !== 'onnx') throw new Error(`no ONNX variant ${variant} in the bundle`);
    const session = await ort.InferenceSession.create(modelBytes);
    return new Recognizer(ort, manifest, session, variant);
  }

  constructor(ort, manifest, session, variant) {
    this.ort = ort;
    this.manifest = manifest;
    this.session = session;
    this.variant = variant;
    this.labels = manifest.labels;
    this.preprocessing = manifest.preprocessing;
    this.quantization = manifest.variants[variant].quantization || {};
    // the "unknown" threshold on the top-1 probability (null: a bundle made without one)
    this.threshold = manifest.unknown && manifest.unknown.threshold !== undefined ? manifest.unknown.threshold : null;
  }

  /** Model rows for a drawing (raw: null decides, true/false forces), with every step. */
  steps(drawing, raw = null) {
    return pipeline(drawing, this.preprocessing, raw);
  }

  async probabilitiesOfFeatures(rows) {
    const q = this.quantization.input;
    const flat = rows.flat();
    const data = q ? Int8Array.from(flat, (x) => Math.min(127, Math.max(-128, Math.round(x / q.scale) + q.zero_point)))
      : Float32Array.from(flat);
    const x = new this.ort.Tensor(q ? 'int8' : 'float32', data, [1, rows.length, 3]);
    const out = await this.session.run({ [this.session.inputNames[0]]: x });
    let p = Array.from(out[this.session.outputNames[0]].data);
    const o = this.quantization.output;
    if (o) p = p.map((v) => Math.fround((v - o.zero_point) * o.scale));
    return p;
  }

  /** The drawing's answer: {label (null: "unknown"), known, score, threshold, topK}. */
  async recognize(drawing, topK = 3, raw = null) {
    if (!Number.isInteger(topK) || topK < 1) throw new BadInputError(`top_k must be an integer >= 1, got ${topK}`);
    const rows = this.steps(drawing, raw).features;
    return recognition(await this.probabilitiesOfFeatures(rows), this.labels, topK, this.threshold);
  }

  /** The top-k [label, probability] of a drawing, best first. */
  async predict(drawing, topK = 3, raw = null) {
    if (!Number.isInteger(topK) || topK < 1) throw new BadInputError(`top_k must be an integer >= 1, got ${topK}`);
    const rows = this.steps(drawing, raw).features;
    return rank(await this.probabilitiesOfFeatures(rows), this.labels, topK);
  }
}
