import { describe, expect, it } from 'vitest';
import type { AttemptContext } from './agent.ts';
import { openCodeInteractive, openCodeLaunch, openCodeOptionsSchema, OPENCODE_STATE } from './opencode.ts';
import { parseAgentOptions } from './options.ts';

const BIN = '/opt/cagebench/agents/opencode/bin/opencode';
const ctx = {
  task: { instruction: 'do it', environment: { workdir: '/app' } },
  identity: { user: undefined, uid: 0, gid: 0, owner: '0:0', home: '/root', path: '/usr/local/bin:/usr/bin:/bin', root: true, homeWritable: true },
  installed: { opencode: { binary: BIN, path: ['/opt/cagebench/agents/opencode/bin'] } },
  model: { model: 'mock/solve', token: 'tok', baseUrls: { anthropic: 'http://10.213.0.2:9000', openai: 'http://10.213.0.2:9000/v1', gemini: 'http://10.213.0.2:9000' } },
} as unknown as AttemptContext;
const options = (raw: unknown) => parseAgentOptions('opencode', openCodeOptionsSchema, raw);

describe('opencode interactive (centaur)', () => {
  it('the TUI (no run --format json), configured by the same environment', () => {
    const launch = openCodeInteractive(ctx, options({}));
    expect(launch.alias).toBe('opencode');
    expect(launch.argv).toEqual([BIN]);
    expect(openCodeInteractive(ctx, options({ debug: true })).argv).toEqual([BIN, '--print-logs', '--log-level', 'DEBUG']);
    expect(launch.env).toEqual(openCodeLaunch(ctx, { prompt: 'do it' }, options({})).env);
  });
});

describe('opencode launch', () => {
  it('run --format json; its models catalog is an empty file of ours, nothing fetched or updated', () => {
    const launch = openCodeLaunch(ctx, { prompt: 'do it' }, options({}));
    expect(launch.argv).toEqual([BIN, 'run', '--format', 'json', 'do it']);
    expect(launch.env).toMatchObject({
      OPENCODE_DB: `${OPENCODE_STATE}/opencode.db`,
      OPENCODE_CONFIG_DIR: `${OPENCODE_STATE}/config`,
      OPENCODE_MODELS_PATH: `${OPENCODE_STATE}/models.json`,
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    });
    // The task's world stays: no HOME or XDG directories moved for a user whose HOME is writable.
    expect(Object.keys(launch.env).filter((k) => k === 'HOME' || k.startsWith('XDG_'))).toEqual([]);
    expect(launch.files).toEqual([{ path: `${OPENCODE_STATE}/models.json`, content: '{}\n' }]);
    const config = JSON.parse(launch.env.OPENCODE_CONFIG_CONTENT!) as { provider: Record<string, { options: unknown; models: Record<string, unknown> }>; model: string };
    expect(config.model).toBe('cagebench/solve');
    expect(config.provider.cagebench!.options).toEqual({ baseURL: 'http://10.213.0.2:9000/v1', apiKey: 'tok' });
    expect(Object.keys(config.provider.cagebench!.models)).toEqual(['solve']);
  });

  it('the host tools\' server is a remote MCP server, enabled, its tools allowed like every tool', () => {
    const launch = openCodeLaunch(ctx, { prompt: 'do it' }, options({ mcp_servers: { cagebench: { url: 'http://10.213.0.2:9000/mcp', headers: { Authorization: 'Bearer tok' } } } }));
    const config = JSON.parse(launch.env.OPENCODE_CONFIG_CONTENT!) as { mcp: unknown; permission: unknown };
    expect(config.mcp).toEqual({ cagebench: { type: 'remote', url: 'http://10.213.0.2:9000/mcp', headers: { Authorization: 'Bearer tok' }, enabled: true } });
    expect(config.permission).toEqual({ '*': 'allow' });
  });

  it('a system prompt is an instructions file beside the catalog; a later attempt resumes with -s', () => {
    const launch = openCodeLaunch(ctx, { prompt: 'again', resume: 'ses_1' }, options({ system_prompt: 'Be brief.' }));
    expect(launch.argv).toEqual([BIN, 'run', '--format', 'json', '-s', 'ses_1', 'again']);
    expect(launch.files!.map((f) => f.path)).toEqual([`${OPENCODE_STATE}/models.json`, `${OPENCODE_STATE}/instructions.md`]);
  });
});
