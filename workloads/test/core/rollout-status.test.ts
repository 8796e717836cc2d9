import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isAvailable, podReasons, rolloutStatus, type ObservedPod, type ObservedWorkload } from '../../src/core/rollout-status.ts';

const target = 'registry.local/shop/web:2.0.0';

function deployment(overrides: Partial<ObservedWorkload> = {}): ObservedWorkload {
  return {
    kind: 'Deployment', namespace: 'shop', name: 'web', generation: 2, observedGeneration: 2,
    desiredReplicas: 3, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3,
    conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }], image: target,
    ...overrides,
  };
}

function statefulSet(overrides: Partial<ObservedWorkload> = {}): ObservedWorkload {
  return {
    ...deployment({ kind: 'StatefulSet', name: 'db', conditions: [] }),
    currentRevision: 'db-2', updateRevision: 'db-2', ...overrides,
  };
}

const crashing: ObservedPod = { name: 'web-new-1', phase: 'Running', containerReasons: ['CrashLoopBackOff'], restarts: 4 };

const cases: Array<{ name: string; workload: ObservedWorkload; pods?: ObservedPod[]; phase: string; message: RegExp }> = [
  { name: 'a fully updated, available deployment is done', workload: deployment(), phase: 'Successful', message: /deployment shop\/web successfully rolled out/ },
  { name: 'the spec still has the old image', workload: deployment({ image: 'registry.local/shop/web:1.0.0' }), phase: 'Running', message: /not yet registry.local\/shop\/web:2.0.0/ },
  { name: 'the controller has not observed the new generation', workload: deployment({ generation: 3 }), phase: 'Running', message: /generation 3, observed 2/ },
  { name: 'too few replicas updated', workload: deployment({ updatedReplicas: 1 }), phase: 'Running', message: /1 of 3 new replicas have been updated/ },
  { name: 'old replicas still terminating', workload: deployment({ replicas: 4 }), phase: 'Running', message: /1 old replicas are pending termination/ },
  { name: 'updated replicas not yet available', workload: deployment({ availableReplicas: 2 }), phase: 'Running', message: /2 of 3 updated replicas are available/ },
  {
    name: 'ProgressDeadlineExceeded fails the rollout and names pod reasons',
    workload: deployment({ availableReplicas: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }),
    pods: [crashing, { name: 'web-new-2', phase: 'Failed', containerReasons: ['Error'], restarts: 0 }],
    phase: 'Failed',
    message: /exceeded its progress deadline: web-new-1: CrashLoopBackOff \(4 restarts\); web-new-2: pod Failed, Error$/,
  },
  {
    name: 'ProgressDeadlineExceeded with never-ready pods still fails, without pod reasons',
    workload: deployment({ availableReplicas: 0, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }),
    phase: 'Failed',
    message: /exceeded its progress deadline$/,
  },
  { name: 'a deployment scaled to zero is done once observed', workload: deployment({ desiredReplicas: 0, replicas: 0, updatedReplicas: 0, readyReplicas: 0, availableReplicas: 0 }), phase: 'Successful', message: /successfully rolled out/ },
  { name: 'a statefulset at its update revision with all pods ready is done', workload: statefulSet(), phase: 'Successful', message: /rolling update complete \(3 pods at revision db-2\)/ },
  { name: 'a statefulset never observed', workload: statefulSet({ observedGeneration: 0, generation: 0 }), phase: 'Running', message: /spec update to be observed/ },
  { name: 'a statefulset with pods not ready', workload: statefulSet({ readyReplicas: 1 }), phase: 'Running', message: /1 of 3 pods are ready/ },
  { name: 'a statefulset between revisions', workload: statefulSet({ currentRevision: 'db-1' }), phase: 'Running', message: /waiting for the rolling update to complete/ },
  { name: 'a partitioned statefulset waits for the pods above the partition', workload: statefulSet({ partition: 1, updatedReplicas: 1, currentRevision: 'db-1' }), phase: 'Running', message: /1 of 2 pods updated \(partition 1\)/ },
  { name: 'a partitioned statefulset is done when the pods above the partition are updated', workload: statefulSet({ partition: 1, updatedReplicas: 2, currentRevision: 'db-1' }), phase: 'Successful', message: /partitioned roll out complete/ },
  { name: 'a statefulset whose pods crash-loop fails', workload: statefulSet({ readyReplicas: 2 }), pods: [crashing], phase: 'Failed', message: /has pods that cannot start: web-new-1: CrashLoopBackOff/ },
];

for (const c of cases) {
  test(`rollout status: ${c.name}`, () => {
    const result = rolloutStatus(c.workload, target, c.pods ?? []);
    assert.equal(result.phase, c.phase, result.message);
    assert.match(result.message, c.message);
    if (result.phase === 'Running') assert.ok(result.recheckAfterMs > 0);
  });
}

test('pod reasons ignore healthy pods and unremarkable reasons', () => {
  assert.deepEqual(
    podReasons([
      { name: 'ok', phase: 'Running', containerReasons: [], restarts: 0 },
      { name: 'starting', phase: 'Pending', containerReasons: ['ContainerCreating'], restarts: 0 },
      { name: 'pull', phase: 'Pending', containerReasons: ['ImagePullBackOff', 'ImagePullBackOff'], restarts: 0 },
    ]),
    ['pull: ImagePullBackOff'],
  );
});

const availability: Array<{ name: string; workload: ObservedWorkload; available: boolean }> = [
  { name: 'a deployment done at the image of its spec is available', workload: deployment({ image: 'registry.local/shop/web:1.0.0' }), available: true },
  { name: 'a deployment whose new generation is not observed yet is not', workload: deployment({ generation: 3 }), available: false },
  { name: 'a deployment with an old replica left is not', workload: deployment({ replicas: 4 }), available: false },
  { name: 'a deployment past its progress deadline is not', workload: deployment({ conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }), available: false },
  { name: 'a workload without the container is not', workload: deployment({ image: undefined }), available: false },
];

for (const c of availability) {
  test(`availability: ${c.name}`, () => {
    assert.equal(isAvailable(c.workload), c.available);
  });
}
