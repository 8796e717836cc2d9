/**
 * Plan benchmark (issue 18, item 4). Offline: plan's pure core (waves, plan, preflight verdicts, the
 * batching of reads, the planned-event check) for 1,000 services × 10 clusters, against a JSON round
 * trip of the plan it builds (the floor of any work proportional to the plan). On the stack's kwok
 * clusters: 1,000 services × 2 clusters in 10 namespaces planned through plan's handler (validate,
 * preflight, plan, claim, persist, emit), against the bare client-node lists of those Deployments (one
 * call per namespace) and against the reads preflight made before (a get and two access reviews per
 * workload, one after the other), all measured in this run.
 * Sizes: BENCH_PLAN_SERVICES (1000), BENCH_PLAN_NAMESPACES (10), BENCH_PLAN_OFFLINE_CLUSTERS (10),
 * BENCH_PLAN_ROUNDS (3); BENCH_PLAN_BEFORE=0 skips the per-workload baseline (the slowest part).
 */
import pLimit from 'p-limit';
import { isEventOf, parsePolicy, uuidv7, type UpgradePolicy } from '@upshift/events';
import { abandonRunsOf } from '@upshift/runtime';
import { ClusterRegistry } from '@upshift/workloads';
import { namespaceQuestions, namespaceReads } from '@upshift/workloads/core';
import fn from '../../functions/plan/src/index.ts';
import { preflight } from '../../functions/plan/src/adapters/preflight.ts';
import { buildPlan, runTargets } from '../../functions/plan/src/core/plan.ts';
import { plannedEventProblem } from '../../functions/plan/src/core/planned-size.ts';
import { preflightProblems, type WorkloadSeen } from '../../functions/plan/src/core/preflight.ts';
import { upgradeRequestedIn, type ServiceSpec } from '../../functions/plan/test/support.ts';
import { startFunction, useStackKubeconfig } from '../../test/support/handler.ts';
import { clusterNames, deployment, freshNamespace, kube } from '../../test/support/kube.ts';

const services = Number(process.env.BENCH_PLAN_SERVICES ?? 1000);
const namespaceCount = Number(process.env.BENCH_PLAN_NAMESPACES ?? 10);
const offlineClusters = Number(process.env.BENCH_PLAN_OFFLINE_CLUSTERS ?? 10);
const rounds = Number(process.env.BENCH_PLAN_ROUNDS ?? 3);
const before = process.env.BENCH_PLAN_BEFORE !== '0';

const print = (line: string) => process.stdout.write(`${line}\n`);
const ms = (value: number) => `${value.toFixed(1).padStart(8)} ms`;
const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;

/** The median time of `work` over `times` runs (`between` runs after each, untimed). */
async function median(work: () => Promise<unknown> | unknown, times = rounds, between?: () => Promise<unknown>): Promise<number> {
  const spent: number[] = [];
  for (let i = 0; i < times; i += 1) {
    const started = performance.now();
    await work();
    spent.push(performance.now() - started);
    await between?.();
  }
  return spent.sort((a, b) => a - b)[Math.floor(spent.length / 2)] ?? 0;
}

/** Service `i` of `namespaces`: chains of ten (each depends on the one before), so the plan has ten levels. */
function serviceSpecs(namespaces: readonly string[], clusters: readonly string[]): ServiceSpec[] {
  return Array.from({ length: services }, (_, i) => {
    const name = `svc-${String(i).padStart(4, '0')}`;
    return {
      name, namespace: namespaces[i % namespaces.length] ?? '', container: 'app', image: `registry.local/bench/${name}:2.0.0`,
      dependsOn: i % 10 === 0 ? [] : [`svc-${String(i - 1).padStart(4, '0')}`], clusters: [...clusters], workload: { kind: 'Deployment', name },
    };
  });
}

const oldImage = (service: string) => `registry.local/bench/${service}:1.0.0`;

/** The pure core on `services` × `offlineClusters`, as plan runs it once preflight has answered. */
function pureCore(policy: UpgradePolicy, seen: WorkloadSeen[]): number {
  const plan = buildPlan(uuidv7(), policy, {
    currentImages: new Map(seen.map((w) => [`${w.service}@${w.cluster}`, w.currentImage ?? ''])), migrations: new Map(),
  });
  if (!plan.ok) throw new Error(`bench plan: ${plan.message}`);
  const problems = preflightProblems({ clusters: policy.spec.clusters.map((c, index) => ({ cluster: c.name, index, reachable: true })), workloads: seen, migrations: [] });
  for (const cluster of policy.spec.clusters) {
    const keys = seen.filter((w) => w.cluster === cluster.name);
    namespaceReads(keys);
    namespaceQuestions(keys, ['get', 'patch']);
  }
  plannedEventProblem(plan.plan);
  return problems.length + runTargets(plan.plan).length;
}

/** The offline half alone (no stack needed). */
export async function benchPureCore(): Promise<void> {
  const clusters = Array.from({ length: offlineClusters }, (_, i) => `cluster-${i}`);
  const namespaces = Array.from({ length: namespaceCount }, (_, i) => `ns-${i}`);
  const specs = serviceSpecs(namespaces, clusters);
  // Built as parsed, not parsed: 10,000 targets are more than one request may name (policyLimits.targets).
  const policy = {
    apiVersion: 'upshift.dev/v1alpha1', kind: 'UpgradePolicy', metadata: { name: 'bench' },
    spec: {
      clusters: clusters.map((name) => ({ name, context: name })),
      services: specs.map((s) => ({ ...s, dependsOn: s.dependsOn ?? [], workload: { kind: 'Deployment' as const, name: s.workload.name } })),
      migrations: [],
      strategy: { clusterOrder: clusters, maxParallelServices: 50, soakSeconds: 0, progressDeadlineSeconds: 600, failurePolicy: 'rollback', contract: false },
      verification: { checks: [{ name: 'workloads-available', kind: 'workloadsAvailable' }] },
      dryRun: false,
    },
  } as UpgradePolicy;
  const seen: WorkloadSeen[] = policy.spec.services.flatMap((s, index) => s.clusters.map((cluster) => ({
    service: s.name, index, cluster, namespace: s.namespace, kind: s.workload.kind, name: s.workload.name, container: s.container,
    found: true, containerFound: true, currentImage: oldImage(s.name), deniedVerbs: [],
  })));
  const core = await median(() => pureCore(policy, seen), Math.max(rounds, 5));
  const plan = buildPlan(uuidv7(), policy, { currentImages: new Map(seen.map((w) => [`${w.service}@${w.cluster}`, w.currentImage ?? ''])), migrations: new Map() });
  const roundTrip = await median(() => JSON.parse(JSON.stringify(plan)), Math.max(rounds, 5));
  print(`plan's pure core, ${services} services × ${offlineClusters} clusters (${seen.length} targets), median of ${Math.max(rounds, 5)}:`);
  print(`  pure core (waves, plan, verdicts, batching)      ${ms(core)}   ${ratio(core, roundTrip)} a JSON round trip of its plan (${ms(roundTrip).trim()})`);
  print(`  aim: < 1 s → ${core < 1000 ? 'met' : 'missed'}`);
}

/** Creates `services` Deployments (no replicas: plan reads specs only) in every cluster, spread over the namespaces. */
async function createWorkloads(specs: readonly ServiceSpec[]): Promise<void> {
  const create = pLimit(16);
  await Promise.all(clusterNames.flatMap((cluster) => {
    const { apps } = kube(cluster);
    return specs.map((s) => create(() => apps.createNamespacedDeployment({ namespace: s.namespace, body: deployment(s.name, oldImage(s.name), { replicas: 0 }) })));
  }));
}

/** The reads preflight made before issue 18: per workload, two self access reviews and a get, one after the other. */
async function perWorkloadReads(specs: readonly ServiceSpec[]): Promise<void> {
  for (const cluster of clusterNames) {
    const { apps, authorization } = kube(cluster);
    for (const s of specs) {
      for (const verb of ['get', 'patch']) {
        await authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { group: 'apps', resource: 'deployments', verb, namespace: s.namespace, name: s.name } } } });
      }
      await apps.readNamespacedDeployment({ namespace: s.namespace, name: s.name });
    }
  }
}

async function benchOnKwok(): Promise<void> {
  useStackKubeconfig();
  const namespaces: Array<Awaited<ReturnType<typeof freshNamespace>>> = [];
  const t = await startFunction(fn);
  try {
    for (let i = 0; i < namespaceCount; i += 1) namespaces.push(await freshNamespace('bench-plan'));
    const names = namespaces.map((ns) => ns.name);
    const specs = serviceSpecs(names, clusterNames);
    const created = performance.now();
    await createWorkloads(specs);
    print(`kwok: ${specs.length} Deployments in ${names.length} namespaces × ${clusterNames.length} clusters created in ${((performance.now() - created) / 1000).toFixed(1)} s (not timed below)`);
    const request = (dryRun: boolean) => upgradeRequestedIn(names[0] ?? '', uuidv7(), (spec) => {
      spec.services = specs;
      spec.dryRun = dryRun;
      (spec.strategy as Record<string, unknown>)['maxParallelServices'] = 50;
    });
    const plan = async (dryRun: boolean) => {
      const result = await t.handle(request(dryRun));
      const [first] = await t.outputsOf(result);
      if (!first || !isEventOf(first, 'upgrade.planned')) throw new Error(`bench plan: ${first?.type} ${JSON.stringify(first?.data).slice(0, 400)}`);
    };
    await plan(true); // warm: clients, TLS sessions, the catalog
    // The baseline's clients keep their connections as plan's do (test/support/kube.ts), warmed the same way:
    // a connection per request would make everything measured against it look faster than it is.
    const bareLists = () => Promise.all(clusterNames.flatMap((cluster) => {
      const { apps } = kube(cluster);
      return names.map((namespace) => apps.listNamespacedDeployment({ namespace }));
    }));
    await bareLists(); // warm
    const bare = await median(bareLists);
    const parsed = parsePolicy(request(true).data.policy);
    if (!parsed.ok) throw new Error(`bench plan: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
    const deps = { clusters: new ClusterRegistry(), catalog: {}, env: {} };
    await preflight(parsed.policy, deps); // warm
    const alone = await median(() => preflight(parsed.policy, deps));
    const dry = await median(() => plan(true));
    // A real run holds its targets: each round's are released (not timed) so the next round can claim them.
    const release = () => abandonRunsOf(t.store, `shop-${names[0] ?? ''}`);
    const full = await median(() => plan(false), rounds, release);
    const label = `${services} services × ${clusterNames.length} clusters`;
    print(`plan through its handler, ${label} (${specs.length * clusterNames.length} workloads), median of ${rounds}:`);
    print(`  bare client-node lists, one per namespace         ${ms(bare)}   1.00× (baseline)`);
    print(`  preflight alone (readyz, reviews, paged lists)    ${ms(alone)}   ${ratio(alone, bare)} the bare lists`);
    print(`  plan, dry run (validate, preflight, plan, emit)   ${ms(dry)}   ${ratio(dry, bare)} the bare lists`);
    print(`  plan, real run (+ claim, persist: ${specs.length * clusterNames.length} targets) ${ms(full)}   ${ratio(full, bare)} the bare lists`);
    if (before) {
      const old = await median(() => perWorkloadReads(specs), 1);
      print(`  reads as before (get + 2 reviews per workload)    ${ms(old)}   ${ratio(old, bare)} the bare lists; the dry-run plan takes ${ratio(dry, old)} of it`);
    }
    print(`  aim: real run < 3 s → ${full < 3000 ? 'met' : 'missed'}`);
  } finally {
    await t.stop();
    for (const ns of namespaces) await ns.remove();
  }
}

/** Runs the benchmark once and prints its figures. */
export async function benchPlan(): Promise<void> {
  await benchPureCore();
  await benchOnKwok();
}
