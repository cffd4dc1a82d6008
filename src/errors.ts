/** Exit codes: 0 ok, 1 some account operation failed, 2 usage or config error. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** Thrown anywhere below the CLI; caught once in cli.ts, which is the only place that exits. */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function usageError(message: string): ExitError {
  return new ExitError(EXIT_USAGE, message);
}
