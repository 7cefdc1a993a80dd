import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { commandLine, rcFile, shellArgs, TASK_SCRIPT } from './shell.ts';

describe('the centaur shell', () => {
  it("the rc's alias runs the agent with its environment, every argument intact, and the person's own arguments after", () => {
    const rc = rcFile({
      launch: { alias: 'agent', argv: ['printf', '[%s]\\n', 'two words', `{"mcp":"it's"}`], env: { CAGEBENCH_PROBE: 'a b $HOME' } },
      taskId: 't1',
      model: 'mock/echo',
    });
    const alias = rc.split('\n').find((l) => l.startsWith('alias agent='))!;
    const r = spawnSync('bash', ['-c', `shopt -s expand_aliases\n${alias}\nagent -p 'go on'\nagent sh -c 'echo "$CAGEBENCH_PROBE"' >/dev/null; env | grep -c CAGEBENCH_PROBE`], { encoding: 'utf8' });
    expect(r.stdout.split('\n').slice(0, 5)).toEqual(['[two words]', `[{"mcp":"it's"}]`, '[-p]', '[go on]', '0']);
    // The person's own rc first; `task` is a function over the script.
    expect(rc).toContain('if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi');
    expect(rc).toContain(`task() { sh ${TASK_SCRIPT} "$@"; }`);
  });

  it('the docker exec line: under script when the image has it, as the user, in the cwd; sh with ENV without bash', () => {
    const recorded = shellArgs({ container: 'abc123', user: 'nobody', cwd: '/work dir', bash: true, script: true });
    expect(recorded).toEqual(['exec', '-it', '-u', 'nobody', '-w', '/work dir', 'abc123', 'script', '-q', '-f', '--timing=/var/tmp/cagebench/centaur/recording/timing', '/var/tmp/cagebench/centaur/recording/typescript', '-c', 'bash --rcfile /var/tmp/cagebench/centaur/rc -i']);
    expect(commandLine(['docker', ...recorded])).toBe("docker exec -it -u nobody -w '/work dir' abc123 script -q -f --timing=/var/tmp/cagebench/centaur/recording/timing /var/tmp/cagebench/centaur/recording/typescript -c 'bash --rcfile /var/tmp/cagebench/centaur/rc -i'");
    expect(shellArgs({ container: 'abc123', cwd: '/', bash: false, script: false })).toEqual(['exec', '-it', '-e', 'ENV=/var/tmp/cagebench/centaur/rc', '-w', '/', 'abc123', 'sh', '-i']);
  });
});
