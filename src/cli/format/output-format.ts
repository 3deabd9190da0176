/** cscli's `-o/--output` values; every list command supports all three. */
export type OutputFormat = 'human' | 'json' | 'raw';
