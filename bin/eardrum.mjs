#!/usr/bin/env node
// The `eardrum` command. Sub-commands live next to the code they drive: model commands in model/cli/,
// engine commands in main/cli/. Each module exports `run(argv: string[]): Promise<number>` (exit code).
import { register } from 'tsx/esm/api';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const commands = {
  train: 'model/cli/train-finetune.ts',
  eval: 'model/cli/eval.ts',
  diagnose: 'model/cli/diagnose.ts',
  calibrate: 'model/cli/calibrate.ts',
  adapt: 'model/cli/adapt.ts',
  watch: 'main/cli/watch.ts',
  export: 'main/cli/export.ts',
  serve: 'main/cli/serve.ts',
  migrate: 'main/cli/migrate.ts',
};

const [name, ...rest] = process.argv.slice(2);
const file = name ? commands[name] : undefined;
if (!file || !existsSync(path.join(root, file))) {
  const available = Object.entries(commands)
    .filter(([, f]) => existsSync(path.join(root, f)))
    .map(([c]) => c);
  console.error(`usage: eardrum <${available.join('|')}> [options]   (eardrum <command> --help for details)`);
  process.exit(name ? 2 : 0);
}
register();
const mod = await import(pathToFileURL(path.join(root, file)).href);
process.exitCode = await mod.run(rest);
