/**
 * One round of webhook work, as the watcher loop runs it: copy new events to the API endpoints,
 * then send what is due to the configured URL and to the endpoints. Each part goes on when
 * another fails.
 */
import type { DispatchResult, DispatcherLog } from './dispatcher.js';

export interface DueSender {
  deliverDue(limit?: number): Promise<DispatchResult>;
}

export class WebhookDeliveryRound implements DueSender {
  constructor(
    private readonly parts: {
      fanOut: { run(): Promise<number> };
      senders: DueSender[];
      log: DispatcherLog;
    },
  ) {}

  async deliverDue(): Promise<DispatchResult> {
    const total: DispatchResult = { delivered: 0, retrying: 0, failed: 0 };
    try {
      await this.parts.fanOut.run();
    } catch (err) {
      this.parts.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'copying webhook events to the endpoints failed; will retry',
      );
    }
    for (const sender of this.parts.senders) {
      try {
        const result = await sender.deliverDue();
        total.delivered += result.delivered;
        total.retrying += result.retrying;
        total.failed += result.failed;
      } catch (err) {
        this.parts.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'sending webhooks failed; will retry',
        );
      }
    }
    return total;
  }
}
