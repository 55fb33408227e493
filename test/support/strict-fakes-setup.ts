/**
 * Vitest setup file: every fake started during a test (or still open from
 * `beforeAll`) is checked after the test, and once more after the file, for
 * unexpected calls and unused expectations (see strict-fakes.ts). Hooks from a
 * setup file run after the test file's own `afterEach`/`afterAll`, so calls
 * made while the file's hooks stop the app are checked too.
 */
import { afterAll, afterEach } from 'vitest';
import { assertStrictFakes } from './strict-fakes.js';

afterEach((ctx) => {
  assertStrictFakes(`after the test "${ctx.task.name}"`);
});

afterAll(() => {
  assertStrictFakes('after the last test of the file');
});
