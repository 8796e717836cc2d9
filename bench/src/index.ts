/**
 * `npm run bench` — runs every benchmark. Each prints its figures next to a baseline measured in the same
 * run. None is built yet; this says so instead of printing numbers.
 */
process.stderr.write('upshift bench: no benchmark is built yet (hop latency: issue 5; migrations: issue 7; orchestration: issue 8).\n');
process.exitCode = 1;
