import { describe, expect, it } from 'vitest';
import { configPathOf, processesForConfig } from './process-for-config.ts';

describe('the process that reads a configuration file', () => {
  it('reads -c FILE, -c=FILE and --config FILE', () => {
    expect(configPathOf(['/usr/bin/crowdsec-custom-bouncer', '-c', '/tmp/cb/custom.yaml'])).toBe('/tmp/cb/custom.yaml');
    expect(configPathOf(['crowdsec-firewall-bouncer', '-v', '-c=/etc/x/../fw.yaml'])).toBe('/etc/fw.yaml');
    expect(configPathOf(['node', '/usr/bin/vigil', 'bouncer', 'forward-auth', '--config', '/etc/fa.yaml'])).toBe('/etc/fa.yaml');
    expect(configPathOf(['nginx', '-g', 'daemon off;'])).toBeUndefined();
  });

  it('names the service after the program, not the file', () => {
    const procs = [
      { pid: 10, argv: ['/usr/bin/crowdsec-firewall-bouncer', '-c', '/etc/crowdsec/bouncers/fw.yaml'] },
      { pid: 11, argv: ['/usr/bin/crowdsec-custom-bouncer', '-c', '/tmp/cb/custom.yaml'] },
      { pid: 12, argv: ['node', '/usr/lib/node_modules/vigil/bin/vigil.js', 'bouncer', 'forward-auth', '-c', '/etc/fa.yaml'] },
    ];
    expect(processesForConfig(procs, '/tmp/cb/custom.yaml')).toEqual({ name: 'crowdsec-custom-bouncer', processes: [procs[1]] });
    expect(processesForConfig(procs, '/etc/fa.yaml')?.name).toBe('vigil-forward-auth');
    expect(processesForConfig(procs, '/tmp/cb/other.yaml')).toBeUndefined();
  });
});
