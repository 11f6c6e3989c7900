// Jobs: sent faxes, newest first, filtered by status and paged by the API's cursor; a job's
// timeline is told from its own fields (created, last change, final status).
import { useState } from "react";
import { Link } from "wouter";
import { getJson, query } from "../api/client";
import type { FaxJob, FaxJobPage, FaxStatus } from "../api/models";
import { Badge, Loaded } from "../Status";
import { useResource } from "../useResource";

const STATUSES: FaxStatus[] = ["queued", "in_progress", "SUCCESS", "FAILED"];
const PAGE_SIZE = 20;

export function statusTone(status: string): "good" | "bad" | "plain" {
  return status === "SUCCESS" || status === "received" ? "good" : status === "FAILED" ? "bad" : "plain";
}

export default function Jobs({ params }: { params: { id?: string } }) {
  return params.id ? <JobDetail id={params.id} /> : <JobList />;
}

function JobList() {
  const [status, setStatus] = useState("");
  const [to, setTo] = useState("");
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useResource(
    () => getJson<FaxJobPage>(`/fax${query({ status, to, cursor, limit: PAGE_SIZE })}`),
    [status, to, cursor],
  );
  return (
    <>
      <h1>Jobs</h1>
      <form
        className="filters"
        aria-label="Filter jobs"
        onSubmit={(event) => {
          event.preventDefault();
          setTo(String(new FormData(event.currentTarget).get("to") ?? "").trim());
          setCursors([]);
        }}
      >
        <label htmlFor="jobs-status">Status</label>
        <select
          id="jobs-status"
          value={status}
          onChange={(event) => {
            setStatus(event.target.value);
            setCursors([]);
          }}
        >
          <option value="">any</option>
          {STATUSES.map((name) => (
            <option key={name}>{name}</option>
          ))}
        </select>
        <label htmlFor="jobs-to">Recipient (E.164)</label>
        <input id="jobs-to" name="to" type="search" placeholder="+15551234567" />
        <button type="submit">Filter</button>
      </form>
      <Loaded resource={page}>
        {(data) => (
          <>
            <div className="table-scroll" tabIndex={0} role="region" aria-label="Jobs">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Job</th>
                    <th scope="col">To</th>
                    <th scope="col">Status</th>
                    <th scope="col">Pages</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((job) => (
                    <tr key={job.id} data-job={job.id}>
                      <td>
                        <Link href={`/jobs/${job.id}`}>
                          <code>{job.id.slice(0, 12)}</code>
                        </Link>
                      </td>
                      <td>{job.to}</td>
                      <td>
                        <Badge tone={statusTone(job.status)}>{job.status}</Badge>
                      </td>
                      <td>{job.pages}</td>
                      <td>{job.created_at}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {data.items.length === 0 && <p>No jobs match.</p>}
            <Pager
              onFirst={cursors.length > 0 ? () => setCursors([]) : null}
              onNext={data.next_cursor ? () => setCursors([...cursors, data.next_cursor as string]) : null}
            />
          </>
        )}
      </Loaded>
    </>
  );
}

export function Pager({ onFirst, onNext }: { onFirst: (() => void) | null; onNext: (() => void) | null }) {
  return (
    <nav aria-label="Pages" className="pager">
      <button type="button" disabled={onFirst === null} onClick={() => onFirst?.()}>
        First page
      </button>
      <button type="button" disabled={onNext === null} onClick={() => onNext?.()}>
        Next page
      </button>
    </nav>
  );
}

function JobDetail({ id }: { id: string }) {
  const job = useResource(() => getJson<FaxJob>(`/fax/${encodeURIComponent(id)}`), [id]);
  return (
    <>
      <h1>Job</h1>
      <p>
        <Link href="/jobs">All jobs</Link>
      </p>
      <Loaded resource={job}>
        {(data) => (
          <>
            <dl className="facts">
              <dt>Id</dt>
              <dd>
                <code className="wrap">{data.id}</code>
              </dd>
              <dt>To</dt>
              <dd>{data.to}</dd>
              <dt>Status</dt>
              <dd>
                <Badge tone={statusTone(data.status)}>{data.status}</Badge>
              </dd>
              <dt>Backend</dt>
              <dd>{data.backend}</dd>
              <dt>Provider id</dt>
              <dd>{data.provider_sid ?? "—"}</dd>
              <dt>Pages</dt>
              <dd>{data.pages}</dd>
            </dl>
            <h2>Timeline</h2>
            <ol className="timeline">
              <li>
                <time dateTime={data.created_at}>{data.created_at}</time>: accepted (queued)
              </li>
              {data.updated_at !== data.created_at && (
                <li>
                  <time dateTime={data.updated_at}>{data.updated_at}</time>: last change, now{" "}
                  <Badge tone={statusTone(data.status)}>{data.status}</Badge>
                  {data.error ? `: ${data.error}` : ""}
                </li>
              )}
            </ol>
          </>
        )}
      </Loaded>
    </>
  );
}
