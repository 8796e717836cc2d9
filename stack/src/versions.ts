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

/**
 * Loopback ports, one per listener. All below 32768, out of Linux's ephemeral range (32768–60999): a port
 * in that range can be taken by any outgoing connection (e.g. an API server's own client to etcd) just
 * before a server binds it, and the server then fails with "address already in use". Away from the
 * usual defaults (5432, 9092, 27017, ...) so a developer's own servers do not clash.
 */
export const ports = {
  postgres: 25432 + offset,
  kafka: 29092 + offset,
  kafkaController: 29093 + offset,
  ferretdb: 27117 + offset,
  jaegerOtlpGrpc: 24317 + offset,
  jaegerOtlpHttp: 24318 + offset,
  jaegerQuery: 26686 + offset,
  jaegerHealth: 23133 + offset,
  /** Kubernetes cluster ports are derived per cluster in components/kubernetes.ts (kubeBase + 10*i + 0..5). */
  kubeBase: 26440 + offset,
} as const;
