/**
 * Wave numbers as people read them. Events and the control store count waves from 0 (a frozen
 * contract: `wave`, `afterWave`, the keys of wave steps); everything the CLI prints counts from 1:
 * "wave 1 of 3".
 */

/** `1 of 3` for the 0-based `index` of `total` waves; `1` when the total is not known. */
export function waveNumber(index: number, total?: number): string {
  return `${index + 1}${total === undefined || total < 1 ? '' : ` of ${total}`}`;
}

/** `wave 1 of 3` for the 0-based `index` of `total` waves; `wave 1` when the total is not known. */
export function waveLabel(index: number, total?: number): string {
  return `wave ${waveNumber(index, total)}`;
}
