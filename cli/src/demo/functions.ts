/**
 * Starting upshift's functions for the demo (what `upshift dev` does, in this process's supervision),
 * after making a re-run safe: a fresh topic prefix per demo run (earlier demo topics deleted), and runs of
 * the demo policy that never finished (an interrupted demo) release their targets.
 */
import { abandonRunsOf, createKafka, deletePrefixedTopics, ensureCatalogueTopics } from '@upshift/runtime';
import { catalogueFunctions, runDev, type CatalogueFunctions, type DevRunner } from '@upshift/runtime/dev';
import pg from 'pg';

/** Every demo run's topics start with this. */
export const demoTopicPrefix = 'demo-';

/** The functions that exist in this checkout and those not built yet. */
export function availableFunctions(): CatalogueFunctions {
  return catalogueFunctions(import.meta.resolve);
}

/**
 * A fresh topic prefix for this demo run, after deleting the topics of earlier demo runs: the demo's
 * functions see this run's events only, and other tools publishing on the shared broker's unprefixed
 * topics (tests, `upshift request`) cannot reach them.
 */
export async function freshDemoTopics(brokers: readonly string[]): Promise<string> {
  const admin = createKafka(brokers, 'upshift-demo').admin();
  await admin.connect();
  try {
    await deletePrefixedTopics(admin, demoTopicPrefix);
    const prefix = `${demoTopicPrefix}${Date.now().toString(36)}.`;
    await ensureCatalogueTopics(admin, prefix);
    return prefix;
  } finally {
    await admin.disconnect();
  }
}

/** Ends unfinished runs of this policy (an interrupted demo) so their targets are free; returns their ids. */
export async function releaseUnfinishedRuns(controlStoreUrl: string, policyName: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: controlStoreUrl, application_name: 'upshift-demo' });
  await client.connect();
  try {
    return await abandonRunsOf(client, policyName);
  } finally {
    await client.end();
  }
}

/** Starts the present functions as child processes with the dispatcher, with `env` (stack, data URLs, topic prefix). */
export async function startFunctions(env: Record<string, string>, topicPrefix: string): Promise<DevRunner> {
  const { present } = availableFunctions();
  return runDev({ functions: present.map((fn) => ({ ...fn, port: 0 })), env: { ...process.env, ...env, UPSHIFT_TOPIC_PREFIX: topicPrefix, LOG_LEVEL: 'error' }, quiet: true });
}
