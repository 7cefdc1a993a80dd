// cagebench's own version, from its package.json: found by walking up from this file, so it
// is the same from the source tree and from a compiled dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function ownPackage(): { readonly name: string; readonly version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cagebench' && pkg.version) return { name: pkg.name, version: pkg.version };
    }
    const up = dirname(dir);
    if (up === dir) return { name: 'cagebench', version: '0.0.0' };
    dir = up;
  }
}

export const HARNESS_VERSION = ownPackage().version;
