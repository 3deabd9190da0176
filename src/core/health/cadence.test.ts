import { describe, expect, it } from 'vitest';
import { cadenceUpdate, formatCadence, pullCadence, readCadence } from './cadence.ts';

describe('pullCadence', () => {
  it('finds the median interval of a steady stream bouncer', () => {
    const t = [0, 10_000, 20_010, 29_990, 40_000, 50_020, 60_000];
    expect(Math.abs(pullCadence(t)! - 10_000)).toBeLessThanOrEqual(20);
  });
  it('needs enough pulls to tell', () => {
    expect(pullCadence([0, 10_000, 20_000])).toBeNull();
  });
  it('says nothing for irregular (live-mode) pulls', () => {
    expect(pullCadence([0, 1_000, 60_000, 61_000, 300_000, 900_000, 905_000])).toBeNull();
  });
  it('tolerates one missed pull', () => {
    expect(pullCadence([0, 10_000, 20_000, 40_000, 50_000, 60_000, 70_000])).toBe(10_000);
  });
  it('is said to 0.1 s', () => {
    expect([formatCadence(10_002), formatCadence(1_450), formatCadence(60_040), formatCadence(20)]).toEqual(['10s', '1.5s', '1m0s', '100ms']);
  });
});

describe('cadenceUpdate (issue 24: a restart must not erase a learnt cadence)', () => {
  const steady = [0, 10_000, 20_000, 30_000, 40_000, 50_000];
  it('leaves a known cadence alone while too few pulls were seen', () => {
    expect(readCadence([0, 10_000])).toBe('too_few');
    expect(cadenceUpdate(readCadence([0, 10_000]), 10_000)).toBeUndefined();
    expect(cadenceUpdate('too_few', null)).toBeUndefined();
  });
  it('clears it only on evidence of irregular pulls', () => {
    const irregular = readCadence([0, 1_000, 60_000, 61_000, 300_000, 900_000, 905_000]);
    expect(irregular).toBe('irregular');
    expect(cadenceUpdate(irregular, 10_000)).toBeNull();
    expect(cadenceUpdate(irregular, null)).toBeUndefined();
  });
  it('writes a steady cadence that appeared or moved by more than 10 %', () => {
    expect(cadenceUpdate(readCadence(steady), null)).toBe(10_000);
    expect(cadenceUpdate(readCadence(steady), 9_500)).toBeUndefined();
    expect(cadenceUpdate(readCadence(steady), 60_000)).toBe(10_000);
  });
});
