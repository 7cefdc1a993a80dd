// Durations (`7d`, `12h`) and sizes (`20GB`, `512MiB`) as people type them, with errors that
// say what was wrong and what is allowed.
import { ConfigError } from '../errors.ts';

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `12h`, `7d`, `2w` → milliseconds. */
export function parseDuration(text: string, what = 'a duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$/i.exec(text);
  if (!m) throw new ConfigError(`${what} must be a number and a unit: s, m, h, d or w (e.g. 7d, 12h); got "${text}".`);
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!);
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

/** The grammar parseSize accepts (harness/options.ts holds a copy for --disk-budget). */
export const SIZE_PATTERN = /^\s*\d+(\.\d+)?\s*([kmgt]i?b|[kmgt]|b)?\s*$/i;

/** `20GB`, `20G`, `500MB`, `1.5TiB`, `1000000` (bytes) → bytes. KB, MB, GB, TB are powers of 1000 (as Docker prints them); KiB, MiB, GiB, TiB powers of 1024. */
export function parseSize(text: string, what = 'a size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m?.[2]?.toLowerCase() ?? '';
  const factor = unit === '' ? 1 : SIZE_UNITS[unit];
  if (!m || factor === undefined) throw new ConfigError(`${what} must be a number and a unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (e.g. 20GB); got "${text}".`);
  const bytes = Math.round(Number(m[1]) * factor);
  if (bytes <= 0) throw new ConfigError(`${what} must be more than 0 bytes; got "${text}".`);
  return bytes;
}

/** 1_234_567 → "1.2 MB" (powers of 1000, as `docker images` prints). */
export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1e3;
  let i = 0;
  while (value >= 1e3 && i < units.length - 1) {
    value /= 1e3;
    i++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[i]}`;
}
