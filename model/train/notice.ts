import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelCard } from '../model-card.ts';

/** NOTICE shipped inside the model folder: where the weights and the training data came from. */
export async function writeNotice(dir: string, card: ModelCard): Promise<void> {
  const lines = [
    `Model ${card.id} (${card.name})`,
    '',
    'Backbone weights:',
    `  ${card.backbone.origin}`,
    `  Licence: ${card.backbone.licence}`,
    '',
    'Trained on:',
    ...card.data.flatMap((d) => [
      `  ${d.name} (${d.manifest}, sha256 ${d.sha256})`,
      `    sources: ${d.sources.join('; ')}`,
      `    licence: ${d.licence}`,
    ]),
    '',
    'Citations:',
    '  Başaran E., Cömert Z., Çelik Y., Biomed. Signal Process. Control 56 (2020) 101734.',
    '  Camalan S. et al., "OtoMatch: Content-based eardrum image retrieval using deep learning", PLoS ONE 15(5):e0232776 (2020), CC BY 4.0.',
    '',
    'The Turkey dataset licence could not be verified offline; check it before redistribution or commercial use.',
    'Negative examples include non-commercial data (HAM10000, CC BY-NC 4.0) used only to train the "no eardrum" gate.',
    '',
  ];
  await writeFile(path.join(dir, 'NOTICE'), lines.join('\n'));
}
