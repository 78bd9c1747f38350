/**
 * Webhook endpoints managed over the API, in `webhook_endpoints`: URL, event filter, enabled,
 * the signing secrets (sealed, see webhooks/secret-box.ts; newest first, older ones until their
 * overlap ends), and the failure run that disables an endpoint automatically.
 */
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { WebhookEventType } from '../webhooks/outbox.js';
import type { EndpointChanges, EndpointStore, WebhookEndpoint } from '../webhooks/ports.js';

export class SecretsChangedError extends Error {
  constructor() {
    super('the endpoint secrets changed concurrently; try again');
    this.name = 'SecretsChangedError';
  }
}

export function newEndpointId(): string {
  return `we_${randomBytes(12).toString('base64url')}`;
}

export class WebhookEndpointStore implements EndpointStore {
  readonly collection: Collection<WebhookEndpoint>;

  constructor(
    db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.collection = db.collection<WebhookEndpoint>('webhook_endpoints');
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ createdAt: -1, _id: -1 }, { name: 'created' }, {});
  }

  async create(input: {
    url: string;
    events: WebhookEventType[];
    enabled: boolean;
    description?: string;
    sealedSecret: string;
  }): Promise<WebhookEndpoint> {
    const now = this.now();
    const doc: WebhookEndpoint = {
      _id: newEndpointId(),
      url: input.url,
      events: input.events,
      enabled: input.enabled,
      ...(input.description !== undefined && { description: input.description }),
      createdAt: now,
      updatedAt: now,
      secrets: [{ sealed: input.sealedSecret, createdAt: now }],
      secretsVersion: 1,
      consecutiveGiveUps: 0,
    };
    await this.collection.insertOne(doc);
    return doc;
  }

  get(id: string): Promise<WebhookEndpoint | null> {
    return this.collection.findOne({ _id: id });
  }

  /** All endpoints, newest first (a merchant has a handful; the API caps how many). */
  list(): Promise<WebhookEndpoint[]> {
    return this.collection.find({}).sort({ createdAt: -1, _id: -1 }).toArray();
  }

  count(): Promise<number> {
    return this.collection.countDocuments({});
  }

  /** Enabled endpoints that take events of `type`. */
  async matching(type: WebhookEventType): Promise<WebhookEndpoint[]> {
    const enabled = await this.collection.find({ enabled: true }).toArray();
    return enabled.filter((e) => e.events.length === 0 || e.events.includes(type));
  }

  enabledIds(): Promise<string[]> {
    return this.collection
      .find({ enabled: true }, { projection: { _id: 1 } })
      .map((e) => e._id)
      .toArray();
  }

  /** Applies `changes`; re-enabling clears the failure run and the disable reason. */
  async update(id: string, changes: EndpointChanges): Promise<WebhookEndpoint | null> {
    const set: Partial<WebhookEndpoint> = { updatedAt: this.now() };
    const unset: Record<string, ''> = {};
    if (changes.url !== undefined) set.url = changes.url;
    if (changes.events !== undefined) set.events = changes.events;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.enabled !== undefined) {
      set.enabled = changes.enabled;
      if (changes.enabled) {
        set.consecutiveGiveUps = 0;
        unset.disabledReason = '';
        unset.disabledAt = '';
        unset.failingSince = '';
      }
    }
    return this.collection.findOneAndUpdate(
      { _id: id },
      { $set: set, ...(Object.keys(unset).length > 0 && { $unset: unset }) },
      { returnDocument: 'after' },
    );
  }

  async remove(id: string): Promise<boolean> {
    return (await this.collection.deleteOne({ _id: id })).deletedCount === 1;
  }

  /**
   * Puts `sealedSecret` first; the secrets in force keep signing for `overlapSeconds` more (0:
   * they stop now), expired ones are dropped. Guarded by `secretsVersion`.
   */
  async rotateSecret(
    endpoint: WebhookEndpoint,
    sealedSecret: string,
    overlapSeconds: number,
  ): Promise<boolean> {
    const now = this.now();
    const until = new Date(now.getTime() + overlapSeconds * 1000);
    const kept = endpoint.secrets
      .filter((s) => overlapSeconds > 0 && (s.expiresAt === undefined || s.expiresAt > now))
      .map((s) => ({
        ...s,
        expiresAt: s.expiresAt !== undefined && s.expiresAt < until ? s.expiresAt : until,
      }));
    const result = await this.collection.updateOne(
      { _id: endpoint._id, secretsVersion: endpoint.secretsVersion },
      {
        $set: {
          secrets: [{ sealed: sealedSecret, createdAt: now }, ...kept],
          updatedAt: now,
        },
        $inc: { secretsVersion: 1 },
      },
    );
    if (result.matchedCount === 0) {
      if (await this.get(endpoint._id)) throw new SecretsChangedError();
      return false;
    }
    return true;
  }

  /** A delivery got through: the failure run is over. */
  async recordSuccess(id: string): Promise<void> {
    await this.collection.updateOne(
      { _id: id, $or: [{ failingSince: { $exists: true } }, { consecutiveGiveUps: { $gt: 0 } }] },
      { $set: { consecutiveGiveUps: 0 }, $unset: { failingSince: '' } },
    );
  }

  /** An attempt failed (`gaveUp`: and its delivery was given up); returns the endpoint after. */
  async recordFailure(id: string, gaveUp: boolean): Promise<WebhookEndpoint | null> {
    const now = this.now();
    await this.collection.updateOne(
      { _id: id, failingSince: { $exists: false } },
      { $set: { failingSince: now } },
    );
    if (!gaveUp) return this.get(id);
    return this.collection.findOneAndUpdate(
      { _id: id },
      { $inc: { consecutiveGiveUps: 1 } },
      { returnDocument: 'after' },
    );
  }

  /** Disables an enabled endpoint with `reason`; false if it was not enabled any more. */
  async disable(id: string, reason: string): Promise<boolean> {
    const now = this.now();
    const result = await this.collection.updateOne(
      { _id: id, enabled: true },
      { $set: { enabled: false, disabledReason: reason, disabledAt: now, updatedAt: now } },
    );
    return result.modifiedCount === 1;
  }
}
