/** Objective value and gradient at a point. */
export type Objective = (x: Float64Array) => Promise<{ value: number; gradient: Float64Array }>;

export interface LbfgsOptions {
  maxIterations: number;
  /** Stop when the gradient's largest component falls below this. */
  gradientTolerance: number;
  /** Stop when an iteration improves the value by less than this, relative to it. */
  relativeTolerance: number;
  history: number;
  /** Called after each iteration (the caller may pause, report progress or throw to stop). */
  onIteration?: (iteration: number, value: number) => Promise<void> | void;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/**
 * Limited-memory BFGS with a backtracking (Armijo) line search, for smooth convex objectives such as
 * l2-regularised logistic regression. Deterministic: the same data gives the same weights, so the heads
 * need no averaging over seeds.
 */
export async function minimizeLbfgs(
  f: Objective,
  start: Float64Array,
  o: LbfgsOptions,
): Promise<{ x: Float64Array; value: number; iterations: number }> {
  let x = Float64Array.from(start);
  let { value, gradient: g } = await f(x);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const rhos: number[] = [];
  let iteration = 0;
  for (; iteration < o.maxIterations; iteration++) {
    let gmax = 0;
    for (let i = 0; i < g.length; i++) gmax = Math.max(gmax, Math.abs(g[i]!));
    if (gmax < o.gradientTolerance) break;
    // Two-loop recursion: d = -H g.
    const q = Float64Array.from(g);
    const alphas: number[] = [];
    for (let k = ss.length - 1; k >= 0; k--) {
      const a = rhos[k]! * dot(ss[k]!, q);
      alphas[k] = a;
      const y = ys[k]!;
      for (let i = 0; i < q.length; i++) q[i]! -= a * y[i]!;
    }
    if (ss.length) {
      const last = ss.length - 1;
      const gamma = dot(ss[last]!, ys[last]!) / dot(ys[last]!, ys[last]!);
      for (let i = 0; i < q.length; i++) q[i]! *= gamma;
    } else {
      // First step: a small one along the gradient, scaled to its size.
      const scale = 1 / Math.max(1, Math.sqrt(dot(g, g)));
      for (let i = 0; i < q.length; i++) q[i]! *= scale;
    }
    for (let k = 0; k < ss.length; k++) {
      const b = rhos[k]! * dot(ys[k]!, q);
      const s = ss[k]!;
      for (let i = 0; i < q.length; i++) q[i]! += (alphas[k]! - b) * s[i]!;
    }
    const d = q.map((v) => -v);
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from the gradient.
      ss.length = ys.length = rhos.length = 0;
      for (let i = 0; i < d.length; i++) d[i] = -g[i]!;
      slope = dot(g, d);
    }
    let step = 1;
    let next: { value: number; gradient: Float64Array } | null = null;
    let xn = x;
    for (let tries = 0; tries < 30; tries++) {
      xn = x.map((v, i) => v + step * d[i]!);
      const r = await f(xn);
      if (Number.isFinite(r.value) && r.value <= value + 1e-4 * step * slope) {
        next = r;
        break;
      }
      step *= 0.5;
    }
    if (!next) break;
    const s = xn.map((v, i) => v - x[i]!);
    const y = next.gradient.map((v, i) => v - g[i]!);
    const sy = dot(s, y);
    if (sy > 1e-12) {
      ss.push(s);
      ys.push(y);
      rhos.push(1 / sy);
      if (ss.length > o.history) {
        ss.shift();
        ys.shift();
        rhos.shift();
      }
    }
    const improvement = value - next.value;
    x = xn;
    value = next.value;
    g = next.gradient;
    await o.onIteration?.(iteration, value);
    if (improvement < o.relativeTolerance * Math.max(1, Math.abs(value))) {
      iteration++;
      break;
    }
  }
  return { x, value, iterations: iteration };
}
