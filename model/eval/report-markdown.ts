import type { EvaluationReport } from './evaluate.ts';

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(1)}%`;
const num = (v: number | null | undefined, d = 3) => (v === null || v === undefined ? 'n/a' : v.toFixed(d));

export function reportMarkdown(r: EvaluationReport, title: string): string {
  const lines: string[] = [`# ${title}`, ''];
  lines.push(`Images: ${r.images}. Model labels: ${r.modelLabels.join(', ')}.`);
  if (r.unknownLabels.length)
    lines.push(
      `Labels in the data that the model lacks (scored for the gate only): ${r.unknownLabels.join(', ')}.`,
    );
  if (r.negativeLabels.length) lines.push(`Negative (not-eardrum) labels: ${r.negativeLabels.join(', ')}.`);
  lines.push('', '## Summary', '', '| metric | value |', '|---|---|');
  if (r.classification) {
    lines.push(`| accuracy (images that passed the gate) | ${pct(r.classification.accuracy)} |`);
    lines.push(
      `| macro-F1 (95% bootstrap interval) | ${num(r.classification.macroF1)}${r.macroF1Interval ? ` (${num(r.macroF1Interval[0])}–${num(r.macroF1Interval[1])})` : ''} |`,
    );
  }
  lines.push(`| end-to-end accuracy (gate rejections count as errors) | ${pct(r.endToEndAccuracy)} |`);
  lines.push(`| normal-vs-abnormal ROC AUC | ${num(r.normalVsAbnormalAuc)} |`);
  lines.push(
    `| expected calibration error${r.eceBeforeTemperature !== null ? ' (before temperature scaling)' : ''} | ${num(r.ece)}${r.eceBeforeTemperature !== null ? ` (${num(r.eceBeforeTemperature)})` : ''} |`,
  );
  if (r.confident) {
    lines.push(
      `| confident answers: share of eardrum photos / accuracy | ${pct(r.confident.coverage)} / ${pct(r.confident.accuracy)} |`,
    );
  }
  lines.push(`| eardrum images rejected by the gate | ${pct(r.eardrumRejectionRate)} |`);
  lines.push(`| negatives rejected by the gate | ${pct(r.negativeRejectionRate)} |`);
  lines.push(
    `| latency p50 / p95: decode | ${r.latency.decodeP50.toFixed(1)} / ${r.latency.decodeP95.toFixed(1)} ms |`,
    `| latency p50 / p95: inference | ${r.latency.inferenceP50.toFixed(1)} / ${r.latency.inferenceP95.toFixed(1)} ms |`,
  );
  if (r.classification) {
    lines.push(
      '',
      '## Per label',
      '',
      '| label | precision | recall | F1 | support |',
      '|---|---|---|---|---|',
    );
    for (const p of r.classification.perLabel) {
      lines.push(`| ${p.label} | ${num(p.precision)} | ${num(p.recall)} | ${num(p.f1)} | ${p.support} |`);
    }
    lines.push('', '## Confusion matrix (rows: truth, columns: prediction)', '');
    lines.push(
      `| | ${r.classification.labels.join(' | ')} |`,
      `|---|${r.classification.labels.map(() => '---').join('|')}|`,
    );
    r.classification.confusion.forEach((row, i) =>
      lines.push(`| **${r.classification!.labels[i]}** | ${row.join(' | ')} |`),
    );
    lines.push(
      '',
      '![confusion matrix](confusion-matrix.png)',
      '',
      '![reliability diagram](reliability.png)',
    );
  }
  if (r.perSource.length) {
    lines.push(
      '',
      '## Per source',
      '',
      '| source | images | accuracy | macro-F1 | AUC |',
      '|---|---|---|---|---|',
    );
    for (const s of r.perSource)
      lines.push(`| ${s.source} | ${s.images} | ${pct(s.accuracy)} | ${num(s.macroF1)} | ${num(s.auc)} |`);
  }
  lines.push(
    '',
    '## Gate outcomes per label',
    '',
    '| label | images | eardrum | not eardrum | ungradable | unreadable | rejected |',
    '|---|---|---|---|---|---|---|',
  );
  for (const g of r.gate)
    lines.push(
      `| ${g.label} | ${g.total} | ${g.eardrum} | ${g.notEardrum} | ${g.ungradable} | ${g.errors} | ${pct(g.rejected)} |`,
    );
  lines.push('');
  return lines.join('\n');
}
