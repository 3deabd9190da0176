import { z } from 'zod';

/**
 * The `watch:` block of vigil.yaml (read by `vigil watch` only). Its own module, importing nothing
 * of Vigil's, so the configuration loader can include it without an import cycle.
 */
export const watchFileSchema = z
  .object({
    crowdsec_config: z.string().optional(),
    crowdsec_db: z.string().optional(),
    cscli: z.string().optional(),
    poll_every: z.string().optional(),
    listen: z.string().optional(),
    lapi_url: z.string().optional(),
    deployment: z.enum(['host', 'docker', 'kubernetes']).optional(),
  })
  .strict();

export type WatchFileSection = z.infer<typeof watchFileSchema>;
