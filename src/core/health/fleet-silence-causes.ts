import type { StepId } from './runbooks/index.ts';

/** Fleet Silent's cause (fleet-silence.ts), spread into the cause registry (causes.ts); its runbook is fleet-silence-runbook.ts. */
export const FLEET_CAUSES = {
  fleet_network: {
    text: 'network or Local API host: many bouncers went silent at the same moment',
    summary:
      'many bouncers stopped pulling at once: the network between them and the Local API, or the Local API host (its network, its firewall, its load balancer), is the likely fault, not each bouncer',
    first: { diagnose: ['connectivity', 'logs'], resolve: ['network'] },
  },
} as const satisfies Record<string, { text: string; summary: string; first: { diagnose: StepId[]; resolve: StepId[] } }>;
