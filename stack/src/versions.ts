/**
 * Every pinned version and loopback port of the local stack, in one place.
 * Bumping a version here invalidates that component's build cache (the cache key includes it).
 */
export const versions = {
  postgres: '15',
  kafka: '4.3.1',
  scala: '2.13',
  ferretdb: 'v1.24.0',
  jaeger: 'v1.76.0',
  kubernetes: 'v1.36.3',
  etcd: 'v3.6.16',
  kwok: 'v0.8.0',
  /** Knative 1.23 (module v0.N+27); the Go proxy serves eventing-kafka-broker v0.50.1 but not v0.50.0. */
  knativeServing: 'v0.50.0',
  knativeEventing: 'v0.50.0',
  knativeEventingKafkaBroker: 'v0.50.1',
} as const;

/** Ports are offset by UPSHIFT_PORT_OFFSET so two stacks can share a machine. */
const offset = Number.parseInt(process.env.UPSHIFT_PORT_OFFSET ?? '0', 10) || 0;

/** Loopback ports, one per listener; chosen away from common defaults to avoid clashes. */
export const ports = {
  postgres: 55432 + offset,
  kafka: 59092 + offset,
  kafkaController: 59093 + offset,
  ferretdb: 57017 + offset,
  jaegerOtlpGrpc: 54317 + offset,
  jaegerOtlpHttp: 54318 + offset,
  jaegerQuery: 56686 + offset,
  jaegerHealth: 53133 + offset,
  /** Kubernetes cluster ports are derived per cluster in components/kubernetes.ts. */
  kubeBase: 56440 + offset,
} as const;
