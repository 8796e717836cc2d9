import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeWaves, type ServiceNode, type WaveItem } from '../../src/core/waves.ts';

const both = ['a', 'b'];
const svc = (name: string, dependsOn: string[] = [], clusters = both): ServiceNode => ({ name, clusters, dependsOn });
const fmt = (waves: WaveItem[][]) => waves.map((wave) => wave.map((i) => `${i.service}@${i.cluster}`).join(' '));

const cases: Array<{ name: string; services: ServiceNode[]; clusterOrder: string[]; max: number; expected: string[] }> = [
  {
    name: 'independent services roll out together, canary cluster first',
    services: [svc('web'), svc('api')],
    clusterOrder: ['a', 'b'],
    max: 5,
    expected: ['api@a web@a', 'api@b web@b'],
  },
  {
    name: 'a chain rolls out one level at a time, each level canary first',
    services: [svc('web', ['api']), svc('api', ['db']), svc('db')],
    clusterOrder: ['a', 'b'],
    max: 5,
    expected: ['db@a', 'db@b', 'api@a', 'api@b', 'web@a', 'web@b'],
  },
  {
    name: 'a diamond puts both middle services in one level',
    services: [svc('top', ['left', 'right']), svc('left', ['base']), svc('right', ['base']), svc('base')],
    clusterOrder: ['a', 'b'],
    max: 5,
    expected: ['base@a', 'base@b', 'left@a right@a', 'left@b right@b', 'top@a', 'top@b'],
  },
  {
    name: 'max parallel services splits a level into groups',
    services: [svc('s1'), svc('s2'), svc('s3')],
    clusterOrder: ['a', 'b'],
    max: 2,
    expected: ['s1@a s2@a', 's1@b s2@b', 's3@a', 's3@b'],
  },
  {
    name: 'cluster order decides the canary, whatever order clusters are listed in',
    services: [svc('web')],
    clusterOrder: ['b', 'a'],
    max: 1,
    expected: ['web@b', 'web@a'],
  },
  {
    name: 'many clusters, and a service absent from a cluster skips it',
    services: [svc('web', [], ['c1', 'c2', 'c3']), svc('batch', [], ['c3'])],
    clusterOrder: ['c2', 'c1', 'c3'],
    max: 5,
    expected: ['web@c2', 'web@c1', 'batch@c3 web@c3'],
  },
  {
    name: 'clusters missing from the order follow in the order they appear',
    services: [svc('web', [], ['x', 'y', 'z'])],
    clusterOrder: ['y'],
    max: 5,
    expected: ['web@y', 'web@x', 'web@z'],
  },
  {
    name: 'a max parallel below 1 still makes progress one service at a time',
    services: [svc('s1'), svc('s2')],
    clusterOrder: ['a'],
    max: 0,
    expected: ['s1@a', 's1@b', 's2@a', 's2@b'],
  },
];

for (const c of cases) {
  test(`waves: ${c.name}`, () => {
    const plan = computeWaves({ services: c.services, clusterOrder: c.clusterOrder, maxParallelServices: c.max });
    assert.ok(plan.ok, JSON.stringify(plan));
    assert.deepEqual(fmt(plan.waves), c.expected);
  });
}

test('waves: a cycle is rejected naming it', () => {
  const plan = computeWaves({
    services: [svc('a', ['c']), svc('b', ['a']), svc('c', ['b']), svc('free')],
    clusterOrder: ['a'],
    maxParallelServices: 3,
  });
  assert.equal(plan.ok, false);
  assert.ok(!plan.ok && plan.reason === 'cycle');
  assert.deepEqual(plan.cycle, ['a', 'c', 'b', 'a']);
  assert.equal(plan.message, 'dependency cycle: a → c → b → a');
});

test('waves: a self-dependency is a cycle of one', () => {
  const plan = computeWaves({ services: [svc('loop', ['loop'])], clusterOrder: [], maxParallelServices: 1 });
  assert.ok(!plan.ok && plan.reason === 'cycle');
  assert.deepEqual(plan.cycle, ['loop', 'loop']);
});

test('waves: a dependency on an unknown service is named', () => {
  const plan = computeWaves({ services: [svc('web', ['ghost'])], clusterOrder: [], maxParallelServices: 1 });
  assert.ok(!plan.ok && plan.reason === 'unknown-dependency');
  assert.equal(plan.message, 'service web depends on ghost, which is not a service of this policy');
});

test('waves: every (service, cluster) appears exactly once and after all its dependencies everywhere', () => {
  const services = [svc('e', ['c', 'd']), svc('d', ['b']), svc('c', ['a', 'b']), svc('b'), svc('a'), svc('f', ['a'])];
  const plan = computeWaves({ services, clusterOrder: ['b', 'a'], maxParallelServices: 2 });
  assert.ok(plan.ok);
  const position = new Map<string, number>();
  plan.waves.forEach((wave, index) => wave.forEach((i) => position.set(`${i.service}@${i.cluster}`, index)));
  assert.equal(position.size, services.length * 2);
  assert.equal(plan.waves.flat().length, services.length * 2);
  for (const service of services) {
    for (const cluster of both) {
      for (const dependency of service.dependsOn) {
        for (const depCluster of both) {
          assert.ok(
            (position.get(`${dependency}@${depCluster}`) ?? Infinity) < (position.get(`${service.name}@${cluster}`) ?? -1),
            `${dependency}@${depCluster} before ${service.name}@${cluster}`,
          );
        }
      }
    }
  }
});
