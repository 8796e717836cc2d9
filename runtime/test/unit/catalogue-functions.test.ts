/** Where `upshift dev` finds functions: the catalogue's names, each resolved as the package `@upshift/fn-<name>`. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { FunctionName } from '@upshift/events';
import { catalogueFunctions, functionPackage, locateFunction } from '@upshift/runtime/dev';

const existingModule = new URL('../functions/recorder.ts', import.meta.url).href;
const notFound = (specifier: string): never => {
  throw Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });
};

test('every function of the catalogue is found in this repository by its package name, at ports 8081 on in catalogue order', () => {
  const { present, missing } = catalogueFunctions();
  assert.deepEqual(missing, []);
  assert.deepEqual(present.map((fn) => [fn.name, fn.port]), FunctionName.options.map((name, index) => [name, 8081 + index]));
  for (const fn of present) assert.equal(pathToFileURL(fn.module).href, import.meta.resolve(functionPackage(fn.name)));
});

const cases: { name: string; resolve: (specifier: string) => string; found: boolean }[] = [
  { name: 'a package that resolves to an existing module is found', resolve: () => existingModule, found: true },
  { name: 'a package that is not installed is missing', resolve: notFound, found: false },
  { name: 'a package whose module is not built yet is missing', resolve: () => new URL('../functions/not-built.ts', import.meta.url).href, found: false },
];
for (const { name, resolve, found } of cases) {
  test(name, () => {
    assert.equal(locateFunction('plan', resolve) !== undefined, found);
    const { present, missing } = catalogueFunctions(resolve);
    assert.equal(present.length, found ? FunctionName.options.length : 0);
    assert.equal(missing.length, found ? 0 : FunctionName.options.length);
  });
}

test('a resolver failing for another reason than a missing package is not taken for a missing function', () => {
  assert.throws(() => locateFunction('plan', () => { throw new TypeError('broken resolver'); }), /broken resolver/);
});

test('every package name follows one rule', () => {
  assert.deepEqual(FunctionName.options.map(functionPackage), ['@upshift/fn-plan', '@upshift/fn-rollout', '@upshift/fn-migrate-shard', '@upshift/fn-verify']);
});
