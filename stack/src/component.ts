/** What `stack:status` reports for one component (or one part of it, e.g. one Kubernetes cluster). */
export interface ComponentStatus {
  name: string;
  version: string;
  /** external: the user points at their own server through `externalEnv`; we neither start nor stop it. */
  state: 'ready' | 'not-ready' | 'stopped' | 'external';
  endpoints: Record<string, string>;
  pids: number[];
  /** Resident memory of the component's processes, in MiB. */
  rssMiB?: number;
  log?: string;
  /** Free-form extra facts, e.g. the kube contexts of a cluster. */
  details?: Record<string, unknown>;
}

/**
 * One server of the local stack. Every method is idempotent: install skips what is cached,
 * start does nothing when already running, stop does nothing when stopped.
 */
export interface Component {
  name: string;
  version: string;
  /** When this variable is set in the environment the user supplies the server; the stack leaves it alone. */
  externalEnv?: string;
  /** Installs or builds into the cache (outside the repo); skips when the cache has it. */
  install(): Promise<void>;
  /** Starts the processes (checking its ports are free first) and waits until ready, or throws naming the log. */
  start(): Promise<void>;
  /** Stops the processes cleanly. */
  stop(): Promise<void>;
  /** One or more status rows (Kubernetes reports one per cluster). */
  status(): Promise<ComponentStatus[]>;
  /** Variables exported to tests, the demo and benchmarks, e.g. DATABASE_URL. */
  env(): Record<string, string>;
}
