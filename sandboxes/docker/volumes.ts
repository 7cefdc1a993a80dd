// Named volumes filled from this machine's files (SandboxSpec.volumes): what a bind mount gives
// a local engine, for a remote one. A directory is shipped to the engine once, as a tar put into
// a helper container that is created (never started: no program of its image runs) with a fresh
// volume mounted; sandboxes then mount that volume read-only. It outlives the run: it is the
// engine's cache, found again by name by later runs and other processes.
//
// Two volumes per name, so a half-filled one is never used: the files go into a *content*
// volume of a name of its own (`<name>.<random>`), and only once all of them are in is the
// *ready* volume `<name>` created, labelled with the content volume's name. A process killed
// mid-fill leaves a content volume no ready volume names (removed by a later fill of the same
// name once it is old and unused). Two processes filling one name at once each fill their own;
// the first ready volume created wins (the engine keeps a name's first labels), and the loser
// removes its copy. Within one provider a name is filled once, however many samples start.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SandboxError, engineMessage, engineStatus } from '../errors.ts';
import { createLabels, LABEL_VOLUME, LABEL_VOLUME_CONTENT, LABEL_VOLUME_FILLED_BY, LABEL_VOLUME_NAME, LABEL_VOLUME_SOURCE } from '../labels.ts';
import type { SandboxVolume } from '../sandbox.ts';
import { packPath } from './archive.ts';
import type { Engine } from './client.ts';

/** Where the helper container mounts the volume it fills. */
const FILL_AT = '/cagebench-volume-fill';
/** A content volume no ready volume names, older than this and unused, was left by a killed fill. */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/**
 * A volume mount's options: no copy of the image's files at the mount point into the volume
 * (dockerode's type wants Labels and DriverConfig too; the engine does not).
 */
export const NO_COPY = { NoCopy: true } as unknown as { NoCopy: boolean; Labels: Record<string, string>; DriverConfig: { Name: string; Options: Record<string, string> } };

/** One volume of cagebench's on the engine, as `list()` gives it. */
export interface BuildVolume {
  /** The name sandboxes ask for (the ready volume's). */
  readonly name: string;
  /** The volume holding the files. */
  readonly content: string;
  /** Host directory it was filled from, and the run that filled it. */
  readonly source?: string;
  readonly filledByRun?: string;
  readonly createdAt?: string;
}

interface VolumeInspect {
  readonly Name: string;
  readonly Labels?: Record<string, string> | null;
  readonly CreatedAt?: string;
}

export interface FillOptions {
  /** An image the engine has, for the helper container (the sandbox's own). */
  readonly image: string;
  /** Labelled on the helper container (a sweep of the run removes one a killed process left) and on the content volume. */
  readonly runId: string;
  /** Start the helper with this argv while the files go in (an engine that writes into the volumes only of running containers). */
  readonly run?: readonly string[];
}

export class EngineVolumes {
  /** The volumes this provider filled itself and how long each took (a name found ready, or filled first by another process, is not here). */
  readonly filled: { readonly name: string; readonly content: string; readonly ms: number }[] = [];
  get fills(): number {
    return this.filled.length;
  }

  private readonly ready = new Map<string, Promise<string>>();
  private readonly closing = new AbortController();

  constructor(private readonly engine: Engine) {}

  /**
   * The content volume to mount for `volume`: found ready on the engine, or filled now through
   * a helper container of `image` (one the engine has: the sandbox's own). Once per name per
   * provider; a failed fill is tried again by the next start.
   */
  contentOf(volume: SandboxVolume, fill: FillOptions): Promise<string> {
    let pending = this.ready.get(volume.name);
    if (!pending) {
      pending = this.find(volume.name).then((found) => found ?? this.fill(volume, fill));
      this.ready.set(volume.name, pending);
      pending.catch(() => this.ready.delete(volume.name));
    }
    return pending;
  }

  /** Abort fills under way (the provider is closing). */
  close(): void {
    this.closing.abort();
  }

  /** Every ready volume cagebench filled on this engine. */
  async list(): Promise<BuildVolume[]> {
    const { Volumes } = (await this.engine.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABEL_VOLUME}=ready`] }) })) as { Volumes?: VolumeInspect[] | null };
    const found: BuildVolume[] = [];
    for (const ready of Volumes ?? []) {
      const content = ready.Labels?.[LABEL_VOLUME_CONTENT];
      if (!content) continue;
      const info = await this.inspect(content);
      if (!info) continue;
      const labels = info.Labels ?? {};
      found.push({
        name: ready.Name,
        content,
        ...(labels[LABEL_VOLUME_SOURCE] ? { source: labels[LABEL_VOLUME_SOURCE] } : {}),
        ...(labels[LABEL_VOLUME_FILLED_BY] ? { filledByRun: labels[LABEL_VOLUME_FILLED_BY] } : {}),
        ...(info.CreatedAt ? { createdAt: info.CreatedAt } : {}),
      });
    }
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Remove the volume `name` and every content volume of it (one a sandbox uses stays: the engine refuses). */
  async remove(name: string): Promise<void> {
    this.ready.delete(name);
    await this.removeVolume(name);
    const { Volumes } = (await this.engine.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABEL_VOLUME_NAME}=${name}`] }) })) as { Volumes?: VolumeInspect[] | null };
    for (const v of Volumes ?? []) await this.removeVolume(v.Name);
  }

  /** The content volume the ready volume `name` names, when both exist. */
  private async find(name: string): Promise<string | undefined> {
    const ready = await this.inspect(name);
    if (!ready) return undefined;
    const labels = ready.Labels ?? {};
    const content = labels[LABEL_VOLUME_CONTENT];
    if (labels[LABEL_VOLUME] !== 'ready' || !content) {
      throw new SandboxError(
        'CB_SANDBOX_FAILED',
        `The engine at ${this.engine.address} has a volume named "${name}" that cagebench did not fill (no ${LABEL_VOLUME}=ready label); remove it (docker volume rm ${name}) so cagebench can fill its own.`,
      );
    }
    if (await this.inspect(content)) return content;
    // Its content volume was removed by hand: the ready volume vouches for nothing now.
    await this.removeVolume(name);
    return undefined;
  }

  private async fill(volume: SandboxVolume, { image, runId, run }: FillOptions): Promise<string> {
    const { docker } = this.engine;
    const signal = this.closing.signal;
    if (signal.aborted) throw new SandboxError('CB_SANDBOX_STOPPED', `Not filling volume ${volume.name}: the sandbox provider is closing.`);
    const content = `${volume.name}.${randomBytes(4).toString('hex')}`;
    const started = performance.now();
    const failed = (cause: unknown): SandboxError =>
      cause instanceof SandboxError
        ? cause
        : signal.aborted
          ? new SandboxError('CB_SANDBOX_STOPPED', `Filling volume ${volume.name} on ${this.engine.address} was stopped: the sandbox provider is closing.`, { cause })
          : new SandboxError('CB_SANDBOX_FAILED', `Filling volume ${volume.name} on ${this.engine.address} from ${volume.source} failed: ${engineMessage(cause)}`, { cause });
    try {
      await docker.createVolume({
        Name: content,
        Labels: { [LABEL_VOLUME]: 'content', [LABEL_VOLUME_NAME]: volume.name, [LABEL_VOLUME_FILLED_BY]: runId, [LABEL_VOLUME_SOURCE]: volume.source },
      });
    } catch (cause) {
      throw failed(cause);
    }
    try {
      // Docker mounts a created container's volumes for an archive upload itself: the helper never
      // runs. Podman writes such an upload beside the volume, so there it runs (`run`) meanwhile.
      const helper = await docker.createContainer({
        Image: image,
        Entrypoint: run ? [...run] : ['true'],
        Cmd: [],
        Labels: createLabels({ runId, role: 'volume-fill', extra: { [LABEL_VOLUME_NAME]: volume.name } }),
        NetworkDisabled: true,
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: content, Target: FILL_AT, VolumeOptions: NO_COPY }] },
      });
      try {
        if (run) await helper.start();
        await putArchive(helper, packPath(volume.source, FILL_AT.slice(1)), signal);
      } finally {
        await helper.remove({ force: true }).catch(() => undefined);
      }
      if (signal.aborted) throw signal.reason;
    } catch (cause) {
      await this.removeVolume(content);
      throw failed(cause);
    }
    // Complete: say so. The first ready volume of a name stands (the engine keeps its labels).
    await docker
      .createVolume({ Name: volume.name, Labels: { [LABEL_VOLUME]: 'ready', [LABEL_VOLUME_NAME]: volume.name, [LABEL_VOLUME_CONTENT]: content } })
      .catch(() => undefined); // taken already (an engine that refuses a second create): the inspect below says by whom
    const winner = await this.find(volume.name).catch((cause: unknown) => {
      void this.removeVolume(content);
      throw failed(cause);
    });
    if (winner !== content) {
      await this.removeVolume(content);
      if (!winner) throw failed(new Error(`its ready volume ${volume.name} disappeared as it was made`));
      return winner;
    }
    this.filled.push({ name: volume.name, content, ms: Math.round(performance.now() - started) });
    await this.dropAbandoned(volume.name, content).catch(() => undefined);
    return content;
  }

  /** Content volumes of `name` that no ready volume names, left by killed fills: removed when old (one in use stays). */
  private async dropAbandoned(name: string, current: string): Promise<void> {
    const { Volumes } = (await this.engine.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABEL_VOLUME_NAME}=${name}`, `${LABEL_VOLUME}=content`] }) })) as { Volumes?: VolumeInspect[] | null };
    const all = Volumes ?? [];
    // Ages by the engine's own clock: our new volume's creation is its "now".
    const now = Date.parse(all.find((v) => v.Name === current)?.CreatedAt ?? '');
    if (!Number.isFinite(now)) return;
    for (const v of all) {
      const created = Date.parse(v.CreatedAt ?? '');
      if (v.Name !== current && Number.isFinite(created) && now - created > ABANDONED_AFTER_MS) await this.removeVolume(v.Name);
    }
  }

  private async inspect(name: string): Promise<VolumeInspect | undefined> {
    try {
      return (await this.engine.docker.getVolume(name).inspect()) as VolumeInspect;
    } catch (err) {
      if (engineStatus(err) === 404) return undefined;
      throw new SandboxError('CB_ENGINE_UNREACHABLE', `Inspecting volume ${name} on ${this.engine.address} failed: ${engineMessage(err)}`, { cause: err });
    }
  }

  /** Best effort: gone already, or in use, is fine. */
  private async removeVolume(name: string): Promise<void> {
    await this.engine.docker
      .getVolume(name)
      .remove()
      .catch(() => undefined);
  }
}

/** Put an archive at `/` of a container; a packing error (an escaping link) aborts the upload and is what is thrown. */
async function putArchive(container: { putArchive(file: NodeJS.ReadableStream, options: { path: string; abortSignal?: AbortSignal }): Promise<unknown> }, archive: Readable, closing: AbortSignal): Promise<void> {
  const abort = new AbortController();
  let packError: unknown;
  archive.once('error', (err) => {
    packError = err;
    abort.abort(err);
  });
  const stop = (): void => abort.abort(closing.reason);
  closing.addEventListener('abort', stop, { once: true });
  try {
    await container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: '/', abortSignal: abort.signal });
  } catch (err) {
    throw packError ?? err;
  } finally {
    closing.removeEventListener('abort', stop);
  }
  if (packError) throw packError;
}
