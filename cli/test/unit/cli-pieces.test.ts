/** The pure pieces behind the CLI conventions: context priority, shell quoting, drop verdicts, flags from usage, measured durations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropVerdict } from '../../src/backups/runs.ts';
import { flagsOf } from '../../src/completion.ts';
import { contextPath, withContext } from '../../src/context.ts';
import { measuredDuration } from '../../src/demo/summary.ts';
import { shellQuote } from '../../src/env.ts';
import { outputFormatOption } from '../../src/args.ts';

const context = { version: 1 as const, name: 'local-stack', env: { DATABASE_URL: 'postgres://ctx', KAFKA_BROKERS: 'ctx:9092' } };

test('a variable, even an empty one, wins over the context file; the file fills only what is unset', () => {
  assert.deepEqual(withContext({ DATABASE_URL: 'postgres://env' }, context), { DATABASE_URL: 'postgres://env', KAFKA_BROKERS: 'ctx:9092' });
  assert.deepEqual(withContext({ KAFKA_BROKERS: '' }, context), { DATABASE_URL: 'postgres://ctx', KAFKA_BROKERS: '' });
  assert.deepEqual(withContext({}, undefined), {});
});

test('the context file is $UPSHIFT_CONTEXT, else under $XDG_CONFIG_HOME, else ~/.config', () => {
  assert.equal(contextPath({ UPSHIFT_CONTEXT: '/tmp/c.json', XDG_CONFIG_HOME: '/x' }), '/tmp/c.json');
  assert.equal(contextPath({ XDG_CONFIG_HOME: '/x' }), '/x/upshift/context.json');
  assert.match(contextPath({}), /\/\.config\/upshift\/context\.json$/);
});

test('shell quoting survives quotes and spaces', () => {
  assert.equal(shellQuote("it's a b"), `'it'\\''s a b'`);
});

test('backups may be dropped only when no active run needs them; a frozen run\'s with a warning', () => {
  const at = new Date(0);
  assert.deepEqual(dropVerdict(['r1'], undefined), { allowed: false, reason: 'run r1 is active on this migration and may restore from it' });
  assert.equal(dropVerdict([], { id: 'r2', status: 'rolling-back', createdAt: at }).allowed, false);
  assert.match(dropVerdict([], { id: 'r3', status: 'failed', createdAt: at }).warning ?? '', /frozen/);
  assert.deepEqual(dropVerdict([], { id: 'r4', status: 'completed', createdAt: at }), { allowed: true });
  assert.deepEqual(dropVerdict([], undefined), { allowed: true });
});

test('flags come from the usage text (long and short, once each, --help always)', () => {
  assert.deepEqual(flagsOf('Usage: upshift x <run-id> [--wait] [-o json|yaml]\n  --wait   wait\n  host:port-1'), ['--wait', '-o', '--help']);
});

test('-o accepts json, yaml and wide; --json is -o json', () => {
  assert.deepEqual([outputFormatOption(undefined, false), outputFormatOption('yaml', false), outputFormatOption(undefined, true)], ['text', 'yaml', 'json']);
  assert.deepEqual(outputFormatOption('wide', true), { problem: '--json and -o wide disagree' });
});

test('measured durations keep tenths under a minute, so a short step does not read 0s', () => {
  assert.deepEqual([measuredDuration(420), measuredDuration(7_640), measuredDuration(0), measuredDuration(185_000)], ['0.4s', '7.6s', '0.0s', '3m05s']);
});
