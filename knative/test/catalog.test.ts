import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { catalogFiles, configMapKey } from '../src/catalog.ts';

test('the catalog ConfigMap carries migration files under safe keys and the transform modules they name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'upshift-knative-catalog-'));
  try {
    for (const name of ['orders-currency@1.yaml', 'customers-split@2.yml', 'customers-split.transform.mjs', 'README.md', 'notes.txt']) writeFileSync(join(dir, name), '');
    assert.deepEqual(catalogFiles(dir), [
      { key: 'customers-split.transform.mjs', fileName: 'customers-split.transform.mjs' },
      { key: 'customers-split.v2.yml', fileName: 'customers-split@2.yml' },
      { key: 'orders-currency.v1.yaml', fileName: 'orders-currency@1.yaml' },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => configMapKey('weird name@1.yaml'), /no valid ConfigMap key \(weird name\.v1\.yaml\)/);
});
