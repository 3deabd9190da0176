/**
 * The one error type Vigil throws on purpose. `code` is stable (tests and the HTTP/CLI edges
 * switch on it); `message` names the field and the fix, for an operator to read.
 */
export class VigilError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'VigilError';
    this.code = code;
  }
}

export const isVigilError = (e: unknown): e is VigilError => e instanceof VigilError;
