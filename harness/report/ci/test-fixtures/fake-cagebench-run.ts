// Test stand-in for `cagebench run` in the example CI scripts (examples.test.ts): no Docker and
// no model. It copies a prepared run directory ($CB_FAKE_CAND) to `<-o>/<--run-id>` as if the
// run had made it, then does what the real run does after its samples: compare with
// --baseline, write the CI outputs (--ctrf, --junit, --pr-comment, the job summary,
// annotations) and exit by the verdict.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { armFromRun, loadArm } from '../../../compare/arm.ts';
import { compareArms } from '../../../compare/compare.ts';
import { EXIT_COMPARE_INVALID, EXIT_COMPARE_WARN, EXIT_FAIL_UNDER, EXIT_OK } from '../../../exit-codes.ts';
import { readRunDir } from '../../../log/reader.ts';
import { writeCiOutputs } from '../outputs.ts';

const { values } = parseArgs({
  args: process.argv.slice(3), // node, script, "run"
  allowPositionals: true,
  options: {
    agent: { type: 'string' },
    model: { type: 'string' },
    epochs: { type: 'string' },
    baseline: { type: 'string' },
    ctrf: { type: 'string' },
    junit: { type: 'string' },
    'pr-comment': { type: 'string' },
    out: { type: 'string', short: 'o' },
    'run-id': { type: 'string' },
  },
});
const source = process.env.CB_FAKE_CAND;
if (!source || !values.out || !values['run-id']) throw new Error('fake cagebench run: needs $CB_FAKE_CAND, -o and --run-id');
const dir = join(values.out, values['run-id']);
await cp(source, dir, { recursive: true });
const runJson = join(dir, 'run.json');
await writeFile(runJson, JSON.stringify({ ...JSON.parse(await readFile(runJson, 'utf8')), runId: values['run-id'] }));
const view = await readRunDir(dir);
const comparison = values.baseline ? compareArms(await loadArm(values.baseline), armFromRun(view)) : undefined;
await writeCiOutputs(view, comparison, { ...(values.junit ? { junit: values.junit } : {}), ...(values.ctrf ? { ctrf: values.ctrf } : {}), ...(values['pr-comment'] ? { prComment: values['pr-comment'] } : {}) });
const codes = { PASS: EXIT_OK, FAIL: EXIT_FAIL_UNDER, WARN: EXIT_COMPARE_WARN, INVALID: EXIT_COMPARE_INVALID } as const;
process.exitCode = comparison ? codes[comparison.verdict] : EXIT_OK;
