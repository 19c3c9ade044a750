import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** `resources/models/current.json`: which model folder ships, and which one adapting starts from. */
export interface ModelsPointer {
  id: string;
  /** The model `eardrum adapt` starts from when none is named (see adaptBaseDir in classifier.ts). */
  adaptFrom?: string;
}

export function readModelsPointer(modelsDir: string): ModelsPointer | null {
  const file = path.join(modelsDir, 'current.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ModelsPointer) : null;
}

/** Points current.json at a newly trained model, keeping the adaptation base it named. */
export async function writeModelsPointer(modelsDir: string, id: string): Promise<void> {
  const previous = readModelsPointer(modelsDir);
  const pointer: ModelsPointer = previous?.adaptFrom ? { id, adaptFrom: previous.adaptFrom } : { id };
  await writeFile(path.join(modelsDir, 'current.json'), JSON.stringify(pointer, null, 2) + '\n');
}
