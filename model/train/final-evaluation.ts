import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EardrumClassifier } from '../classifier.ts';
import { readDataset } from '../data/dataset.ts';
import { confusionMatrixPng, reliabilityDiagramPng } from '../eval/charts.ts';
import { diagnoseAll, summarise, type EvaluationReport } from '../eval/evaluate.ts';
import { reportMarkdown } from '../eval/report-markdown.ts';
import { stressMarkdown, stressTest } from '../eval/stress.ts';

/** The headline figures of a report, as stored in the model card. */
export function headline(r: EvaluationReport) {
  return {
    images: r.images,
    accuracy: r.classification?.accuracy ?? null,
    macroF1: r.classification?.macroF1 ?? null,
    macroF1Interval: r.macroF1Interval,
    confident: r.confident,
    endToEndAccuracy: r.endToEndAccuracy,
    normalVsAbnormalAuc: r.normalVsAbnormalAuc,
    ece: r.ece,
    eceBeforeTemperature: r.eceBeforeTemperature,
    eardrumRejectionRate: r.eardrumRejectionRate,
    negativeRejectionRate: r.negativeRejectionRate,
    perLabel: r.classification?.perLabel ?? [],
    perSource: r.perSource,
    latencyMs: r.latency,
  };
}

/** Measures the saved model end to end (files → classifier) on the test splits; writes evaluation/. */
export async function evaluateShippedModel(
  dir: string,
  otoDir: string,
  negDir: string,
  log: (m: string) => void,
) {
  const classifier = await EardrumClassifier.load(dir);
  const labels = classifier.labels.map((l) => l.id);
  const oto = readDataset(otoDir, 'test');
  const neg = readDataset(negDir, 'test');
  const otoOut = await diagnoseAll(classifier, oto);
  const negOut = await diagnoseAll(classifier, neg);
  log('stress test: the test split through the simulated otoscopes');
  const stress = await stressTest(classifier, oto);
  classifier.dispose();
  const otoReport = summarise(otoOut, labels, [], classifier.card.calibration.temperature);
  const negReport = summarise(negOut, labels, [...new Set(neg.map((s) => s.label))]);
  const evalDir = path.join(dir, 'evaluation');
  await mkdir(evalDir, { recursive: true });
  await writeFile(
    path.join(evalDir, 'otoscopy-test.md'),
    reportMarkdown(otoReport, `${path.basename(dir)} on otoscopy (test split)`),
  );
  await writeFile(
    path.join(evalDir, 'not-eardrum-test.md'),
    reportMarkdown(negReport, `${path.basename(dir)} on not-eardrum (test split)`),
  );
  if (otoReport.classification) {
    await writeFile(
      path.join(evalDir, 'confusion-matrix.png'),
      await confusionMatrixPng(otoReport.classification.labels, otoReport.classification.confusion),
    );
    await writeFile(
      path.join(evalDir, 'reliability.png'),
      await reliabilityDiagramPng(otoReport.reliability, otoReport.ece ?? 0),
    );
  }
  await writeFile(
    path.join(evalDir, 'stress-test.md'),
    stressMarkdown(stress, `${path.basename(dir)}: camera-shift stress test (otoscopy test split)`),
  );
  const h = headline(otoReport);
  log(
    `test: accuracy ${h.accuracy?.toFixed(3)}, macro-F1 ${h.macroF1?.toFixed(3)}, AUC ${h.normalVsAbnormalAuc?.toFixed(3)}, ECE ${h.ece?.toFixed(3)}, ` +
      `eardrums rejected ${(100 * (h.eardrumRejectionRate ?? 0)).toFixed(1)}%, negatives rejected ${(100 * (negReport.negativeRejectionRate ?? 0)).toFixed(1)}%`,
  );
  for (const s of h.perSource) log(`  ${s.source}: accuracy ${s.accuracy.toFixed(3)} (${s.images} images)`);
  log(
    `stress test: ${(100 * stress.changedShare).toFixed(1)}% of answers changed; largest gain ${stress.largestGain.answer} ` +
      `${(100 * stress.largestGain.share).toFixed(1)}%; ${(100 * stress.notEardrum).toFixed(1)}% rejected as not an eardrum`,
  );
  return {
    otoscopyTest: h,
    stressTest: {
      changedShare: stress.changedShare,
      largestGain: stress.largestGain,
      worstProfileGain: stress.worstProfileGain,
      accuracy: stress.accuracy,
      notEardrum: stress.notEardrum,
      ungradable: stress.ungradable,
      confident: stress.confident,
      profiles: stress.profiles.map((p) => ({
        id: p.id,
        changed: p.changed / Math.max(1, p.images),
        accuracy: p.accuracy,
        notEardrum: p.notEardrum,
        ungradable: p.ungradable,
        confident: p.confident,
      })),
    },
    notEardrumTest: {
      images: negReport.images,
      rejectionRate: negReport.negativeRejectionRate,
      gate: negReport.gate,
    },
  };
}
