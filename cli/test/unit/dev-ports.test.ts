import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePorts, readyText } from '../../src/dev.ts';

/** A fake machine: `used` ports are taken, free ports are handed out from 40000 on. */
function machine(used: number[]) {
  let next = 40_000;
  return { isFree: async (port: number) => !used.includes(port), anyFree: async () => next++ };
}

const cases: { name: string; base: number; used: number[]; ports: { port: number; inUse?: number }[] }[] = [
  { name: 'all free: the base and the ports after it', base: 8081, used: [], ports: [{ port: 8081 }, { port: 8082 }, { port: 8083 }, { port: 8084 }] },
  { name: 'one in use (another upshift dev, say): only that one moves, and says so', base: 8081, used: [8083], ports: [{ port: 8081 }, { port: 8082 }, { port: 40_000, inUse: 8083 }, { port: 8084 }] },
  { name: 'all in use: free ports for all', base: 8081, used: [8081, 8082, 8083, 8084], ports: [{ port: 40_000, inUse: 8081 }, { port: 40_001, inUse: 8082 }, { port: 40_002, inUse: 8083 }, { port: 40_003, inUse: 8084 }] },
  { name: 'base 0: free ports, nothing to report', base: 0, used: [], ports: [{ port: 40_000 }, { port: 40_001 }, { port: 40_002 }, { port: 40_003 }] },
];

for (const c of cases) {
  test(`dev ports: ${c.name}`, async () => {
    const { isFree, anyFree } = machine(c.used);
    assert.deepEqual(await choosePorts(c.base, 4, isFree, anyFree), c.ports);
  });
}

test('dev ports: a free port handed out twice is not given to two functions', async () => {
  const handed = [40_000, 40_000, 40_001];
  assert.deepEqual(await choosePorts(0, 2, async () => true, async () => handed.shift() ?? 0), [{ port: 40_000 }, { port: 40_001 }]);
});

test('dev ready text: every function with its URL, a moved port says which one was in use', () => {
  const text = readyText([{ name: 'plan', url: 'http://127.0.0.1:8081/' }, { name: 'migrate-shard', url: 'http://127.0.0.1:40000/', inUse: 8083 }], 'dev-a.', 3.24);
  assert.equal(text, [
    'upshift dev: 2 functions ready in 3.2s, dispatching topics dev-a.*',
    '  plan           http://127.0.0.1:8081/',
    '  migrate-shard  http://127.0.0.1:40000/  (8083 is in use)',
    'Ctrl-C stops them.',
    '',
  ].join('\n'));
  assert.match(readyText([], '', 1), /dispatching unprefixed topics/);
});
