/**
 * The tests' and benches' private kubeconfig: `npm run bench` runs several benches in one process, each
 * making its own copy; removing one must leave $KUBECONFIG pointing at a file that exists (it once
 * pointed at the removed copy, and the next bench failed with ENOENT).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { privateKubeconfig } from './support/kube.ts';

test('a removed private kubeconfig gives $KUBECONFIG back, so the next copy is made from the stack\'s', () => {
  const before = process.env.KUBECONFIG;
  const first = privateKubeconfig();
  assert.equal(process.env.KUBECONFIG, first.file);
  first.remove();
  assert.equal(existsSync(first.file), false, 'the copy is gone');
  assert.equal(process.env.KUBECONFIG, before, '$KUBECONFIG is what it was');
  const second = privateKubeconfig();
  try {
    const config = new KubeConfig();
    config.loadFromFile(second.file);
    assert.ok(config.getContexts().length > 0, 'the second copy holds the stack\'s contexts');
  } finally {
    second.remove();
  }
  assert.equal(process.env.KUBECONFIG, before);
});
