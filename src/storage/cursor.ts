/**
 * Opaque paging cursors for newest-first listings ordered by (createdAt, _id): the client gets
 * the last item's position and sends it back for the next page.
 */

export class BadCursorError extends Error {
  constructor() {
    super('cursor is not a cursor this API returned');
    this.name = 'BadCursorError';
  }
}

export interface PageCursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt.toISOString(), id: cursor.id })).toString(
    'base64url',
  );
}

export function decodeCursor(text: string): PageCursor {
  try {
    const { t, id } = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as {
      t: unknown;
      id: unknown;
    };
    const createdAt = new Date(String(t));
    if (typeof id === 'string' && !Number.isNaN(createdAt.getTime())) return { createdAt, id };
  } catch {
    // not base64url JSON: refused below
  }
  throw new BadCursorError();
}

/** A MongoDB filter for the documents after `cursor` in (createdAt desc, _id desc) order. */
export function afterCursor(cursor: PageCursor) {
  return {
    $or: [
      { createdAt: { $lt: cursor.createdAt } },
      { createdAt: cursor.createdAt, _id: { $lt: cursor.id } },
    ],
  };
}

/** The next page's cursor when this page was full, else null. */
export function nextCursor(
  items: { createdAt: Date; _id: string }[],
  limit: number,
): string | null {
  const last = items[items.length - 1];
  return items.length === limit && last
    ? encodeCursor({ createdAt: last.createdAt, id: last._id })
    : null;
}
