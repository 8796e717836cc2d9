/**
 * The real `upshift` binary never prints a control character it was handed: a rejected run in a real
 * control store whose problem path holds a newline, ESC and a bidi override (`watch`, `status`), and a
 * policy file whose key holds them (`request`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { freshControlStore, insertFinishedRun, runEvent, type TestStore } from './support/control-store.ts';
import { examplePolicy, upshift, writePolicy } from './support/run.ts';

const needsPostgres = process.env.POSTGRES_ADMIN_URL ? false : 'POSTGRES_ADMIN_URL not set: run through npm test';
const runId = 'run-hostile-1';
const hostilePath = 'spec.x\n\u001b[2Kresult: COMPLETED\u202e';
let store: TestStore;

/** Characters a terminal acts on (C0 but the line break, DEL, C1, bidi embeddings/overrides/isolates), as found in `text`. */
function rawControls(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.codePointAt(0) ?? 0;
    return (code < 0x20 && c !== '\n') || (code >= 0x7f && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
  });
}

before(async () => {
  if (needsPostgres) return;
  store = await freshControlStore();
  const started = new Date('2026-11-23T10:00:00.000Z');
  const finished = new Date(started.getTime() + 2000);
  await insertFinishedRun(store.pool, {
    id: runId, status: 'rejected', policyName: 'shop-2026-11', started, finished, waves: 0,
    events: [runEvent('upgrade.rejected', {
      runId, policyName: 'shop-2026-11', code: 'invalid-policy', reason: 'invalid policy\u001b[1A', problems: [{ path: hostilePath, message: 'unknown field' }],
    }, 'plan', `${runId}-rejected`, finished)],
  });
});

after(async () => {
  await store?.drop();
});

const env = () => ({ ...process.env, DATABASE_URL: store.url, KAFKA_BROKERS: '' });

test('watch and status of a rejected run show its hostile problem path escaped, on one line', { skip: needsPostgres }, async () => {
  for (const args of [['watch', runId], ['status', runId], ['watch', runId, '--json'], ['status', runId, '--json']]) {
    const { code, stdout, stderr } = await upshift(args, env());
    assert.equal(code, args[0] === 'watch' ? 1 : 0, stderr);
    assert.deepEqual(rawControls(stdout), [], args.join(' '));
    if (args.includes('--json')) {
      assert.match(stdout, /spec\.x\\n\\u001b\[2Kresult: COMPLETED\\u202e: unknown field/, 'JSON escapes, and parses to the exact value');
    } else {
      assert.ok(stdout.includes('  ! spec.x\\n\\x1b[2Kresult: COMPLETED\\u202e: unknown field\n'), stdout);
      assert.equal(stdout.match(/^result: /gm)?.length, 1, 'the fake result line stays inside its line');
    }
  }
});

test('request with a policy whose key holds a newline and ESC prints the problem escaped and exits 2', async () => {
  const file = writePolicy(`${readFileSync(examplePolicy, 'utf8')}  "x\\n\\e[2Kfake line\\u202e": 1\n`);
  const { code, stdout, stderr } = await upshift(['request', file]);
  assert.equal(code, 2, stderr);
  assert.equal(stdout, '');
  assert.deepEqual(rawControls(stderr), []);
  assert.equal(stderr.trimEnd().split('\n').length, 2, `the header and one problem line:\n${stderr}`);
  assert.match(stderr, /x\\n\\x1b\[2Kfake line\\u202e.*: unknown field$/m);
});
