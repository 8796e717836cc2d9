/**
 * `npm run demo [-- --fail]`: the main job end to end on the local stack. Brings the stack up (building
 * what is missing), deploys the shop to both clusters at the previous versions, seeds PostgreSQL and
 * MongoDB, starts the four functions, publishes examples/policy.yaml, shows the live watch and ends with
 * a summary, the trace id and the Jaeger URL. The policy's migrations start after the services of their
 * `after:` lists: customers-profile right after the customers waves, orders-currency after the orders
 * waves. `--fail` gives orders a target image whose pods never become Ready: by then the customers are
 * migrated, so the failing orders wave rolls back their data (restored from the backups) and every image
 * (checksums before = after).
 * Re-runnable: workloads and data are reset, each run gets a fresh run id.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brokersFrom, parsePolicyYaml, type UpgradePolicy } from '@upshift/events';
import { redactCredentials } from '@upshift/runtime';
import { parseScale } from '@upshift/runtime/dev';
import { up, stackEnv } from '../../stack/src/stack.ts';
import { recordContext } from '../../stack/src/context.ts';
import { quietKafkajsTimerWarning } from './upshift.ts';
import { demoUsage as usage } from './demo/usage.ts';
import { line, linesSafe } from './escape.ts';
import { checksumOfDigests, customerDigests, customerDocument, demoData, ensureDatabase, ordersChecksum, seedCustomers, seedOrders, type CustomerDigests, type DataChecksum } from './demo/data.ts';
import { availableFunctions, freshDemoTopics, releaseUnfinishedRuns, startFunctions } from './demo/functions.ts';
import { demoSucceeded, renderSummary, type DemoReport } from './demo/summary.ts';
import { cliKafkaConfig, publishRequest } from './publish.ts';
import { startDemoDashboard, type DemoDashboard } from './dashboard.ts';
import { startCustomersWriter, type WriterReport } from './demo/writer.ts';
import { resetWorkloads, sampleAvailability, sampleWorkloads, type SampleWorkload } from './demo/workloads.ts';
import { followRun } from './watch/follow.ts';
import { restoreTotals } from './watch/render.ts';
import { measuredDuration } from './demo/summary.ts';
import type { RunView } from './watch/state.ts';

const policyFile = fileURLToPath(new URL('../../examples/policy.yaml', import.meta.url));

const say = (text: string): void => void process.stdout.write(line(text));
/** How often the demo's application writes to the customers while the run goes on. */
const appWritesPerSecond = 50;

async function timed<T>(timings: Record<string, number>, label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  process.stdout.write(`- ${label} ... `);
  const result = await work();
  timings[label] = Date.now() - started;
  say(`done in ${measuredDuration(timings[label])}`);
  return result;
}

/**
 * The demo's soak per wave: examples/policy.yaml soaks 30 s, as a production rollout would; the demo's six
 * waves would spend three minutes just waiting, so it soaks this long unless `--soak` says otherwise.
 */
export const demoSoakSeconds = 3;

/** The demo policy: the example policy with orders' image tagged -fail for `--fail` and the demo's short soak (or `--soak`). */
export function demoPolicy(fail: boolean, soakSeconds: number | undefined = demoSoakSeconds): UpgradePolicy {
  const parsed = parsePolicyYaml(readFileSync(policyFile, 'utf8'));
  if (!parsed.ok) throw new Error(`examples/policy.yaml is invalid: ${parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const policy = parsed.policy;
  const services = policy.spec.services.map((s) => (fail && s.name === 'orders' ? { ...s, image: `${s.image}-fail` } : s));
  const strategy = { ...policy.spec.strategy, soakSeconds };
  return { ...policy, spec: { ...policy.spec, services, strategy } };
}

interface Setup { env: Record<string, string>; shopUrl: string; mongoUrl: string }

async function prepare(policy: UpgradePolicy, workloads: SampleWorkload[], sizes: { rows: number; documents: number }, timings: Record<string, number>): Promise<Setup> {
  await timed(timings, 'stack up', () => up());
  const env = { ...stackEnv() };
  Object.assign(process.env, env);
  const adminUrl = env.POSTGRES_ADMIN_URL ?? '';
  const mongoUrl = env.MONGODB_URL ?? '';
  const released = await releaseUnfinishedRuns(env.DATABASE_URL ?? '', policy.metadata.name);
  if (released.length > 0) say(`- ended ${released.length} unfinished demo run(s) of an earlier, interrupted demo: ${released.join(', ')}`);
  await timed(timings, `deploy ${workloads.length} workloads (previous versions)`, () => resetWorkloads(workloads));
  const shopUrl = await ensureDatabase(adminUrl, demoData.postgresDatabase);
  await timed(timings, `seed ${sizes.rows} orders (PostgreSQL)`, () => seedOrders(shopUrl, sizes.rows));
  await timed(timings, `seed ${sizes.documents} customers (MongoDB)`, () => seedCustomers(mongoUrl, sizes.documents));
  recordStores(shopUrl, mongoUrl);
  return { env: { ...env, SHOP_DATABASE_URL: shopUrl, CRM_MONGODB_URL: mongoUrl }, shopUrl, mongoUrl };
}

/** Adds the demo's store URLs to the context file, so `upshift backups list` and `validate --connect` find them afterwards. */
function recordStores(shopUrl: string, mongoUrl: string): void {
  try {
    recordContext({ SHOP_DATABASE_URL: shopUrl, CRM_MONGODB_URL: mongoUrl });
  } catch (error) {
    say(`! could not record the demo's stores in the context file: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function checksums(setup: Setup): Promise<{ orders: DataChecksum; customers: CustomerDigests }> {
  return { orders: await ordersChecksum(setup.shopUrl), customers: await customerDigests(setup.mongoUrl) };
}

/** The customers' checksums, whole and without the documents the application wrote. */
function customersData(before: CustomerDigests, after: CustomerDigests, writes: WriterReport): DemoReport['data'][number] {
  const touched = new Set([...writes.touched].map((id) => JSON.stringify(id)));
  return {
    label: 'MongoDB crm.customers', migration: 'customers-profile@1', before: checksumOfDigests(before), after: checksumOfDigests(after),
    untouched: { before: checksumOfDigests(before, touched), after: checksumOfDigests(after, touched) },
  };
}

async function runAndWatch(policy: UpgradePolicy, setup: Setup, prefix: string, expected: Record<string, number>, dashboard: DemoDashboard): Promise<{ view: RunView; traceId: string | undefined }> {
  const brokers = brokersFrom(setup.env.KAFKA_BROKERS);
  const published = await publishRequest(cliKafkaConfig(brokers, 'upshift-demo'), policy, { topicPrefix: prefix, requestedBy: 'npm run demo' });
  say(`- published upgrade.requested: run ${published.runId}, trace ${published.traceId} (topics ${prefix}*)`);
  say(`  follow it from another terminal too: node cli/bin/upshift.js watch ${published.runId} --topic-prefix ${prefix}`);
  say(`  dashboard  ${dashboard.pageOf(published.runId)}`);
  if (published.traceId && setup.env.JAEGER_QUERY_URL) say(`  jaeger     ${setup.env.JAEGER_QUERY_URL}/trace/${published.traceId}`);
  const tty = process.stdout.isTTY === true;
  const view = await followRun({
    runId: published.runId, brokers, topicPrefix: prefix, databaseUrl: setup.env.DATABASE_URL ?? '', mode: tty ? 'tty' : 'lines',
    write: (text) => process.stdout.write(text), expectedRows: expected, timeoutMs: 60 * 60_000,
    ...(setup.env.JAEGER_QUERY_URL ? { jaegerUrl: setup.env.JAEGER_QUERY_URL } : {}),
  });
  return { view, traceId: published.traceId ?? view.traceId };
}

async function images(workloads: SampleWorkload[]): Promise<DemoReport['images']> {
  return Promise.all(workloads.map(async (w) => {
    const now = await sampleAvailability(w).catch(() => ({ image: undefined, available: false }));
    return { cluster: w.cluster, name: w.name, before: w.image, now: now.image, available: now.available };
  }));
}

function parseOptions(args: string[]): { fail: boolean; rows: number; documents: number; soak: number | undefined; scale: string | undefined } | undefined {
  const { values } = parseArgs({ args, options: { fail: { type: 'boolean', default: false }, rows: { type: 'string', default: '200000' }, documents: { type: 'string', default: '10000' }, soak: { type: 'string' }, scale: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) return undefined;
  const soak = values.soak === undefined ? undefined : Number(values.soak);
  const scale = values.scale === undefined ? undefined : parseScale(values.scale);
  if (scale && 'problem' in scale) throw new Error(`--scale: ${scale.problem}`);
  return { fail: values.fail, rows: Number(values.rows), documents: Number(values.documents), soak, scale: values.scale };
}

/** Runs the demo; returns the exit code (0 when the run ended as the demo expects). */
export async function runDemoMain(args: string[]): Promise<number> {
  const wallStarted = Date.now();
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(args);
  } catch (error) {
    process.stderr.write(`upshift demo: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (!options) { process.stdout.write(usage); return 0; }
  const policy = demoPolicy(options.fail, options.soak);
  const workloads = sampleWorkloads(policy);
  const timings: Record<string, number> = {};
  say(`upshift demo${options.fail ? ' --fail (orders gets an image whose pods never become Ready: the customers, migrated after the customers waves, are restored)' : ''}`);
  const { missing } = availableFunctions();
  if (missing.length > 0) say(`! not built yet, the run cannot finish without them: ${missing.join(', ')}`);
  const setup = await prepare(policy, workloads, options, timings);
  const before = await timed(timings, 'checksums before', () => checksums(setup));
  const prefix = await freshDemoTopics(brokersFrom(setup.env.KAFKA_BROKERS));
  // --scale reaches runDev as UPSHIFT_DEV_SCALE (startFunctions passes setup.env on).
  if (options.scale !== undefined) setup.env.UPSHIFT_DEV_SCALE = options.scale;
  const dev = await timed(timings, 'start functions', () => startFunctions(setup.env, prefix));
  const dashboard = await timed(timings, 'start the dashboard', () => startDemoDashboard(setup.env, prefix));
  say(`- an application writes to the customers throughout the run (${appWritesPerSecond}/s: email, and phone where the document's version keeps it)`);
  const app = startCustomersWriter({ url: setup.mongoUrl, perSecond: appWritesPerSecond, pickId: () => customerDocument(1 + Math.floor(Math.random() * options.documents))._id as string });
  let result: { view: RunView; traceId: string | undefined };
  const runStarted = Date.now();
  const interrupted = (): void => {
    process.stderr.write('\nupshift demo: interrupted; stopping the functions (the next demo ends this run)\n');
    Promise.all([dev.stop(), dashboard.close()]).catch(() => undefined).finally(() => process.exit(130)).catch(() => undefined);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    result = await runAndWatch(policy, setup, prefix, { 'orders-currency@1': options.rows, 'customers-profile@1': options.documents }, dashboard);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await dev.stop();
    await dashboard.close();
  }
  timings['upgrade run'] = Date.now() - runStarted;
  const writes = await app.stop();
  const after = await timed(timings, 'checksums after', () => checksums(setup));
  timings['demo in all (wall clock)'] = Date.now() - wallStarted;
  const conflicts = result.view.migrations.reduce((sum, m) => sum + restoreTotals(m).conflicts, 0);
  const report: DemoReport = {
    view: result.view, fail: options.fail, images: await images(workloads), timings, traceId: result.traceId, jaegerUrl: setup.env.JAEGER_QUERY_URL,
    data: [
      { label: `PostgreSQL shop.orders`, migration: 'orders-currency@1', before: before.orders, after: after.orders },
      customersData(before.customers, after.customers, writes),
    ],
    writes: { written: writes.written, kept: writes.kept, lost: writes.lost.length, conflicts },
  };
  for (const write of writes.lost.slice(0, 10)) say(`! lost: ${JSON.stringify(write)}`);
  process.stdout.write(renderSummary(report));
  return demoSucceeded(report) ? 0 : 1;
}

if (import.meta.main) {
  quietKafkajsTimerWarning();
  process.exitCode = await runDemoMain(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`\nupshift demo: ${linesSafe(redactCredentials(error instanceof Error ? error.stack ?? error.message : String(error)))}\n`);
    return 1;
  });
}
