import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelCard } from '../model-card.ts';
import { repoRoot } from '../paths.ts';

/** The parts of a model card that every training method writes the same way. */

export const INTENDED_USE =
  'Decision support for clinicians reviewing otoscope photos: whether a photo shows an eardrum, the most likely finding, how sure the model is and where it looked. Not a diagnostic device; every result needs a clinician.';

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function gitRevision(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function dataSection(otoDir: string, negDir: string): ModelCard['data'] {
  return [
    {
      name: 'otoscopy',
      manifest: 'datasets/otoscopy/manifest.csv',
      sha256: sha256File(path.join(otoDir, 'manifest.csv')),
      sources: [
        'basaran2019_vanyyu_turkey (Van Yüzüncü Yıl University, Turkey)',
        'otomatch2020_osu_ohio (Ohio State University, USA)',
      ],
      licence: 'Turkey set: open access per its Kaggle page (not verified offline); OtoMatch: CC BY 4.0',
    },
    {
      name: 'not-eardrum',
      manifest: 'datasets/not-eardrum/manifest.csv',
      sha256: sha256File(path.join(negDir, 'manifest.csv')),
      sources: [
        'Debian wallpaper packages',
        'scikit-image samples',
        'IDRiD fundus',
        'Kvasir-SEG',
        'HAM10000',
        'pharyngitis photos',
        'synthetic frames',
      ],
      licence:
        'mixed: GPL-2+, CC-BY(-SA), CC0, CC BY 4.0; HAM10000 CC BY-NC 4.0 (non-commercial); Kvasir-SEG research/education; throat photos unverified',
    },
  ];
}

export const COMMON_LIMITATIONS = [
  'Trained on two public sources (Turkey, Ohio) whose otoscopes differ; effusion is Ohio-only and aom/com/earwax/otitis externa/tympanosclerosis are Turkey-only, so a new otoscope can still pull answers towards the labels of the camera it resembles. Adapt the model to the clinic\u2019s otoscope (eardrum adapt) and read "not sure" answers with care.',
  'No perforation or cholesteatoma classes; effusion mixes OME and AOM as published.',
  'The Turkey set has consecutive frames of the same exams; splits are leak-grouped, so metrics are lower than published random-split figures.',
  'Negatives do not include pinna photos, nasal endoscopy or ENT microscope images.',
];
