// Images: an existing image is checked; a Dockerfile context directory is built through
// the engine API, tagged by a hash of its content, and built once per content however
// many samples ask for it at the same time.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { ImageSource } from '../sandbox.ts';
import { SandboxError, engineStatus, engineMessage } from '../errors.ts';
import { listHostTree, packPath, type TreeOptions } from './archive.ts';
import { baseImages } from './dockerfile.ts';
import type { Engine } from './client.ts';
import { LABEL_IMAGE_CONTEXT, LABEL_IMAGE_CONTEXT_DIGEST, LABEL_IMAGE_KIND, TASK_IMAGE_REPO } from '../labels.ts';

// A CommonJS module whose types claim an ES default export: load it as what it is.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;

const BUILD_LOG_TAIL_LINES = 25;
const DEFAULT_BUILD_TIMEOUT_MS = 600_000;

/**
 * The context's `.dockerignore` as a tree filter, with the engine's rules: the Dockerfile
 * and the ignore file itself are always sent; an ignored directory is only walked when
 * some `!` pattern could bring a path under it back.
 */
export async function contextFilter(dir: string): Promise<TreeOptions> {
  const text = await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  const patterns = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const rules = dockerignore({ ignorecase: false }).add(patterns);
  return {
    ignore: (rel) => rel !== 'Dockerfile' && rel !== '.dockerignore' && rules.ignores(rel),
    descendIgnored: patterns.some((p) => p.startsWith('!')),
  };
}

/** Hash of the path, mode and bytes of every file (and every link's target) the build sees. */
export async function contextDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const e of await listHostTree(resolve(dir), '', await contextFilter(dir))) {
    if (e.type === 'symlink') hash.update(`l\0${e.name}\0${e.linkname}\0`);
    else hash.update(`${e.type[0]}\0${e.name}\0${e.mode}\0${e.type === 'file' ? e.size : 0}\0`);
    if (e.type === 'file') hash.update(await readFile(e.abs));
  }
  return hash.digest('hex');
}

export interface BuildOptions {
  /** @default 600_000 */
  readonly buildTimeoutMs?: number;
  /** Each line of the build's log as it comes (only the caller that started the build gets them). */
  readonly onBuildLog?: (line: string) => void;
  /** More labels for the image, when this call builds it (the task, the run: sandboxes/labels.ts). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Told once the image exists, when this call built it (not when the engine had it already). */
  readonly onBuilt?: (image: { readonly tag: string; readonly id: string }) => void;
}

export class ImageStore {
  /** Builds in flight or done, by tag: concurrent callers share one build (and its failure). */
  private readonly builds = new Map<string, Promise<string>>();
  /** Tags whose build in `builds` succeeded: checked again before reuse (a prune may have removed them). */
  private readonly done = new Set<string>();

  constructor(private readonly engine: Engine) {}

  /** The image tag to create sandboxes from, building it first when needed. */
  async ensure(source: ImageSource, options: BuildOptions = {}): Promise<string> {
    if ('image' in source) {
      // An image with a Dockerfile beside it (Harbor's docker_image): the image when the engine has it, else the build.
      if (!source.dockerfile || (await this.has(source.image))) {
        await this.requirePresent(source.image);
        return source.image;
      }
    }
    const { dir, digest, tag } = await this.context(source.dockerfile!);
    // Built earlier in this run, then pruned (a disk budget, `cagebench images prune`): build again.
    if (this.done.has(tag) && !(await this.has(tag))) {
      this.done.delete(tag);
      this.builds.delete(tag);
    }
    let build = this.builds.get(tag);
    if (!build) {
      build = this.buildOnce(dir, tag, digest, options);
      this.builds.set(tag, build);
      build.then(() => this.done.add(tag), () => undefined);
      // A failure of the engine may pass; one of the task's own stays, so its other samples fail at once.
      build.catch((err: unknown) => {
        if (!(err instanceof SandboxError) || err.kind === 'infra') this.builds.delete(tag);
      });
    }
    return build;
  }

  /**
   * The task image tag `source` builds to (`cagebench/env:<digest16>`), whether built yet or
   * not; undefined when the source is an image the engine has (the user's, never built here).
   */
  async tagOf(source: ImageSource): Promise<string | undefined> {
    if ('image' in source && (!source.dockerfile || (await this.has(source.image)))) return undefined;
    return (await this.context(source.dockerfile!)).tag;
  }

  private async context(dockerfile: string): Promise<{ dir: string; digest: string; tag: string }> {
    const dir = resolve(dockerfile);
    const digest = await contextDigest(dir).catch((cause: unknown) => {
      if (cause instanceof SandboxError) throw cause; // a link out of the context names itself
      throw new SandboxError('CB_BAD_SPEC', `Cannot read the Dockerfile context directory ${dir}: ${engineMessage(cause)}`, { cause });
    });
    return { dir, digest, tag: `${TASK_IMAGE_REPO}:${digest.slice(0, 16)}` };
  }

  /** Whether the engine has `image`. */
  has(image: string): Promise<boolean> {
    return this.engine.docker
      .getImage(image)
      .inspect()
      .then(() => true, () => false);
  }

  private async requirePresent(image: string): Promise<void> {
    try {
      await this.engine.docker.getImage(image).inspect();
    } catch (cause) {
      if (engineStatus(cause) === 404) {
        // The image the task (or the caller) names: theirs to provide, so never retried.
        throw new SandboxError(
          'CB_IMAGE_NOT_FOUND',
          `Image "${image}" is not in the Docker engine at ${this.engine.address}; cagebench does not pull images. ` +
            `${howToProvide(image)} (scripts/setup.sh builds cagebench/sandbox:bookworm.)`,
          { cause, kind: 'task' },
        );
      }
      throw cause;
    }
  }

  private async buildOnce(dir: string, tag: string, digest: string, options: BuildOptions): Promise<string> {
    const timeoutMs = options.buildTimeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
    if (await this.has(tag)) return tag;
    const dockerfile = join(dir, 'Dockerfile');
    await this.requireBaseImages(dockerfile);
    const log: string[] = [];
    const tail = (): string => log.slice(-BUILD_LOG_TAIL_LINES).map((l) => `  | ${l}`).join('\n');
    const failed = (code: 'CB_IMAGE_BUILD_FAILED' | 'CB_IMAGE_BUILD_TIMEOUT' | 'CB_BASE_IMAGE_MISSING' | 'CB_BUILD_INTERRUPTED', why: string, cause?: unknown): SandboxError =>
      new SandboxError(code, `Building ${dockerfile} ${why}${log.length ? `\nLast lines of the build log:\n${tail()}` : ''}`, cause === undefined ? undefined : { cause });

    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.engine.docker.buildImage(packPath(dir, '', await contextFilter(dir)), {
        t: tag,
        labels: { ...options.labels, [LABEL_IMAGE_CONTEXT]: dir, [LABEL_IMAGE_KIND]: 'task', [LABEL_IMAGE_CONTEXT_DIGEST]: digest },
        rm: true,
        forcerm: true,
      });
    } catch (cause) {
      // The engine read the Dockerfile and refused it (a parse error): the task's to fix.
      if (engineStatus(cause) === 400) throw failed('CB_IMAGE_BUILD_FAILED', `failed: the engine refused the Dockerfile: ${engineMessage(cause).trim()}`, cause);
      throw failed('CB_BUILD_INTERRUPTED', `could not start: the engine at ${this.engine.address} did not take the build (${engineMessage(cause)})`, cause);
    }
    const end = await new Promise<BuildEnd>((done) => {
      let stepError: string | undefined; // the engine reports a failed step as an event, not a stream error
      const timer = setTimeout(() => {
        done({ kind: 'timeout' });
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      }, timeoutMs);
      this.engine.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          clearTimeout(timer);
          done(err ? { kind: 'lost', error: err } : stepError !== undefined ? { kind: 'step', message: stepError } : { kind: 'ended' });
        },
        (event: { stream?: string; error?: string; status?: string }) => {
          if (event.error) stepError = event.error.trim();
          const text = event.stream ?? event.status ?? event.error;
          const lines = text ? text.split('\n').filter((l) => l.trim() !== '') : [];
          log.push(...lines);
          if (options.onBuildLog) for (const line of lines) options.onBuildLog(line);
          if (log.length > 500) log.splice(0, log.length - 500);
        },
      );
    });
    switch (end.kind) {
      case 'timeout':
        throw failed('CB_IMAGE_BUILD_TIMEOUT', `took longer than ${Math.round(timeoutMs / 1000)} s; make the build faster or raise the task's build timeout (Harbor: [environment] build_timeout_sec).`);
      case 'lost':
        throw failed('CB_BUILD_INTERRUPTED', `was cut off: the connection to the engine at ${this.engine.address} failed (${end.error.message})`, end.error);
      case 'step':
        if (RUN_FAILED.test(end.message)) throw failed('CB_IMAGE_BUILD_FAILED', `failed: ${end.message}`);
        if (ENGINE_FAULT.test(end.message)) throw failed('CB_BUILD_INTERRUPTED', `failed in the engine, not in the Dockerfile: ${end.message}`);
        if (PULL_FAILED.test(end.message)) throw failed('CB_BASE_IMAGE_MISSING', `failed: an image it needs could not be pulled: ${end.message}. ${howToProvide()}`);
        throw failed('CB_IMAGE_BUILD_FAILED', `failed: ${end.message}`);
      case 'ended':
        // A stream that ends without an error or an image was cut short by the engine.
        const id = await this.tagged(tag);
        if (!id) throw failed('CB_BUILD_INTERRUPTED', `ended without an image: the engine at ${this.engine.address} closed the build before it finished`);
        options.onBuilt?.({ tag, id });
        return tag;
    }
  }

  /** The image id the build tagged `tag`, if any; an engine that does not answer is an interrupted build. */
  private async tagged(tag: string): Promise<string | undefined> {
    try {
      return (await this.engine.docker.getImage(tag).inspect()).Id;
    } catch (cause) {
      if (engineStatus(cause) === 404) return undefined;
      throw new SandboxError('CB_BUILD_INTERRUPTED', `The engine at ${this.engine.address} stopped answering right after building ${tag}: ${engineMessage(cause)}`, { cause });
    }
  }

  /**
   * Every image the Dockerfile builds from must be in the engine already: cagebench never
   * pulls (the engine would try a registry, which may be unreachable or slow to fail).
   */
  private async requireBaseImages(dockerfile: string): Promise<void> {
    const text = await readFile(dockerfile, 'utf8').catch((cause: unknown) => {
      throw new SandboxError('CB_IMAGE_BUILD_FAILED', `Cannot build ${dockerfile}: ${engineMessage(cause)}. A Dockerfile context directory needs a file named Dockerfile.`, { cause });
    });
    for (const image of baseImages(text)) {
      try {
        await this.engine.docker.getImage(image).inspect();
      } catch (cause) {
        if (engineStatus(cause) !== 404) throw new SandboxError('CB_ENGINE_UNREACHABLE', `Could not ask the engine at ${this.engine.address} for ${image}: ${engineMessage(cause)}`, { cause });
        throw new SandboxError(
          'CB_BASE_IMAGE_MISSING',
          `${dockerfile} builds from the image "${image}", which is not in the Docker engine at ${this.engine.address}; ` +
            `cagebench does not pull images. ${howToProvide(image)}`,
          { cause },
        );
      }
    }
  }
}

type BuildEnd = { kind: 'timeout' } | { kind: 'lost'; error: Error } | { kind: 'step'; message: string } | { kind: 'ended' };

/** How to get an image into the engine without cagebench pulling it; `image` unknown: IMAGE. */
function howToProvide(image?: string): string {
  const name = image ?? 'IMAGE';
  return (
    `Provide ${image ?? 'it'} to the engine first: 'docker load -i FILE.tar' (a 'docker save ${name}' made where it exists), ` +
    `'docker build -t ${name} DIR' to build it locally, or 'docker pull ${name}' where a registry is reachable; then run again.`
  );
}

/** A RUN step whose command failed: the Dockerfile's own doing, whatever the command printed. */
const RUN_FAILED = /returned a non-zero code/;

/** Step errors that are the engine's or the machine's, not the Dockerfile's: worth a retry. */
const ENGINE_FAULT =
  /failed to create endpoint|no space left on device|cannot allocate memory|error creating overlay mount|failed to register layer|failed to get layer|context canceled|connection reset|broken pipe|i\/o timeout|Cannot connect to the Docker daemon/i;

/** Step errors of a FROM (or COPY --from) whose image the engine could not fetch. */
const PULL_FAILED = /pull access denied|manifest unknown|repository does not exist|failed to resolve reference|no such host|dial tcp|error pulling image|toomanyrequests/i;
