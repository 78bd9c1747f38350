/** Brings the real lab up for integration tests, and down again if this run started it. */
import { labDown, labUp } from './lab/lab.js';

export default async function setup(): Promise<() => Promise<void>> {
  const { started } = await labUp();
  return async () => {
    if (started && process.env.SATWATCH_KEEP_LAB !== '1') await labDown();
  };
}
