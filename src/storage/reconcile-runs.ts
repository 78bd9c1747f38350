/**
 * The outcome of the last `satwatch reconcile` run, kept in MongoDB so every replica's /metrics
 * reports it (`satwatch_reconcile_mismatches`): reconcile reads every payment and ledger entry,
 * too much to repeat per scrape, so operators run it on a schedule and alert on its result.
 */
import type { Collection, Db } from 'mongodb';

export interface ReconcileRun {
  _id: 'last';
  at: Date;
  mismatches: number;
  pendingCredits: number;
  clean: boolean;
}

export class ReconcileRuns {
  private readonly runs: Collection<ReconcileRun>;

  constructor(db: Db) {
    this.runs = db.collection<ReconcileRun>('reconcile_runs');
  }

  async record(run: Omit<ReconcileRun, '_id'>): Promise<void> {
    await this.runs.replaceOne({ _id: 'last' }, run, { upsert: true });
  }

  last(): Promise<ReconcileRun | null> {
    return this.runs.findOne({ _id: 'last' });
  }
}
