import { describe, expect, it } from 'vitest';
import { shellWords } from './shell-words.ts';
import { runbookPlaceFromCommand } from './deployment.ts';

describe('shell words (--cscli)', () => {
  it('splits the commands operators give', () => {
    expect(shellWords('docker exec crowdsec cscli')).toEqual(['docker', 'exec', 'crowdsec', 'cscli']);
    expect(shellWords('kubectl exec -n crowdsec deploy/lapi -- cscli')).toEqual(['kubectl', 'exec', '-n', 'crowdsec', 'deploy/lapi', '--', 'cscli']);
    expect(shellWords('  sudo   cscli  ')).toEqual(['sudo', 'cscli']);
  });

  it('keeps quoted words whole, as a shell would', () => {
    expect(shellWords(`ssh -i '/root/my keys/id' root@fw "cscli -c /etc/crowdsec/config.yaml"`)).toEqual([
      'ssh',
      '-i',
      '/root/my keys/id',
      'root@fw',
      'cscli -c /etc/crowdsec/config.yaml',
    ]);
    expect(shellWords(`a "b \\"c\\" \\\\ d" e\\ f ''`)).toEqual(['a', 'b "c" \\ d', 'e f', '']);
    expect(shellWords(`x 'it'\\''s'`)).toEqual(['x', "it's"]);
  });

  it('refuses what only a shell could run, naming the flag and the fix', () => {
    for (const bad of [
      'cscli | tee x',
      'cscli; rm -rf /',
      'cscli > out',
      'docker exec $CONTAINER cscli',
      'docker exec "$(pick)" cscli',
      'cscli `x`',
      'cscli &',
      'ls *',
    ]) {
      expect(() => shellWords(bad), bad).toThrow(/--cscli ".*": .* needs a shell, and the command is run without one; put it in a script/);
    }
    expect(() => shellWords("docker exec 'crowdsec cscli")).toThrow(/unterminated single quote/);
    expect(() => shellWords('docker exec "crowdsec cscli')).toThrow(/unterminated double quote/);
    expect(() => shellWords('   ')).toThrow(/--cscli is empty/);
  });

  it('lets quoted operators through as plain characters', () => {
    expect(shellWords(`env 'A=x|y' cscli`)).toEqual(['env', 'A=x|y', 'cscli']);
  });
});

describe('where cscli runs, for runbooks', () => {
  it('reads docker and podman exec, skipping their options', () => {
    expect(runbookPlaceFromCommand(shellWords('docker exec crowdsec cscli'))).toEqual({ deployment: 'docker', container: 'crowdsec' });
    expect(runbookPlaceFromCommand(shellWords('sudo docker exec -i -u root -e LANG=C cs-lapi cscli'))).toEqual({ deployment: 'docker', container: 'cs-lapi' });
    expect(runbookPlaceFromCommand(shellWords('/usr/bin/podman exec --workdir / crowdsec cscli'))).toEqual({ deployment: 'docker', container: 'crowdsec' });
  });

  it('reads kubectl exec and its namespace', () => {
    expect(runbookPlaceFromCommand(shellWords('kubectl exec -n security deploy/lapi -- cscli'))).toEqual({ deployment: 'kubernetes', namespace: 'security' });
    expect(runbookPlaceFromCommand(shellWords('kubectl --namespace=cs exec deploy/lapi -- cscli'))).toEqual({ deployment: 'kubernetes', namespace: 'cs' });
    expect(runbookPlaceFromCommand(shellWords('kubectl exec deploy/lapi -- cscli'))).toEqual({ deployment: 'kubernetes' });
  });

  it('is the host for anything else', () => {
    expect(runbookPlaceFromCommand(shellWords('cscli'))).toEqual({ deployment: 'host' });
    expect(runbookPlaceFromCommand(shellWords('env LC_ALL=C /usr/bin/cscli -c /etc/crowdsec/config.yaml'))).toEqual({ deployment: 'host' });
  });
});
