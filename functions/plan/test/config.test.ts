/** plan's UPSHIFT_NAMESPACES: unset means no limit; set, it is a list of namespace names, or start-up fails naming it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUpshiftError, parseConfig } from '@upshift/runtime';
import { PlanConfig } from '../src/config.ts';

const base = { DATABASE_URL: 'postgres://db/upshift', KAFKA_BROKERS: 'kafka:9092' };

test('UPSHIFT_NAMESPACES unset: no limit', () => {
  assert.equal(parseConfig(PlanConfig, base).UPSHIFT_NAMESPACES, undefined);
});

test('UPSHIFT_NAMESPACES is split on commas and trimmed', () => {
  assert.deepEqual(parseConfig(PlanConfig, { ...base, UPSHIFT_NAMESPACES: 'shop, payments,' }).UPSHIFT_NAMESPACES, ['shop', 'payments']);
});

for (const [value, reason] of [['', /at least one namespace/], ['shop,Payments', /UPSHIFT_NAMESPACES/], ['shop,shop', /names a namespace twice/]] as const) {
  test(`UPSHIFT_NAMESPACES=${JSON.stringify(value)} stops start-up naming the variable`, () => {
    assert.throws(() => parseConfig(PlanConfig, { ...base, UPSHIFT_NAMESPACES: value }), (error: unknown) =>
      isUpshiftError(error) && error.code === 'CONFIG_INVALID' && /UPSHIFT_NAMESPACES/.test(error.message) && reason.test(error.message));
  });
}
