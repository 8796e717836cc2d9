import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubernetesWrapperGoMod } from '../src/components/kubernetes/build.ts';
import { kubernetesVersionLdflags } from '../src/go.ts';
import { allClusters } from '../src/components/kubernetes/layout.ts';

const upstreamGoMod = `module k8s.io/kubernetes

go 1.26.0

godebug default=go1.26

require (
	k8s.io/api v0.0.0
	github.com/google/go-cmp v0.7.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/cri-streaming => ./staging/src/k8s.io/cri-streaming
)
`;

test('the wrapper go.mod pins every staging module to its published v0 twin and keeps go/godebug', () => {
  const goMod = kubernetesWrapperGoMod(upstreamGoMod, 'v1.36.3');
  assert.match(goMod, /^go 1\.26\.0$/m);
  assert.match(goMod, /^godebug default=go1\.26$/m);
  assert.match(goMod, /^require k8s\.io\/kubernetes v1\.36\.3$/m);
  for (const mod of ['k8s.io/api', 'k8s.io/client-go', 'k8s.io/cri-streaming']) {
    assert.ok(goMod.includes(`\t${mod} => ${mod} v0.36.3\n`), mod);
  }
  assert.ok(!goMod.includes('./staging'));
});

test('a go.mod without staging replaces is refused', () => {
  assert.throws(() => kubernetesWrapperGoMod('module x\n\ngo 1.26.0\n', 'v1.36.3'), /no staging replace lines/);
});

test('version ldflags stamp client-go and component-base', () => {
  const flags = kubernetesVersionLdflags('v1.35.4');
  assert.match(flags, /-X k8s\.io\/client-go\/pkg\/version\.gitVersion=v1\.35\.4/);
  assert.match(flags, /-X k8s\.io\/component-base\/version\.gitMinor=35/);
});

test('the two clusters use distinct loopback ports', () => {
  const used = allClusters().flatMap((cluster) => Object.values(cluster.ports));
  assert.equal(new Set(used).size, used.length);
  assert.deepEqual(allClusters().map((cluster) => cluster.name), ['upshift-a', 'upshift-b']);
});
