// One lint setup for the whole repo. The core rule: functions/*/src/core/** and workloads/src/core/** stay
// pure (no I/O imports), so orchestration decisions can be tested as plain functions (STYLE.md, rule 2).
// The boundary rule: a function never imports another function; what two of them share is a package.
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
/**
 * @upshift/workloads talks to Kubernetes, except its pure rules (@upshift/workloads/core), which a core may
 * import. A regex, since a gitignore-style group cannot re-allow a subpath of a package it forbids.
 */
const workloadsIo = '^@upshift/workloads(?!/core$)(/|$)';

const pureCoreMessage = 'src/core/ is pure: take observed state as arguments and return decisions; do I/O in src/adapters/.';
const pureCore = [{ group: ioModules, message: pureCoreMessage }, { regex: workloadsIo, message: pureCoreMessage }];
const noOtherFunction = {
  group: ['@upshift/fn-*', '@upshift/fn-*/*'],
  message: 'a function never imports another function: shared code lives in events/, runtime/, migrations/ or workloads/',
};

/** The control store's tables: statements on them live in runtime/src/store/ (run state, inbox, outbox, leases). */
const controlStoreTables = 'upshift\\.(runs|run_targets|steps|leases|inbox|outbox|schema_migrations|run_controls|run_control_log|held_events)\\b';
const controlStoreMessage = 'SQL on the control store lives in runtime/src/store/ (run-state/ for runs and steps): call its functions instead.';
const noControlStoreSql = ['error',
  { selector: `Literal[value=/${controlStoreTables}/]`, message: controlStoreMessage },
  { selector: `TemplateElement[value.raw=/${controlStoreTables}/]`, message: controlStoreMessage },
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
        ignoreVoid: false,
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }],
      }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['functions/*/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noOtherFunction] }] },
  },
  {
    // Later config wins for the same rule, so core files restate the boundary alongside purity.
    files: ['functions/*/src/core/**/*.ts', 'workloads/src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...pureCore, noOtherFunction] }] },
  },
  {
    // Tests may look at the store directly to check what a function did; everything else goes through run state.
    files: ['**/*.ts'],
    ignores: ['runtime/src/store/**', '**/test/**', 'test/**'],
    rules: { 'no-restricted-syntax': noControlStoreSql },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
