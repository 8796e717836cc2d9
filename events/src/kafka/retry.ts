/**
 * Retrying a Kafka call while the broker says "not yet": a topic created a moment ago can be unknown to
 * the broker's metadata, or without a leader, for a short while (kafkajs marks such errors retriable,
 * but a consumer's subscribe does not retry them itself).
 */

/** Runs `call`, retrying retriable errors with backoff until `withinMs` has passed. */
export async function retryWhileRetriable<T>(call: () => Promise<T>, withinMs = 15_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    try {
      return await call();
    } catch (error) {
      if ((error as { retriable?: boolean }).retriable !== true || Date.now() + delay > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
