import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'dist-electron/**',
      'release/**',
      'resources/**',
      'coverage/**',
      '.cache/**',
      'tests/.tmp/**',
      'bench/.out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript entry points run under Node.
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // CommonJS hooks that build tools require() (electron-builder's afterPack).
    files: ['**/*.cjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Layering: the renderer runs sandboxed in a browser; it may use only common/ and its own files.
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'The renderer talks to main only through the preload API (renderer/api).',
            },
          ],
          patterns: [
            { group: ['node:*'], message: 'The renderer runs in a browser: no Node modules.' },
            {
              group: ['electron/*', '**/main/**', '**/model/**', '**/preload/**'],
              message: 'The renderer may import only common/ and renderer/ files.',
            },
            {
              group: [
                'fs',
                'fs/*',
                'path',
                'os',
                'child_process',
                'crypto',
                'worker_threads',
                'url',
                'stream',
                'http',
                'https',
                'net',
              ],
              message: 'The renderer runs in a browser: no Node modules.',
            },
          ],
        },
      ],
    },
  },
  {
    // Only the thin Electron shell and the preload may touch Electron.
    files: ['**/*.{ts,tsx}'],
    ignores: ['main/electron/**', 'preload/**', 'tests/electron/**', 'renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only main/electron/ and preload/ may import electron.' }] },
      ],
    },
  },
);
