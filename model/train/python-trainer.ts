import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../paths.ts';

/** Debian's interpreter: another `python3` on the PATH (pyenv, a venv) may not see Debian's torch. */
export const DEFAULT_PYTHON = process.env.EARDRUM_PYTHON ?? '/usr/bin/python3';

export const TRAINER_SCRIPT = path.join(repoRoot, 'model/trainer/train.py');
export const SOUP_SCRIPT = path.join(repoRoot, 'model/trainer/soup.py');

/** Says clearly what to install when the trainer's interpreter or packages are missing. */
export function checkPythonTrainer(python = DEFAULT_PYTHON): string | null {
  const probe = spawnSync(python, ['-c', 'import torch, torchvision, onnx; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  if (probe.error)
    return `${python} cannot be run (${probe.error.message}); install python3 or set EARDRUM_PYTHON`;
  if (probe.status !== 0) {
    return (
      `${python} lacks PyTorch, torchvision or onnx (${probe.stderr.trim().split('\n').at(-1)}). ` +
      'On Debian: apt-get install python3-torch python3-torchvision python3-onnx'
    );
  }
  return null;
}

/** Runs model/trainer/train.py with `args`, passing its output through; rejects on a non-zero exit. */
export function runPythonTrainer(args: string[], python = DEFAULT_PYTHON): Promise<void> {
  return runPythonScript(TRAINER_SCRIPT, args, python);
}

export function runPythonScript(script: string, args: string[], python = DEFAULT_PYTHON): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(script)} exited with ${signal ?? `code ${code}`}`)),
    );
  });
}
