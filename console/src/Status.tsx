// What a page shows while its data loads or when the API refused it.
import type { ReactNode } from "react";
import type { Resource } from "./useResource";

export function Loaded<T>({ resource, children }: { resource: Resource<T>; children: (value: T) => ReactNode }) {
  if (resource.state === "loading") return <p role="status">Loading…</p>;
  if (resource.state === "failed") {
    return (
      <p role="alert" className="error">
        {resource.error.message}
      </p>
    );
  }
  return <>{children(resource.value)}</>;
}

export function Badge({ children, tone = "plain" }: { children: ReactNode; tone?: "plain" | "good" | "bad" | "warn" }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}
