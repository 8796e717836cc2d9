import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Parser } from '@asyncapi/parser';
import { expectedReadme, generatedDir, generatedDocuments, readmeFile, readPublishedSnapshot } from '../../src/generate/documents.ts';
import { eventDataSchema } from '../../src/generate/jsonschema.ts';
import { entries } from '../../src/index.ts';

const regenerate = 'run `npm run events:generate` and commit events/generated/';

test('generated documents are up to date with the catalogue', () => {
  const expected = generatedDocuments();
  const onDisk = readdirSync(new URL('schemas/', generatedDir)).map((f) => `schemas/${f}`).concat('asyncapi.json');
  assert.deepEqual(onDisk.sort(), [...expected.keys()].sort(), `stale or missing generated files: ${regenerate}`);
  for (const [path, content] of expected) {
    assert.equal(readFileSync(new URL(path, generatedDir), 'utf8'), content, `events/generated/${path} is out of date: ${regenerate}`);
  }
});

test('the README\'s topic/type table matches the catalogue', () => {
  assert.equal(readFileSync(readmeFile, 'utf8'), expectedReadme(), `events/README.md's table is out of date: ${regenerate}`);
});

test('a published type\'s schema never changes: a breaking change needs a new version', () => {
  const published = readPublishedSnapshot();
  for (const entry of entries) {
    const snapshot = published[entry.type];
    assert.ok(snapshot, `${entry.type} is not in events/test/snapshots/published-schemas.json: run \`npm run events:generate\``);
    assert.deepEqual(eventDataSchema(entry), snapshot,
      `the data schema of ${entry.type} changed after it was published; bump its version in catalogue.ts (→ v${entry.version + 1}) and run \`npm run events:generate\``);
  }
});

test('the AsyncAPI document parses and validates with @asyncapi/parser', async () => {
  const text = readFileSync(new URL('asyncapi.json', generatedDir), 'utf8');
  const { document, diagnostics } = await new Parser().parse(text);
  const errors = diagnostics.filter((d) => d.severity === 0);
  assert.deepEqual(errors.map((d) => `${d.path.join('.')}: ${d.message}`), []);
  assert.ok(document, 'no document');
  assert.equal(document.messages().length, entries.length);
  assert.deepEqual(document.channels().all().map((c) => c.address()).sort(),
    ['upshift.dead-letter', 'upshift.lifecycle', 'upshift.migrate-shard', 'upshift.plan', 'upshift.rollout', 'upshift.verify']);
});
