/** Why a block scan stops short of the chain's tip. */

/** Someone else (a replica, a rescan) moved the scan position first; this cycle's scan stops. */
export class ScanMovedError extends Error {
  constructor() {
    super('the scan position moved under this scanner');
    this.name = 'ScanMovedError';
  }
}

/** The stored chain and the server's chain share no block we still know: a human decides. */
export class ScanForkNotFoundError extends Error {
  constructor(readonly height: number) {
    super(`no common block with the server's chain at or below height ${height}`);
    this.name = 'ScanForkNotFoundError';
  }
}
