import sharp from 'sharp';
import type { EardrumClassifier } from '../classifier.ts';
import type { Sample } from '../data/dataset.ts';
import { decodeImage } from '../image-decode.ts';
import { STRESS_OTOSCOPES, simulateOtoscope } from '../augment/otoscope-sim.ts';
import { seededRandom } from '../train/softmax-head.ts';
import type { Diagnosis } from '../types.ts';

/** What one simulated otoscope did to the answers on a set of eardrum photos of known labels. */
export interface StressProfileReport {
  id: string;
  description: string;
  images: number;
  /** Answers (label, or gate outcome for rejected photos) that differ from the clean photo's. */
  changed: number;
  accuracy: number;
  /** Eardrum photos rejected: by the eardrum gate (not an eardrum), or as ungradable (too dark, blurred…). */
  rejected: number;
  notEardrum: number;
  ungradable: number;
  /** Per answer (a label, `not_eardrum` or `ungradable`): share of all photos gained (+) or lost (−). */
  shift: Record<string, number>;
  confident: { coverage: number; accuracy: number } | null;
}

export interface StressReport {
  images: number;
  profiles: StressProfileReport[];
  /** Over every profile together. */
  changedShare: number;
  /** The largest share of all answers that one label gained, over all profiles together. */
  largestGain: { answer: string; share: number };
  /** The worst single profile's largest gain. */
  worstProfileGain: { profile: string; answer: string; share: number };
  accuracy: number;
  rejected: number;
  notEardrum: number;
  ungradable: number;
  confident: { coverage: number; accuracy: number } | null;
}

function answerOf(d: Diagnosis): string {
  return d.gate === 'eardrum' ? d.label! : d.gate;
}

/** A lossless PNG of the simulated photo (a JPEG profile has already re-encoded it inside the simulation). */
async function encode(img: { data: Uint8Array; width: number; height: number }): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

/**
 * The camera-shift stress test: every photo re-rendered through each of STRESS_OTOSCOPES (fixed, seeded),
 * diagnosed by the shipped pipeline, and compared with the answer on the original photo.
 */
export async function stressTest(
  classifier: EardrumClassifier,
  samples: Sample[],
  onProgress?: (done: number, total: number) => void,
): Promise<StressReport> {
  const labels = new Set(classifier.labels.map((l) => l.id));
  const photos = samples.filter((s) => labels.has(s.label));
  const clean: Diagnosis[] = [];
  const under: Diagnosis[][] = STRESS_OTOSCOPES.map(() => []);
  const total = photos.length * (STRESS_OTOSCOPES.length + 1);
  let done = 0;
  for (let i = 0; i < photos.length; i++) {
    const file = photos[i]!.file;
    clean.push(await classifier.diagnose(file));
    onProgress?.(++done, total);
    const img = await decodeImage(file, 4096);
    for (let p = 0; p < STRESS_OTOSCOPES.length; p++) {
      const seen = await simulateOtoscope(img, STRESS_OTOSCOPES[p]!.profile, seededRandom(1000 * i + p));
      under[p]!.push(await classifier.diagnose(await encode(seen)));
      onProgress?.(++done, total);
    }
  }

  const count = (ds: Diagnosis[]) => {
    const c = new Map<string, number>();
    for (const d of ds) c.set(answerOf(d), (c.get(answerOf(d)) ?? 0) + 1);
    return c;
  };
  const cleanCounts = count(clean);
  const confidentOf = (ds: Diagnosis[]) => {
    const decided = ds.filter((d) => d.gate === 'eardrum' && d.decision !== null);
    if (!decided.length) return null;
    const sure = ds
      .map((d, i) => ({ d, truth: photos[i]!.label }))
      .filter(({ d }) => d.gate === 'eardrum' && d.decision === 'confident');
    return {
      coverage: sure.length / ds.length,
      accuracy: sure.length ? sure.filter(({ d, truth }) => d.label === truth).length / sure.length : 0,
    };
  };
  const accuracyOf = (ds: Diagnosis[]) =>
    ds.filter((d, i) => d.gate === 'eardrum' && d.label === photos[i]!.label).length / Math.max(1, ds.length);
  const share = (ds: Diagnosis[], keep: (d: Diagnosis) => boolean) =>
    ds.filter(keep).length / Math.max(1, ds.length);
  const rejectedOf = (ds: Diagnosis[]) => share(ds, (d) => d.gate !== 'eardrum');

  const profiles = STRESS_OTOSCOPES.map((profile, p) => {
    const ds = under[p]!;
    const counts = count(ds);
    const shift: Record<string, number> = {};
    for (const a of new Set([...counts.keys(), ...cleanCounts.keys()])) {
      shift[a] = ((counts.get(a) ?? 0) - (cleanCounts.get(a) ?? 0)) / Math.max(1, ds.length);
    }
    return {
      id: profile.id,
      description: profile.description,
      images: ds.length,
      changed: ds.filter((d, i) => answerOf(d) !== answerOf(clean[i]!)).length,
      accuracy: accuracyOf(ds),
      rejected: rejectedOf(ds),
      notEardrum: share(ds, (d) => d.gate === 'not_eardrum'),
      ungradable: share(ds, (d) => d.gate === 'ungradable'),
      shift,
      confident: confidentOf(ds),
    };
  });

  const all = under.flat();
  const pooled: Record<string, number> = {};
  for (const pr of profiles)
    for (const [a, v] of Object.entries(pr.shift)) pooled[a] = (pooled[a] ?? 0) + v / profiles.length;
  const largest = Object.entries(pooled).sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  let worst = { profile: 'none', answer: 'none', share: 0 };
  for (const pr of profiles) {
    for (const [a, v] of Object.entries(pr.shift))
      if (v > worst.share) worst = { profile: pr.id, answer: a, share: v };
  }
  return {
    images: photos.length,
    profiles,
    changedShare: profiles.reduce((n, p) => n + p.changed, 0) / Math.max(1, all.length),
    largestGain: { answer: largest[0], share: largest[1] },
    worstProfileGain: worst,
    accuracy: profiles.reduce((n, p) => n + p.accuracy, 0) / profiles.length,
    rejected: profiles.reduce((n, p) => n + p.rejected, 0) / profiles.length,
    notEardrum: profiles.reduce((n, p) => n + p.notEardrum, 0) / profiles.length,
    ungradable: profiles.reduce((n, p) => n + p.ungradable, 0) / profiles.length,
    confident: mergeConfident(profiles),
  };
}

function mergeConfident(profiles: StressProfileReport[]): { coverage: number; accuracy: number } | null {
  const withRule = profiles.filter((p) => p.confident);
  if (!withRule.length) return null;
  let covered = 0;
  let right = 0;
  let n = 0;
  for (const p of withRule) {
    covered += p.confident!.coverage * p.images;
    right += p.confident!.accuracy * p.confident!.coverage * p.images;
    n += p.images;
  }
  return { coverage: covered / n, accuracy: covered ? right / covered : 0 };
}

/** Markdown for the model card's evaluation folder and model/README.md. */
export function stressMarkdown(r: StressReport, title: string): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const signed = (v: number) => `${v >= 0 ? '+' : '−'}${(100 * Math.abs(v)).toFixed(1)}%`;
  const lines = [
    `# ${title}`,
    '',
    `${r.images} eardrum photos of known labels, each re-rendered through ${r.profiles.length} simulated otoscopes ` +
      '(model/augment/otoscope-sim.ts `STRESS_OTOSCOPES`, seeded) and diagnosed by the shipped pipeline.',
    '',
    `Answers changed: ${pct(r.changedShare)}. Largest gain of one answer over all otoscopes: ${r.largestGain.answer} ` +
      `${signed(r.largestGain.share)}; worst single otoscope: ${r.worstProfileGain.profile} → ${r.worstProfileGain.answer} ` +
      `${signed(r.worstProfileGain.share)}. Accuracy ${pct(r.accuracy)}; rejected as not an eardrum ${pct(r.notEardrum)}, ` +
      `as ungradable ${pct(r.ungradable)}` +
      (r.confident
        ? `; confident answers ${pct(r.confident.coverage)} of photos, ${pct(r.confident.accuracy)} right.`
        : '.'),
    '',
    '| otoscope | changed | accuracy | not an eardrum / ungradable | confident (share / right) | largest gains |',
    '|---|---|---|---|---|---|',
  ];
  for (const p of r.profiles) {
    const gains = Object.entries(p.shift)
      .filter(([, v]) => v > 0.005)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([a, v]) => `${a} ${signed(v)}`)
      .join(', ');
    lines.push(
      `| ${p.id}: ${p.description} | ${pct(p.changed / Math.max(1, p.images))} | ${pct(p.accuracy)} | ${pct(p.notEardrum)} / ${pct(p.ungradable)} | ` +
        `${p.confident ? `${pct(p.confident.coverage)} / ${pct(p.confident.accuracy)}` : 'n/a'} | ${gains || '—'} |`,
    );
  }
  return lines.join('\n') + '\n';
}
