/** Cursor reading in fixed-size batches, so a large collection never sits in memory whole. */

export const CURSOR_BATCH = 500;

/** Yields the items of `cursor` `size` at a time (the last batch may be shorter). */
export async function* inBatches<T>(
  cursor: AsyncIterable<T>,
  size = CURSOR_BATCH,
): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of cursor) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
