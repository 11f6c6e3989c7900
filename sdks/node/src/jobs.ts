// Fax jobs as the client hands them out: the generated schemas, with a status that also
// takes values this SDK does not know yet, so that a newer appliance's new status neither
// fails a type check that compares statuses nor crashes an older client.

import type * as generated from "./generated/types.js";

/** Where a fax is: `queued`, `in_progress`, `SUCCESS` or `FAILED` (the generated `FaxStatus`),
 * or a status a newer appliance added, kept as it came. */
export type JobStatus = generated.FaxStatus | (string & {});

/** A fax job (the spec's `FaxJob`), its `status` open to new values. */
export type FaxJob = Omit<generated.FaxJob, "status"> & { status: JobStatus };

/** One page of jobs (the spec's `FaxJobPage`). */
export type FaxJobPage = Omit<generated.FaxJobPage, "items"> & { items: FaxJob[] };

/** The statuses a job never leaves. Any other, a new one included, may still change. */
export const TERMINAL_STATUSES: readonly JobStatus[] = ["SUCCESS", "FAILED"];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
