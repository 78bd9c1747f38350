/**
 * The `settings` collection: small facts the daemon pins in the database at first start and
 * checks at every later start (today: the fingerprint of the cold destination).
 */
import type { Collection, Db } from 'mongodb';
import type { PinnedSetting, PinnedSettings } from '../forwarding/cold-destination.js';
import { isDuplicateKey } from './mongo.js';

export type { PinnedSetting };

export class SettingsRepository implements PinnedSettings {
  private readonly settings: Collection<PinnedSetting>;

  constructor(db: Db) {
    this.settings = db.collection<PinnedSetting>('settings');
  }

  get(id: string): Promise<PinnedSetting | null> {
    return this.settings.findOne({ _id: id });
  }

  /** Pins `value` unless something is pinned already; false then (a replica pinned first). */
  async pinIfAbsent(id: string, value: string, now: Date): Promise<boolean> {
    try {
      await this.settings.insertOne({ _id: id, value, pinnedAt: now });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /** Replaces the pinned `previous` with `value`; false if it was not `previous` any more. */
  async repin(id: string, previous: string, value: string, now: Date): Promise<boolean> {
    const result = await this.settings.updateOne(
      { _id: id, value: previous },
      { $set: { value, pinnedAt: now, previous } },
    );
    return result.modifiedCount === 1;
  }
}
