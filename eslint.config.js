// One lint setup for the whole repo. The core rule: functions/*/src/core/** stays pure (no I/O imports),
// so orchestration decisions can be tested as plain functions (STYLE.md, rule 2).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Modules that do I/O; forbidden in the pure core of every function. */
const ioModules = [
  'pg', 'pg-*', 'mongodb', 'kafkajs', '@kubernetes/client-node', '@opentelemetry/*', 'cloudevents',
  'node:fs', 'node:fs/*', 'node:net', 'node:http', 'node:https', 'node:child_process', 'node:dgram', 'node:dns',
  'fs', 'fs/*', 'net', 'http', 'https', 'child_process',
  '@upshift/runtime', '@upshift/runtime/*',
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'events/generated/**', 'knative/**/*.yaml'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['functions/*/src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ioModules, message: 'src/core/ is pure: take observed state as arguments and return decisions; do I/O in src/adapters/.' }],
      }],
    },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
