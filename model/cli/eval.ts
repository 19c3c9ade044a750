import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { EardrumClassifier, defaultModelDir } from '../classifier.ts';
import { readDataset } from '../data/dataset.ts';
import { confusionMatrixPng, reliabilityDiagramPng } from '../eval/charts.ts';
import { diagnoseAll, summarise } from '../eval/evaluate.ts';
import { reportMarkdown } from '../eval/report-markdown.ts';
import { stressMarkdown, stressTest, type StressReport } from '../eval/stress.ts';
import { progressLine } from '../train/progress.ts';

const HELP = `usage: eardrum eval --data DIR [--data DIR2 ...] [--split test[,val,...]] [--json FILE] [--out DIR]
                    [--negatives LABEL,...] [--model DIR] [--stress] [--source S] [--labels L1,L2]

Evaluates the model on folders laid out as <label>/<image> (with an optional manifest.csv
"file,label,...,split[,source_dataset]"). A folder none of whose labels the model knows is taken as
negatives (not eardrums); --negatives names negative labels explicitly. Writes report.md,
confusion-matrix.png and reliability.png into --out, and the JSON report to --json.
--source keeps only photos of one source (manifest column source_dataset) and --labels only those labels
(e.g. a leave-one-source-out test on the labels both sources have).
--stress also re-renders every eardrum photo through the fixed simulated otoscopes of the camera-shift
stress test and reports how many answers change and towards which labels (stress.md in --out).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string', multiple: true },
      split: { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      negatives: { type: 'string' },
      model: { type: 'string' },
      stress: { type: 'boolean' },
      source: { type: 'string' },
      labels: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.data?.length) {
    console.log(HELP);
    return values.help ? 0 : 2;
  }
  const classifier = await EardrumClassifier.load(values.model ?? defaultModelDir());
  const modelLabels = classifier.labels.map((l) => l.id);
  const negatives = new Set(values.negatives ? values.negatives.split(',').map((s) => s.trim()) : []);
  const samples = values.data.flatMap((dir) => {
    const keepLabels = values.labels?.split(',').map((l) => l.trim());
    const splits = values.split?.split(',');
    const rows = readDataset(path.resolve(dir)).filter(
      (r) =>
        (!splits || !r.split || splits.includes(r.split)) &&
        (!values.source || r.source === values.source) &&
        (!keepLabels || keepLabels.includes(r.label)),
    );
    if (!values.negatives && rows.length && !rows.some((r) => modelLabels.includes(r.label))) {
      rows.forEach((r) => negatives.add(r.label));
    }
    return rows;
  });
  if (!samples.length) {
    console.error(
      `no images found in ${values.data.join(', ')}${values.split ? ` (split ${values.split})` : ''}`,
    );
    return 1;
  }
  const started = Date.now();
  const outcomes = await diagnoseAll(classifier, samples, (done, total) => {
    if (done % 25 === 0 || done === total)
      process.stderr.write(`\r${progressLine('evaluating', done, total, started)}`);
  });
  process.stderr.write('\n');
  const report = summarise(outcomes, modelLabels, [...negatives], classifier.card.calibration.temperature);
  const title = `Evaluation of ${classifier.card.id} on ${values.data.map((d) => path.basename(path.resolve(d))).join(' + ')}${values.split ? ` (${values.split} split)` : ''}`;
  const md = reportMarkdown(report, title);
  console.log(md);
  if (values.out) {
    await mkdir(values.out, { recursive: true });
    await writeFile(path.join(values.out, 'report.md'), md);
    if (report.classification) {
      await writeFile(
        path.join(values.out, 'confusion-matrix.png'),
        await confusionMatrixPng(report.classification.labels, report.classification.confusion),
      );
      await writeFile(
        path.join(values.out, 'reliability.png'),
        await reliabilityDiagramPng(report.reliability, report.ece ?? 0),
      );
    }
  }
  let stress: StressReport | undefined;
  if (values.stress) {
    const stressStarted = Date.now();
    stress = await stressTest(classifier, samples, (done, total) => {
      if (done % 50 === 0 || done === total)
        process.stderr.write(`\r${progressLine('stress test', done, total, stressStarted)}`);
    });
    process.stderr.write('\n');
    const smd = stressMarkdown(stress, `Camera-shift stress test of ${classifier.card.id}`);
    console.log(smd);
    if (values.out) await writeFile(path.join(values.out, 'stress.md'), smd);
  }
  if (values.json) {
    await mkdir(path.dirname(path.resolve(values.json)), { recursive: true });
    await writeFile(
      values.json,
      JSON.stringify(
        { model: { id: classifier.card.id, version: classifier.card.version }, report, stress, outcomes },
        null,
        1,
      ),
    );
  }
  classifier.dispose();
  return 0;
}
