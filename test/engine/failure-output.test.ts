/** A failed job's reason reaches the channel, `train <n>` and the status JSON, without the environment's secrets. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engineHarness, type Harness } from '../support/engine-harness.js';

const ALICE = 'alice@example.com';
const JENKINS_TOKEN = 'jenkins-api-token-0005';

const OUTPUT = [...Array.from({ length: 30 }, (_, i) => `step ${i + 1}`), `curl -u conductor:${JENKINS_TOKEN} https://ci.example.com`, 'Error: Cannot find module ./config'].join('\n');
const TAIL = [...Array.from({ length: 18 }, (_, i) => `step ${i + 13}`), 'curl -u conductor:[redacted] https://ci.example.com', 'Error: Cannot find module ./config'].join('\n');

describe('engine: the tail of a failed job', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await engineHarness({ secrets: [JENKINS_TOKEN] });
  });
  afterEach(async () => {
    await h.close();
  });

  it('is stored without secrets and shown in the status JSON, `train 1` and the channel', async () => {
    await h.push('web', [ALICE]);
    await h.finishJob('web', 1, 'build', false, OUTPUT);

    const stored = await h.db.prisma.job.findFirstOrThrow({ where: { kind: 'build' } });
    expect(stored.output).not.toContain(JENKINS_TOKEN);

    const s = await h.status();
    expect(s.train!.jobs).toEqual([expect.objectContaining({ kind: 'build', state: 'failed', outputTail: TAIL })]);

    const reply = await h.cmd(ALICE, 'train 1');
    expect(reply.ok).toBe(true);
    expect(reply.text).toContain(`• build #1: failed\nThe last lines of the build's output:\n\`\`\`\n${TAIL}\n\`\`\``);

    const announced = (await h.outbox('chat.announce')).map((e) => e.text as string);
    expect(announced).toContain(`${ALICE}: the build of train #1 failed. Retry it, or revert the bad commit and extend, or derail.\nThe last lines of its output:\n\`\`\`\n${TAIL}\n\`\`\``);
    expect(announced.join('\n')).not.toContain(JENKINS_TOKEN);
  });

  it('is null for a job that did not fail', async () => {
    await h.push('web', [ALICE]);
    let s = await h.status();
    expect(s.train!.jobs).toEqual([expect.objectContaining({ state: 'queued', outputTail: null })]);
    await h.finishJob('web', 1, 'build', true, 'all good');
    s = await h.status();
    expect(s.train!.jobs).toEqual([expect.objectContaining({ state: 'succeeded', outputTail: null })]);
    expect((await h.cmd(ALICE, 'train 1')).text).not.toContain('last lines');
  });
});

describe('engine: a job waiting for its runner', () => {
  it("shows the runner's error without the environment's secrets or credentials in URLs", async () => {
    const { makeEffectHandler } = await import('../../src/engine/deliver.js');
    const { createLogChat } = await import('../../src/integrations/chat/log-chat.js');
    const pino = (await import('pino')).default;
    const h = await engineHarness({ secrets: [JENKINS_TOKEN] });
    try {
      await h.push('web', [ALICE]);
      const chat = createLogChat(pino({ level: 'silent' }));
      // Jenkins refusing the build, as an unreachable server answers: the message quotes what it was asked.
      const jenkinsDown = {
        start: async () => {
          throw new Error(`Jenkins unreachable at https://conductor:${JENKINS_TOKEN}@ci.example.com/job/web (token ${JENKINS_TOKEN})`);
        },
        stop: async () => undefined,
        close: async () => undefined,
      };
      const handle = makeEffectHandler({
        engine: h.engine,
        chat,
        ports: () => ({ codeHost: undefined as never, runner: jenkinsDown, tickets: undefined as never }),
        fetchNow: async () => undefined,
        publicUrl: 'http://localhost:3000',
        log: pino({ level: 'silent' }),
      });
      const item = (await h.db.prisma.outboxItem.findMany({ where: { kind: 'job.start' } }))[0]!;
      await expect(handle({ id: item.id, kind: item.kind, payload: item.payload as Record<string, unknown>, idempotencyKey: item.idempotencyKey, attempts: 1 })).rejects.toThrow();
      const job = await h.db.prisma.job.findFirstOrThrow({ where: { kind: 'build' } });
      expect(job.output).toBe('waiting for Jenkins: Jenkins unreachable at https://conductor:[redacted]@ci.example.com/job/web (token [redacted])');
      expect(chat.messages.map((m) => m.text).join('\n')).not.toContain(JENKINS_TOKEN);
    } finally {
      await h.close();
    }
  });
});
