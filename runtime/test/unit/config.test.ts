/** Start-up configuration: a missing or malformed variable stops the process, naming the variable. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { folderSetting, HostConfig, parseConfig } from '../../src/config.ts';
import { isUpshiftError } from '../../src/errors.ts';

const main = fileURLToPath(new URL('../../src/host/entry.ts', import.meta.url));
const expander = fileURLToPath(new URL('../functions/expander.ts', import.meta.url));

function start(env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [main, expander], {
    env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 30_000,
  });
  return { status: result.status, stderr: result.stderr };
}

test('start-up with a missing required variable exits non-zero naming it', { timeout: 40_000 }, () => {
  const { status, stderr } = start({ KAFKA_BROKERS: '127.0.0.1:1' });
  assert.notEqual(status, 0);
  assert.equal(status, 78);
  assert.match(stderr, /DATABASE_URL: required but not set/);
});

test('a malformed variable is named without echoing its value', () => {
  assert.throws(
    () => parseConfig(HostConfig, { DATABASE_URL: 'postgres://u:s3cret@db/x', KAFKA_BROKERS: 'no-port', PORT: 'eighty' }),
    (err: unknown) => isUpshiftError(err) && err.code === 'CONFIG_INVALID' && /KAFKA_BROKERS/.test(err.message)
      && /PORT/.test(err.message) && !/s3cret/.test(err.message),
  );
});

test('defaults apply and brokers are split', () => {
  const config = parseConfig(HostConfig, { DATABASE_URL: 'postgresql://db/x', KAFKA_BROKERS: 'a:1, b:2' });
  assert.deepEqual(config.KAFKA_BROKERS, ['a:1', 'b:2']);
  assert.equal(config.PORT, 8080);
  assert.equal(config.UPSHIFT_TOPIC_PREFIX, '');
});

test('a folder variable: unset is the caller\'s default, relative resolves against the working directory, a missing folder is named', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const Folders = HostConfig.pick({}).extend({ CATALOG: folderSetting(here) });
  const cases: { name: string; value: string | undefined; folder?: string; error?: RegExp }[] = [
    { name: 'unset: the default', value: undefined, folder: here },
    { name: 'relative: against the working directory', value: 'runtime/../runtime', folder: join(process.cwd(), 'runtime') },
    { name: 'absolute: as given', value: here, folder: here },
    { name: 'relative and missing: the variable, the value and the resolved path', value: 'no/such', error: new RegExp(`CATALOG: "no/such" resolved against ${process.cwd()}: ${join(process.cwd(), 'no/such')} does not exist`) },
    { name: 'absolute and missing', value: '/no/such/folder', error: /CATALOG: folder \/no\/such\/folder does not exist/ },
  ];
  for (const c of cases) {
    const env = c.value === undefined ? {} : { CATALOG: c.value };
    if (c.error) assert.throws(() => parseConfig(Folders, env), (err: unknown) => isUpshiftError(err) && c.error!.test(err.message), c.name);
    else assert.equal(parseConfig(Folders, env).CATALOG, c.folder, c.name);
  }
  const missingDefault = HostConfig.pick({}).extend({ CATALOG: folderSetting('/no/default') });
  assert.throws(() => parseConfig(missingDefault, {}), /CATALOG: not set, and the default folder \/no\/default does not exist/);
});
