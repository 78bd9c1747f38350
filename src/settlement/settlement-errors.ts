/** What the admin's settlement actions refuse, as typed errors the HTTP edge maps to 404/409. */

export class AlreadyCreditedError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} is already credited`);
    this.name = 'AlreadyCreditedError';
  }
}

export class PaymentNotFoundError extends Error {
  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} not found`);
    this.name = 'PaymentNotFoundError';
  }
}
