import type { Component } from '../component.ts';
import { ferretdb } from './ferretdb.ts';
import { jaeger } from './jaeger.ts';
import { kafka } from './kafka.ts';
import { kubernetes } from './kubernetes.ts';
import { postgres } from './postgres.ts';

/** Every component of the local stack, in start order (stop runs in reverse). */
export const components: Component[] = [postgres, kafka, ferretdb, jaeger, kubernetes];
