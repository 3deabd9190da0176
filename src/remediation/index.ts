/** Vigil bouncer: the public API (`import { createBouncer } from 'vigil/bouncer'`). */
export { createBouncer, Bouncer } from './bouncer.ts';
export type { Verdict, VerdictReason, RequestView, HandleMode, Outcome, PushResult } from './bouncer.ts';
export type { BouncerOptions, BouncerLogger, DurationInput } from './options.ts';
export type { Remediation } from './decision-cache.ts';
export type { BouncerHealth, HealthStatus } from './health.ts';
export type { CaptchaProvider } from './captcha.ts';
export { nodeMiddleware, withBouncer, requestView } from './adapters/node-http.ts';
export { expressBouncer } from './adapters/express.ts';
export { fastifyBouncer } from './adapters/fastify.ts';
export { BOUNCER_USER_AGENT } from './version.ts';
