// What a cagebench process's exit code means. CI jobs branch on these, so each has one
// meaning and the README lists them.

/** Every sample scored and the score met --fail-under (when given). */
export const EXIT_OK = 0;
/** The regression gate: the mean score is under --fail-under, or `compare` found the candidate significantly worse (FAIL). */
export const EXIT_FAIL_UNDER = 1;
/** Bad flags, configuration or task files: nothing ran. */
export const EXIT_USAGE = 2;
/** An agent cannot start on a task's image (its preflight failed). */
export const EXIT_PREFLIGHT = 3;
/**
 * Samples ended in errors (more than --max-errors allows): those samples are not scored. For
 * `rescore`: a sample that had a score could not be rescored (no saved workspace state, its
 * task gone, multi-turn), or its rescore ended in an error.
 */
export const EXIT_SAMPLE_ERRORS = 4;
/** `compare` is inconclusive (WARN): the run cannot rule out a drop of --warn-delta. Non-blocking by intent: a CI job may accept it. */
export const EXIT_COMPARE_WARN = 5;
/** `compare` cannot judge (INVALID): too many error samples in an arm, or too few tasks valid in both. */
export const EXIT_COMPARE_INVALID = 6;
/** The Docker engine stopped answering for longer than --engine-grace: `resume` once it is back (EX_TEMPFAIL). */
export const EXIT_ENGINE_LOST = 75;
/** cagebench itself failed, as `docker run` reports it. */
export const EXIT_INFRA = 125;
/** Interrupted by a signal (Ctrl-C): `resume` finishes the run. */
export const EXIT_INTERRUPTED = 130;

/** The exit code of a comparison's verdict: PASS 0, FAIL 1, WARN 5, INVALID 6. */
export function verdictExitCode(verdict: 'PASS' | 'WARN' | 'FAIL' | 'INVALID'): number {
  return { PASS: EXIT_OK, FAIL: EXIT_FAIL_UNDER, WARN: EXIT_COMPARE_WARN, INVALID: EXIT_COMPARE_INVALID }[verdict];
}
