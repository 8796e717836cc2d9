import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedHosts, controlAccess, hasToken, hostAllowed, refuseControl, sameOrigin } from '../../src/core/access.ts';

const token = 'a-long-enough-dashboard-token';

test('controls are off when read-only, even with a token; on with a token; on without one only with --no-auth', () => {
  assert.deepEqual(controlAccess({ readOnly: true, token, noAuth: false }), { enabled: false, reason: 'read-only dashboard (--read-only)' });
  assert.deepEqual(controlAccess({ readOnly: true, token: undefined, noAuth: true }).enabled, false);
  assert.deepEqual(controlAccess({ readOnly: false, token, noAuth: false }), { enabled: true, needsToken: true });
  assert.deepEqual(controlAccess({ readOnly: false, token: undefined, noAuth: true }), { enabled: true, needsToken: false });
  const off = controlAccess({ readOnly: false, token: undefined, noAuth: false });
  assert.equal(off.enabled, false);
  assert.match(off.enabled ? '' : off.reason, /UPSHIFT_DASHBOARD_TOKEN/);
});

test('the token must come as a Bearer header and match exactly', () => {
  assert.equal(hasToken(token, `Bearer ${token}`), true);
  assert.equal(hasToken(token, `Bearer ${token}x`), false);
  assert.equal(hasToken(token, `bearer ${token}`), false);
  assert.equal(hasToken(token, token), false);
  assert.equal(hasToken(token, undefined), false);
  assert.equal(hasToken(token, 'Bearer '), false);
});

test('a control is refused 403 when read-only or off, 401 without the right token, and let through otherwise', () => {
  assert.equal(refuseControl({ readOnly: true, token, noAuth: false }, `Bearer ${token}`)?.status, 403);
  assert.equal(refuseControl({ readOnly: false, token: undefined, noAuth: false }, undefined)?.status, 403);
  assert.equal(refuseControl({ readOnly: false, token, noAuth: false }, undefined)?.status, 401);
  assert.equal(refuseControl({ readOnly: false, token, noAuth: false }, 'Bearer wrong-token-of-some-length')?.status, 401);
  assert.equal(refuseControl({ readOnly: false, token, noAuth: false }, `Bearer ${token}`), undefined);
  assert.equal(refuseControl({ readOnly: false, token: undefined, noAuth: true }, undefined), undefined);
});

test('on loopback only loopback host names with the port are answered (DNS rebinding); elsewhere any', () => {
  const loopback = allowedHosts('127.0.0.1', 8090);
  assert.equal(hostAllowed(loopback, '127.0.0.1:8090'), true);
  assert.equal(hostAllowed(loopback, 'localhost:8090'), true);
  assert.equal(hostAllowed(loopback, 'LOCALHOST:8090'), true);
  assert.equal(hostAllowed(loopback, 'attacker.example:8090'), false);
  assert.equal(hostAllowed(loopback, '127.0.0.1:9999'), false);
  assert.equal(hostAllowed(loopback, undefined), false);
  assert.equal(hostAllowed(allowedHosts('0.0.0.0', 8090), 'upshift-dashboard.upshift.svc:8090'), true);
});

test('a state-changing request from another site is refused; the page itself and scripts without a browser are not', () => {
  assert.equal(sameOrigin({ host: '127.0.0.1:8090', origin: 'http://127.0.0.1:8090', secFetchSite: 'same-origin' }), true);
  assert.equal(sameOrigin({ host: '127.0.0.1:8090' }), true);
  assert.equal(sameOrigin({ host: '127.0.0.1:8090', origin: 'https://evil.example' }), false);
  assert.equal(sameOrigin({ host: '127.0.0.1:8090', origin: 'http://127.0.0.1:8090', secFetchSite: 'cross-site' }), false);
  assert.equal(sameOrigin({ host: '127.0.0.1:8090', origin: 'null' }), false);
});
