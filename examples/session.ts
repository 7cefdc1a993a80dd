// A multi-turn session embedded in a program: each turn's prompt goes to the agent, which
// keeps its own session between turns; each turn reports the files it created, modified and
// deleted. The scripted `mock/` model needs no key (give a real model to use one):
//   npx tsx --tsconfig examples/tsconfig.json examples/session.ts [agent] [provider/model]
import { fileURLToPath } from 'node:url';
import { createSession } from 'cagebench';

const agent = process.argv[2] ?? 'claude_code';
const model = process.argv[3] ?? `mock/${fileURLToPath(new URL('../harness/e2e/fixtures/three-turns.yaml', import.meta.url))}`;
const session = await createSession({ agent, model, dir: process.env.SESSION_DIR ?? `sessions/example-${Date.now()}` });
try {
  for (const prompt of ['Create notes.txt.', 'Add a line to notes.txt.', 'Replace notes.txt with other.txt.']) {
    const turn = await session.send(prompt);
    const { created, modified, deleted } = turn.files;
    console.log(`${turn.runId}: ${turn.stopReason}; created [${created}] modified [${modified}] deleted [${deleted}]; "${turn.finalMessage}"`);
  }
} finally {
  await session.close();
}
