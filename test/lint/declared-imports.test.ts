/**
 * Every workspace declares what it imports: the lint rule (eslint.config.js `declaredImports`) passes on
 * the whole repo and fails on an undeclared import — hoisting in node_modules would otherwise hide it.
 * And kafkajs stays behind its two doors (`kafkajsBoundary`). Only these rules run here (no type
 * information), so the check takes seconds.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { declaredImports, kafkajsBoundary } from '../../eslint.config.js';

const root = join(import.meta.dirname, '../..');
const eslint = new ESLint({
  cwd: root,
  // Only this rule is configured, so other rules' inline directives are ignored rather than reported.
  allowInlineConfig: false,
  overrideConfigFile: true,
  overrideConfig: [
    { ignores: ['**/node_modules/**', '**/dist/**', 'events/generated/**', 'test-output/**'] },
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...declaredImports,
    kafkajsBoundary,
  ],
});

/** The rule's messages for `code` as if it were the file at `path` (relative to the repo root). */
async function undeclaredIn(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
}

test('every import in the repo is declared by its own package.json, and kafkajs stays behind its doors', { timeout: 120_000 }, async () => {
  const results = await eslint.lintFiles(['**/*.ts', '**/*.js']);
  const problems = results.flatMap((result) => result.messages.map((m) => `${result.filePath}:${m.line} ${m.message}`));
  assert.ok(results.length > 100, `linted ${results.length} files`);
  assert.deepEqual(problems, []);
});

test('an import its workspace does not declare fails lint, even when node_modules has it', async () => {
  const all = await undeclaredIn('functions/plan/src/probe.ts', "import pg from 'pg';\nimport type { Kafka } from 'kafkajs';\nexport const probe: [unknown, Kafka?] = [pg];\n");
  const messages = all.filter((message) => message.startsWith('import-x/'));
  assert.equal(messages.length, 2, messages.join('\n'));
  assert.match(messages[0] ?? '', /import-x\/no-extraneous-dependencies: 'pg' should be listed/);
  assert.match(messages[1] ?? '', /'kafkajs' should be listed/);
});

test('an undeclared workspace package fails lint too; a declared one passes', async () => {
  assert.deepEqual(await undeclaredIn('functions/verify/src/probe.ts', "export { createEvent } from '@upshift/events';\n"), []);
  const messages = await undeclaredIn('functions/verify/src/probe.ts', "export { startDashboard } from '@upshift/dashboard';\n");
  assert.equal(messages.length, 1, messages.join('\n'));
  assert.match(messages[0] ?? '', /'@upshift\/dashboard' should be listed/);
});

test('kafkajs is imported only under runtime/src/transport and events/src/kafka', async () => {
  const probe = "import type { Kafka } from 'kafkajs';\nexport type K = Kafka;\n";
  assert.deepEqual(await undeclaredIn('runtime/src/transport/probe.ts', probe), []);
  assert.deepEqual(await undeclaredIn('events/src/kafka/probe.ts', probe), []);
  for (const path of ['runtime/src/dev/probe.ts', 'cli/src/probe.ts', 'events/src/bindings/probe.ts']) {
    const messages = await undeclaredIn(path, probe);
    assert.ok(messages.some((m) => m.startsWith('no-restricted-imports: ') && m.includes('runtime/src/transport and events/src/kafka')), `${path}: ${messages.join('; ')}`);
  }
});
