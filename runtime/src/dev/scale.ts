/**
 * How many instances of each function `upshift dev` runs (`--scale migrate-shard=4,rollout=2`, or
 * UPSHIFT_DEV_SCALE): each instance is a process of its own, like a pod of the Knative Service, and takes
 * the manifests' `containerConcurrency`. A function not named runs as one process that stands in for the
 * whole Service (its `devConcurrency`). Pure parsing.
 */
import { FunctionName } from '@upshift/events/contract';

/** Instances per function; a function not named runs as one process of its `devConcurrency`. */
export type Scale = Readonly<Partial<Record<FunctionName, number>>>;

/** The most instances of one function `upshift dev` starts. */
export const maxInstances = 64;

/** Parses `name=count[,name=count…]`; the scale, or a problem naming the bad part. */
export function parseScale(text: string): { scale: Scale } | { problem: string } {
  const scale: Partial<Record<FunctionName, number>> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z-]+)=(\d+)$/.exec(part);
    if (!match) return { problem: `"${part}" is not function=instances` };
    const name = FunctionName.safeParse(match[1]);
    if (!name.success) return { problem: `"${match[1]}" is not a function (${FunctionName.options.join(', ')})` };
    const count = Number(match[2]);
    if (count < 1 || count > maxInstances) return { problem: `${name.data}: instances must be 1 to ${maxInstances}, got ${count}` };
    if (scale[name.data] !== undefined) return { problem: `${name.data} is scaled twice` };
    scale[name.data] = count;
  }
  return { scale };
}
