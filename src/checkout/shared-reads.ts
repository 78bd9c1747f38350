/**
 * Reads of one payment that arrive while another read of it is in flight share that read:
 * a payer's page and its polls (and a burst of reloads) cost one MongoDB round trip, not one
 * each. Nothing is kept once the read answers, so no answer is older than a read that was
 * already running when the request came in.
 */
export class SharedReads<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(private readonly read: (id: string) => Promise<T>) {}

  get(id: string): Promise<T> {
    const running = this.inFlight.get(id);
    if (running) return running;
    const read = this.read(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, read);
    return read;
  }
}
