/** Vitest setup file: a test file's temporary directories go when the file is done (its own hooks run first). */
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dirs.js';

afterAll(() => {
  removeTempDirs();
});
