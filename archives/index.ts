// archives/: the one safe extractor for tar streams and the one packer, shared by the agent
// cache (npm tarballs) and the sandboxes (engine archives), which may not import each other. Like
// them it sits at the bottom of the arrows and imports nothing of ours; other folders use it
// through this file.
export { extractSafely, kindOf, type ArchiveEntry, type ExtractPolicy, type ExtractResult } from './extract.ts';
export { insideRoot, linkStaysInside } from './names.ts';
export { packEntries, type HostFile, type PackEntry, type PackEntryType } from './pack.ts';
