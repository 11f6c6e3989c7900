// Inbound: received faxes, paged by cursor; a fax's PDF previewed from a Blob fetched with
// the key in a header (the frame's URL is a blob: URL that carries no key), or downloaded.
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { getBlob, getJson, query } from "../api/client";
import type { InboundFax, InboundFaxPage } from "../api/models";
import { Badge, Loaded } from "../Status";
import { useResource } from "../useResource";
import { Pager, statusTone } from "./Jobs";

const PAGE_SIZE = 20;

export default function Inbound({ params }: { params: { id?: string } }) {
  return params.id ? <InboundDetail id={params.id} /> : <InboundList />;
}

function InboundList() {
  const [cursors, setCursors] = useState<string[]>([]);
  const [to, setTo] = useState("");
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useResource(
    () => getJson<InboundFaxPage>(`/inbound${query({ cursor, to, limit: PAGE_SIZE })}`),
    [cursor, to],
  );
  return (
    <>
      <h1>Inbound</h1>
      <form
        className="filters"
        aria-label="Filter received faxes"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          setTo(String(data.get("to") ?? "").trim());
          setCursors([]);
        }}
      >
        <label htmlFor="inbound-to">To number (E.164)</label>
        <input id="inbound-to" name="to" type="search" placeholder="+15551234567" />
        <button type="submit">Filter</button>
      </form>
      <Loaded resource={page}>
        {(data) => (
          <>
            <div className="table-scroll" tabIndex={0} role="region" aria-label="Received faxes">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Fax</th>
                    <th scope="col">From</th>
                    <th scope="col">To</th>
                    <th scope="col">Status</th>
                    <th scope="col">Received</th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((fax) => (
                    <tr key={fax.id} data-inbound={fax.id}>
                      <td>
                        <Link href={`/inbound/${fax.id}`}>
                          <code>{fax.id.slice(0, 12)}</code>
                        </Link>
                      </td>
                      <td>{fax.from ?? "—"}</td>
                      <td>{fax.to ?? "—"}</td>
                      <td>
                        <Badge tone={statusTone(fax.status)}>{fax.status}</Badge>
                      </td>
                      <td>{fax.received_at}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {data.items.length === 0 && <p>No received faxes.</p>}
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

function InboundDetail({ id }: { id: string }) {
  const path = `/inbound/${encodeURIComponent(id)}`;
  const fax = useResource(() => getJson<InboundFax>(path), [id]);
  return (
    <>
      <h1>Received fax</h1>
      <p>
        <Link href="/inbound">All received faxes</Link>
      </p>
      <Loaded resource={fax}>
        {(data) => (
          <>
            <dl className="facts">
              <dt>Id</dt>
              <dd>
                <code className="wrap">{data.id}</code>
              </dd>
              <dt>From</dt>
              <dd>{data.from ?? "—"}</dd>
              <dt>To</dt>
              <dd>{data.to ?? "—"}</dd>
              <dt>Pages</dt>
              <dd>{data.pages ?? "—"}</dd>
              <dt>Provider</dt>
              <dd>{data.provider}</dd>
              <dt>Received</dt>
              <dd>{data.received_at}</dd>
            </dl>
            {data.document_deleted ? (
              <p>The document was deleted (retention).</p>
            ) : (
              <Preview path={`${path}/pdf`} fileName={`fax-${data.id}.pdf`} />
            )}
          </>
        )}
      </Loaded>
    </>
  );
}

function Preview({ path, fileName }: { path: string; fileName: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    let current: string | null = null;
    getBlob(path).then(
      (blob) => {
        current = URL.createObjectURL(new Blob([blob], { type: "application/pdf" }));
        setUrl(current);
      },
      (error: unknown) => setProblem(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      if (current !== null) URL.revokeObjectURL(current);
    };
  }, [path]);
  if (problem !== null) return <p role="alert" className="error">{problem}</p>;
  if (url === null) return <p role="status">Loading the PDF…</p>;
  return (
    <section aria-labelledby="pdf-heading">
      <h2 id="pdf-heading">Document</h2>
      <p>
        <a href={url} download={fileName}>
          Download the PDF
        </a>
      </p>
      <iframe className="pdf" title="The received fax (PDF)" src={url} />
    </section>
  );
}
