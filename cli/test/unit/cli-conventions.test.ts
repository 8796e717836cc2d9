/**
 * The CLI's kubectl-style conventions, by running the bin: --version, --help on every command and
 * subcommand (stdout, exit 0), unknown flags and bare group commands rejected (stderr, exit 2), offline
 * validation (validate, request --dry-run, stdin), colour rules, and completion scripts generated from
 * the command table. No stack needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { commands } from '../../src/commands.ts';
import { flagsOf } from '../../src/completion.ts';
import { colourEnabled, terminalRedraws } from '../../src/colour.ts';
import { displayModeFor } from '../../src/watch.ts';
import { upshiftInProcess } from '../support/in-process.ts';
import { examplePolicy, upshift, writePolicy } from '../support/run.ts';

const bin = new URL('../../bin/upshift.js', import.meta.url).pathname;
const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** `dev` belongs to the dev command's own tests (its flags are made strict there); `demo` runs as a child process (checked through the bin). */
const strictCommands = commands.filter((c) => c.name !== 'dev' && c.name !== 'demo');
const noColour = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm-256color' };

test('--version and version print the package version (exit 0)', async () => {
  for (const args of [['--version'], ['version']]) {
    const { code, stdout } = await upshift(args);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^upshift ${version.replaceAll('.', '\\.')} \\(node v24\\.`));
  }
  assert.equal((await upshift(['version', '--short'])).stdout, `${version}\n`);
});

/** Runs each argv in this process, one after the other. */
async function inProcess<T extends { args: string[] }>(runs: readonly T[]) {
  const results = [];
  for (const run of runs) results.push({ ...run, outcome: await upshiftInProcess(run.args) });
  return results;
}

test('--help of every command and subcommand goes to stdout with exit 0, and help <command> prints the same', async () => {
  const runs = commands.filter((c) => c.name !== 'demo').flatMap((c) => [
    { args: [c.name, '--help'], usage: c.usage },
    ...Object.entries(c.subcommands ?? {}).map(([sub, usage]) => ({ args: [c.name, sub, '--help'], usage })),
  ]);
  const demo = commands.find((c) => c.name === 'demo');
  const spawned = await Promise.all([['status', '--help'], ['backups', 'drop', '--help'], ['demo', '--help']].map(async (args) => ({ args, usage: commands.find((c) => c.name === args[0])?.subcommands?.[args[1] ?? ''] ?? commands.find((c) => c.name === args[0])?.usage ?? '', outcome: await upshift(args) })));
  assert.equal(spawned[2]?.usage, demo?.usage);
  for (const { args, usage, outcome } of [...await inProcess(runs), ...spawned]) {
    assert.equal(outcome.code, 0, `${args.join(' ')}: ${outcome.stderr}`);
    assert.equal(outcome.stdout, usage, args.join(' '));
    assert.equal(outcome.stderr, '', args.join(' '));
  }
  const help = await upshiftInProcess(['help', 'status']);
  assert.deepEqual([help.code, help.stdout], [0, commands.find((c) => c.name === 'status')?.usage]);
  const overview = await upshiftInProcess(['--help']);
  for (const c of commands) assert.match(overview.stdout, new RegExp(`^ {2}${c.name} +\\S`, 'm'), `--help lists ${c.name}`);
});

test('an unknown flag is rejected by every command and subcommand with exit 2 on stderr', async () => {
  const runs = strictCommands.flatMap((c) => (c.subcommands ? Object.keys(c.subcommands).map((sub) => [c.name, sub, '--bogus']) : [[c.name, '--bogus']]));
  const spawned = await Promise.all([['status', '--bogus'], ['demo', '--bogus'], ['catalog', 'lint', 'examples/catalog', '--bogus']].map(async (args) => ({ args, outcome: await upshift(args) })));
  for (const { args, outcome } of [...await inProcess(runs.map((args) => ({ args }))), ...spawned]) {
    assert.equal(outcome.code, 2, `${args.join(' ')}: ${outcome.stdout}${outcome.stderr}`);
    assert.match(outcome.stderr, /--bogus/, args.join(' '));
    assert.equal(outcome.stdout, '', args.join(' '));
  }
  const unknownGlobal = await upshiftInProcess(['--bogus']);
  assert.deepEqual([unknownGlobal.code, /unknown option "--bogus"/.test(unknownGlobal.stderr)], [2, true]);
});

test('a bare group command (catalog, backups, completion) is a usage error: exit 2, usage on stderr', async () => {
  for (const name of ['catalog', 'backups', 'completion']) {
    const { code, stdout, stderr } = name === 'catalog' ? await upshift([name]) : await upshiftInProcess([name]);
    assert.equal(code, 2, name);
    assert.equal(stdout, '', name);
    assert.match(stderr, new RegExp(`Usage: upshift ${name}`), name);
  }
});

test('validate and request --dry-run check a policy offline with request\'s messages: exit 0 valid, 2 invalid; - reads stdin', async () => {
  const valid = await upshift(['validate', examplePolicy]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(valid.stdout, /policy\.yaml: valid UpgradePolicy shop-2026-11 \(3 services, 2 clusters, 2 migrations\)/);
  const broken = writePolicy(readFileSync(examplePolicy, 'utf8').replace('dependsOn: [customers]', 'dependsOn: [storefront]'));
  const invalid = await upshift(['validate', broken]);
  const viaRequest = await upshift(['request', broken, '--dry-run'], { ...process.env, KAFKA_BROKERS: '' });
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /invalid UpgradePolicy \(1 problem\)\n {2}spec\.services\[1\]\.dependsOn: dependency cycle/);
  assert.deepEqual([viaRequest.code, viaRequest.stderr, viaRequest.stdout], [2, invalid.stderr, ''], 'request --dry-run says exactly what validate says, and publishes nothing');
  const dryValid = await upshift(['request', examplePolicy, '--dry-run'], { ...process.env, KAFKA_BROKERS: '' });
  assert.equal(dryValid.code, 0, 'no brokers needed: nothing is published');
  const stdin = spawnSync(process.execPath, [bin, 'validate', '-'], { input: readFileSync(broken), encoding: 'utf8' });
  assert.equal(stdin.status, 2);
  assert.match(stdin.stderr, /^\(stdin\): invalid UpgradePolicy/);
  const stdinValid = spawnSync(process.execPath, [bin, 'request', '-', '--dry-run'], { input: readFileSync(examplePolicy), encoding: 'utf8' });
  assert.deepEqual([stdinValid.status, /^\(stdin\): valid/.test(stdinValid.stdout)], [0, true]);
});

test('colour: on with FORCE_COLOR, off with NO_COLOR, TERM=dumb, or a pipe; watch does not redraw on TERM=dumb', async () => {
  const forced = await upshift(['validate', examplePolicy], { ...noColour, FORCE_COLOR: '1' });
  assert.ok(forced.stdout.includes('\u001b[32mvalid\u001b[39m'), forced.stdout);
  for (const env of [{ ...noColour, FORCE_COLOR: '1', NO_COLOR: '1' }, { ...noColour, FORCE_COLOR: '1', TERM: 'dumb' }, noColour]) {
    const plain = await upshift(['validate', examplePolicy], env);
    assert.ok(!plain.stdout.includes('\u001b'), JSON.stringify({ NO_COLOR: env.NO_COLOR, TERM: env.TERM, FORCE_COLOR: env.FORCE_COLOR }));
  }
  assert.equal(colourEnabled({}, true), true);
  assert.equal(colourEnabled({ NO_COLOR: '1' }, true), false);
  assert.equal(colourEnabled({ TERM: 'dumb' }, true), false);
  assert.equal(terminalRedraws({ TERM: 'dumb' }, true), false);
  assert.deepEqual([displayModeFor(false, true, { TERM: 'dumb' }), displayModeFor(false, true, { TERM: 'xterm' }), displayModeFor(true, true, {})], ['lines', 'tty', 'json']);
});

test('completion bash|zsh cover every command, subcommand and flag of the table; bash -n accepts the script', async () => {
  const bash = await upshift(['completion', 'bash']);
  const zsh = await upshiftInProcess(['completion', 'zsh']);
  assert.deepEqual([bash.code, zsh.code], [0, 0]);
  for (const c of commands) {
    for (const script of [bash.stdout, zsh.stdout]) {
      assert.ok(script.includes(c.name), `${c.name} in the script`);
      for (const flag of flagsOf(c.subcommands ? Object.values(c.subcommands).join('\n') : c.usage)) assert.ok(script.includes(flag), `${c.name} ${flag}`);
    }
  }
  assert.ok(flagsOf(commands.find((c) => c.name === 'status')?.usage ?? '').includes('-o'), 'short flags too');
  assert.match(bash.stdout, /complete -o default -F _upshift upshift/);
  assert.match(zsh.stdout, /^#compdef upshift/);
  const syntax = spawnSync('bash', ['-n'], { input: bash.stdout, encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  const completes = spawnSync('bash', ['-c', `${bash.stdout}\nCOMP_WORDS=(upshift status --o); COMP_CWORD=2; _upshift; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
  assert.equal(completes.stdout.trim(), '--output', completes.stderr);
  const bad = await upshiftInProcess(['completion', 'fish']);
  assert.equal(bad.code, 2);
});
