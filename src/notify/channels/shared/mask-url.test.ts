import { describe, expect, it } from 'vitest';
import { maskUrl } from './mask-url.ts';

const SLACK = 'https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX';

describe('maskUrl', () => {
  it('keeps scheme, host and first path segment; masks the rest, the query and credentials', () => {
    expect(maskUrl(SLACK)).toBe('https://hooks.slack.com/services/***');
    expect(maskUrl('https://discord.com/api/webhooks/123/abcdef/slack')).toBe('https://discord.com/api/***');
    expect(maskUrl('http://127.0.0.1:8080/hook')).toBe('http://127.0.0.1:8080/***');
    expect(maskUrl('https://user:pw@example.com/?token=abc')).toBe('https://***@example.com?***');
    expect(maskUrl('https://example.com')).toBe('https://example.com');
    expect(maskUrl('garbage')).toBe('***');
  });
});
