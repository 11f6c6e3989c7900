// Any JSON value as nested lists and tables: the console shows what the API returned, in the
// API's own words, without a renderer per field.
import type { ReactNode } from "react";

export function Value({ value }: { value: unknown }): ReactNode {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    return (
      <ul className="values">
        {value.map((item, index) => (
          <li key={index}>
            <Value value={item} />
          </li>
        ))}
      </ul>
    );
  }
  if (typeof value === "object") return <Entries value={value as Record<string, unknown>} />;
  if (typeof value === "boolean") return <span>{value ? "yes" : "no"}</span>;
  return <span className="wrap">{String(value)}</span>;
}

export function Entries({ value }: { value: Record<string, unknown> }) {
  return (
    <dl className="facts">
      {Object.entries(value).map(([name, item]) => (
        <div key={name} className="fact">
          <dt>{name}</dt>
          <dd>
            <Value value={item} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
