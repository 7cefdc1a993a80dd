// The error every wire parser throws, apart from the contract in ../wire.ts so the wire files
// can import it without importing the list of wires that imports them.

export class WireError extends Error {
  override readonly name = 'WireError';
  /** 400 for a request the API would refuse. */
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
