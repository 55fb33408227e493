import { it } from 'vitest';
import { engineHarness, ADMIN } from '../support/engine-harness.js';
it('probe', async () => {
  let t = performance.now();
  const h = await engineHarness();
  console.log('harness', performance.now() - t);
  t = performance.now();
  for (let i = 0; i < 10; i++) await h.push('web', ['a@example.com']);
  console.log('10 pushes', performance.now() - t);
  t = performance.now();
  for (let i = 0; i < 10; i++) await h.cmd(ADMIN, 'block x');
  console.log('10 blocks', performance.now() - t);
  t = performance.now();
  await Promise.all(Array.from({length: 50}, () => h.cmd(ADMIN, 'engineer me')));
  console.log('50 concurrent', performance.now() - t);
  t = performance.now();
  await h.close();
  console.log('close', performance.now() - t);
});
