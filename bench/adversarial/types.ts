/** One hostile input for one parser: make(n) builds an input of size about n; run parses it. */
export interface AdversarialCase {
  name: string;
  /** Base size; the bench times n and 10n. */
  n: number;
  make(n: number): string | Buffer;
  run(input: string | Buffer): unknown;
}
