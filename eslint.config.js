// One lint setup for the whole repo. The core rule: functions/*/src/core/** and workloads/src/core/** stay
// pure (no I/O imports), so orchestration decisions can be tested as plain functions (STYLE.md, rule 2).
// The boundary rule: a function never imports another function; what two of them share is a package.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import importX from 'eslint-plugin-import-x';
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
/**
 * kafkajs stays behind two doors: runtime/src/transport (the functions' publisher, the dev dispatcher's
 * client) and events/src/kafka (the typed producer/consumer). Everything else asks them, so the Kafka client
 * can change in one place. Tests, the stack and the benchmarks talk to Kafka directly on purpose.
 */
const kafkajsDoors = ['runtime/src/transport/**', 'events/src/kafka/**', 'stack/**', 'bench/**', '**/test/**', 'test/**'];
const noKafkajs = {
  group: ['kafkajs', 'kafkajs/*'],
  message: 'kafkajs is imported only in runtime/src/transport and events/src/kafka: use @upshift/runtime (KafkaConfig, createKafka…) or @upshift/events.',
};
/** The boundary on its own (test/lint checks it without type information). */
export const kafkajsBoundary = { files: ['**/*.ts'], ignores: kafkajsDoors, rules: { 'no-restricted-imports': ['error', { patterns: [noKafkajs] }] } };
const noOtherFunction = {
  group: ['@upshift/fn-*', '@upshift/fn-*/*'],
  message: 'a function never imports another function: shared code lives in events/, runtime/, migrations/ or workloads/',
};

/** The control store's tables: statements on them live in runtime/src/store/ (run state, inbox, outbox, leases). */
const controlStoreTables = 'upshift\\.(runs|run_targets|steps|leases|inbox|outbox|schema_migrations|run_controls|run_control_log|held_events|shard_tallies|store_budgets)\\b';
const controlStoreMessage = 'SQL on the control store lives in runtime/src/store/ (run-state/ for runs and steps): call its functions instead.';
const noControlStoreSql = ['error',
  { selector: `Literal[value=/${controlStoreTables}/]`, message: controlStoreMessage },
  { selector: `TemplateElement[value.raw=/${controlStoreTables}/]`, message: controlStoreMessage },
];

/**
 * Declared imports: every file imports only packages its own package.json declares (dependencies or
 * devDependencies), workspace packages (@upshift/*) and type-only imports included. One block per workspace,
 * each checked against that workspace's package.json alone (a hoisted node_modules would hide a missing
 * declaration); files outside the workspaces (knative/, this file) against the root package.json.
 */
const { workspaces } = JSON.parse(readFileSync(join(import.meta.dirname, 'package.json'), 'utf8'));
const declaredImportsOf = (packageDir) => ({
  'import-x/no-extraneous-dependencies': ['error', { packageDir, includeInternal: true, includeTypes: true }],
});
export const declaredImports = [
  { files: ['**/*.ts', '**/*.js'], plugins: { 'import-x': importX }, rules: declaredImportsOf(import.meta.dirname) },
  ...workspaces.map((workspace) => ({
    files: [`${workspace}/**/*.ts`, `${workspace}/**/*.js`],
    rules: declaredImportsOf(join(import.meta.dirname, workspace)),
  })),
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
  kafkajsBoundary,
  {
    // Later config wins for the same rule, so each block restates the patterns of the blocks before it.
    files: ['functions/*/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noOtherFunction, noKafkajs] }] },
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
  ...declaredImports,
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
