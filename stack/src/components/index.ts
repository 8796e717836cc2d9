import type { Component } from '../component.ts';
import { kafka } from './kafka.ts';
import { postgres } from './postgres.ts';

/** Every component of the local stack, in start order (stop runs in reverse). */
export const components: Component[] = [postgres, kafka];
