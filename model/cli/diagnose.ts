import { parseArgs } from 'node:util';
import { EardrumClassifier, defaultModelDir } from '../classifier.ts';
import { ImageInputError } from '../errors.ts';
import type { Diagnosis } from '../types.ts';

const HELP = `usage: eardrum diagnose FILE... [--json] [--model DIR]

Diagnoses each image and prints one line per image (with --json, one JSON object per line:
path, gate, gateReason, eardrumProbability, label, probabilities, decision, notSureReasons,
unfamiliarity, heatmap, image, timings, model). decision is "confident" or "not_sure" for an
eardrum (not sure: a clinician decides; the label is then only the most likely one), null otherwise.
A file that cannot be read gets its own line with the error; the exit code is non-zero only
when no file could be read.`;

function line(path: string, d: Diagnosis): string {
  let top = d.label ? `${d.label} ${(100 * (d.probabilities[d.label] ?? 0)).toFixed(1)}%` : '';
  if (d.decision === 'not_sure') top = `not sure (${d.notSureReasons.join(', ')}; most likely ${top})`;
  const gate = d.gate === 'ungradable' ? `ungradable (${d.gateReason})` : d.gate;
  return `${path}\t${gate}\t${top}\t${d.timings.totalMs.toFixed(0)} ms`;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, model: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals.length === 0) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const classifier = await EardrumClassifier.load(values.model ?? defaultModelDir());
  let readable = 0;
  for (const file of positionals) {
    try {
      const d = await classifier.diagnose(file);
      readable++;
      if (values.json) {
        const { heatmap, ...rest } = d;
        const out = {
          path: file,
          ...rest,
          heatmap: heatmap ? { rows: heatmap.rows, cols: heatmap.cols, values: heatmap.values } : null,
        };
        console.log(JSON.stringify(out));
      } else {
        console.log(line(file, d));
      }
    } catch (err) {
      const code = err instanceof ImageInputError ? err.code : 'error';
      const message = (err as Error).message;
      if (values.json) console.log(JSON.stringify({ path: file, error: { code, message } }));
      else console.log(`${file}\terror\t${code}: ${message}`);
    }
  }
  classifier.dispose();
  return readable > 0 ? 0 : 1;
}
