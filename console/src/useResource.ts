// Load one thing from the API for a page: loading, the value, or the error to show.
import { useEffect, useState } from "react";

export type Resource<T> =
  | { state: "loading" }
  | { state: "ready"; value: T }
  | { state: "failed"; error: Error };

export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [resource, setResource] = useState<Resource<T>>({ state: "loading" });
  useEffect(() => {
    let current = true;
    setResource({ state: "loading" });
    load().then(
      (value) => current && setResource({ state: "ready", value }),
      (error: unknown) =>
        current && setResource({ state: "failed", error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return resource;
}
