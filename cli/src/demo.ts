/**
 * `npm run demo` — the end-to-end demo. Not built yet: it needs the four functions (issues 6–8).
 * Until then it says so and exits non-zero rather than printing anything that looks like a result.
 */
process.stderr.write(
  'upshift demo: not built yet. The end-to-end demo needs plan, rollout, migrate-shard and verify (issues 6-8).\n' +
    'What exists today: the local stack (npm run stack:up) and the test suites (npm test).\n',
);
process.exitCode = 1;
