// The outbox handler registry (src/engine/effects.ts): complete at start, and an unknown kind is closed, not retried.
import { describe, expect, it } from 'vitest';
import { assertComplete, dispatchEffects, type EffectHandlers, missingKinds } from '../../src/engine/effects.js';
import { PermanentEffectError } from '../../src/engine/errors.js';

const item = (kind: string, payload: Record<string, unknown>) => ({ id: 1n, kind, payload, idempotencyKey: 'k', attempts: 1 });

describe('effect handler registry', () => {
  it('names the kinds no feature handles, and refuses to start without them', () => {
    const partial: Partial<EffectHandlers> = { 'slack.home': async () => {} };
    expect(missingKinds(partial)).toContain('code.status');
    expect(missingKinds(partial)).not.toContain('slack.home');
    expect(() => assertComplete(partial)).toThrow(/no outbox handler for .*code\.status/);
  });

  it('hands the stored item to the handler of its kind, typed by it', async () => {
    const seen: string[] = [];
    const handle = dispatchEffects({ 'slack.home': async (i) => void seen.push(i.payload.user) });
    await handle(item('slack.home', { user: 'U1' }));
    expect(seen).toEqual(['U1']);
  });

  it('closes an item of an unknown or unhandled kind (a permanent error)', async () => {
    const handle = dispatchEffects({});
    await expect(handle(item('no.such.kind', {}))).rejects.toBeInstanceOf(PermanentEffectError);
    await expect(handle(item('code.status', {}))).rejects.toBeInstanceOf(PermanentEffectError);
  });
});
