import type { Component, ComponentStatus } from './component.ts';
import { components } from './components/index.ts';
import { contextPath, recordContext } from './context.ts';
import { progress } from './progress.ts';

/** The components the stack manages: all but those the user points elsewhere through their env variable. */
export function managedComponents(only: string[] = []): Component[] {
  return components.filter((c) => (only.length === 0 || only.includes(c.name)) && !isExternal(c));
}

function isExternal(component: Component): boolean {
  return component.externalEnv !== undefined && process.env[component.externalEnv] !== undefined;
}

/** Installs (from cache when possible) and starts every managed component; harmless when already up. */
export async function up(only: string[] = []): Promise<void> {
  const started = Date.now();
  for (const component of managedComponents(only)) {
    await component.install();
    await component.start();
  }
  progress.info(`up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  recordStackContext();
}

/** Records the stack's endpoints in the context file the `upshift` CLI reads (a failure to write is only reported). */
export function recordStackContext(): void {
  try {
    recordContext(stackEnv());
  } catch (error) {
    progress.info(`could not record the context file ${contextPath()}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Stops every managed component, last started first. */
export async function down(only: string[] = []): Promise<void> {
  for (const component of managedComponents(only).reverse()) await component.stop();
}

/** Status rows of every component, external ones included (as 'external'). */
export async function status(): Promise<ComponentStatus[]> {
  const rows: ComponentStatus[] = [];
  for (const component of components) {
    if (isExternal(component)) {
      rows.push({
        name: component.name,
        version: component.version,
        state: 'external',
        endpoints: { [component.externalEnv ?? 'env']: process.env[component.externalEnv ?? ''] ?? '' },
        pids: [],
      });
    } else {
      rows.push(...(await component.status()));
    }
  }
  return rows;
}

/** The variables tests, the demo and benchmarks need: the user's own values win over the stack's. */
export function stackEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const component of components) {
    for (const [key, value] of Object.entries(component.env())) env[key] = process.env[key] ?? value;
  }
  return env;
}
