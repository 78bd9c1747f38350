import { MongoClient, type MongoClientOptions, MongoServerError, type Db } from 'mongodb';

export interface MongoHandle {
  client: MongoClient;
  db: Db;
}

export async function connectMongo(
  url: string,
  database: string,
  options: ConnectionOptions = {},
): Promise<MongoHandle> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 10_000,
    appName: 'satwatch',
    ...options,
  });
  await client.connect();
  return { client, db: client.db(database) };
}

export function isDuplicateKey(err: unknown, field?: string): boolean {
  if (!(err instanceof MongoServerError) || err.code !== 11000) return false;
  if (field === undefined) return true;
  const keyPattern = err.keyPattern as Record<string, unknown> | undefined;
  if (keyPattern) return field in keyPattern;
  return err.message.includes(field);
}

/**
 * An open database, as the composition roots (the daemon, the CLI) hand it to the storage
 * classes: code outside storage/ passes it along and never queries it.
 */
export type Database = Db;

/** Driver options for the connection (tests shorten timeouts), passed through untouched. */
export type ConnectionOptions = MongoClientOptions;
