/**
 * Reproducible randomness for tests: the seed comes from UPSHIFT_TEST_SEED (else a fresh one is picked),
 * and a test prints it so a failing run can be replayed with the same random choices.
 */
import { randomInt } from 'node:crypto';

/** The seed of this run: UPSHIFT_TEST_SEED when set (an integer 0..2^32-1), else a random one. */
export function testSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['UPSHIFT_TEST_SEED'];
  if (raw === undefined || raw.trim() === '') return randomInt(2 ** 32 - 1);
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) throw new Error(`UPSHIFT_TEST_SEED must be an integer in 0..2^32-1, got ${JSON.stringify(raw)}`);
  return seed;
}

/** The line that says how to rerun with the same seed. */
export function seedLine(seed: number): string {
  return `seed=${seed} (rerun with UPSHIFT_TEST_SEED=${seed})`;
}

/** mulberry32: a small 32-bit PRNG; the same seed gives the same sequence of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}
