/** Why a sweep transaction cannot be planned, built or accepted: an expected refusal, not a bug. */
export type SweepErrorReason =
  | 'dust'
  | 'uneconomic'
  | 'no-inputs'
  | 'unsupported-script'
  | 'mismatch'
  | 'unsigned'
  | 'destination';

export class SweepError extends Error {
  constructor(
    readonly reason: SweepErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'SweepError';
  }
}
