// The shell: sign-in until a key with admin:read is held, then the pages, each a route
// under /admin. Pages other than the overview load on demand (their code and rjsf's).
import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";
import { Link, Redirect, Route, Router, Switch, useLocation } from "wouter";
import { SIGNED_OUT } from "./api/client";
import { forgetKey, storedKey } from "./session";
import { SignIn } from "./pages/SignIn";
import { Overview } from "./pages/Overview";

const Plugins = lazy(() => import("./pages/Plugins"));
const Propose = lazy(() => import("./pages/Propose"));
const RegistryPage = lazy(() => import("./pages/Registry"));
const Jobs = lazy(() => import("./pages/Jobs"));
const Inbound = lazy(() => import("./pages/Inbound"));
const DiagnosticsPage = lazy(() => import("./pages/Diagnostics"));

export const PAGES: { path: string; label: string }[] = [
  { path: "/", label: "Overview" },
  { path: "/plugins", label: "Plugins" },
  { path: "/propose", label: "Propose a change" },
  { path: "/registry", label: "Registry" },
  { path: "/jobs", label: "Jobs" },
  { path: "/inbound", label: "Inbound" },
  { path: "/diagnostics", label: "Diagnostics" },
];

export function App() {
  const [signedIn, setSignedIn] = useState(storedKey() !== null);
  useEffect(() => {
    const signOut = () => setSignedIn(false);
    window.addEventListener(SIGNED_OUT, signOut);
    return () => window.removeEventListener(SIGNED_OUT, signOut);
  }, []);
  return (
    <Router base="/admin">
      {signedIn ? (
        <Shell
          onSignOut={() => {
            forgetKey();
            setSignedIn(false);
          }}
        >
          <Suspense fallback={<p role="status">Loading…</p>}>
            <Switch>
              <Route path="/" component={Overview} />
              <Route path="/plugins" component={Plugins} />
              <Route path="/propose" component={Propose} />
              <Route path="/propose/:plugin" component={Propose} />
              <Route path="/registry" component={RegistryPage} />
              <Route path="/jobs" component={Jobs} />
              <Route path="/jobs/:id" component={Jobs} />
              <Route path="/inbound" component={Inbound} />
              <Route path="/inbound/:id" component={Inbound} />
              <Route path="/diagnostics" component={DiagnosticsPage} />
              <Route path="/sign-in">
                <Redirect to="/" />
              </Route>
              <Route>
                <h1>Not found</h1>
                <p>
                  The console has no such page. <Link href="/">Go to the overview</Link>.
                </p>
              </Route>
            </Switch>
          </Suspense>
        </Shell>
      ) : (
        <SignIn onSignedIn={() => setSignedIn(true)} />
      )}
    </Router>
  );
}

function Shell({ children, onSignOut }: { children: ReactNode; onSignOut: () => void }) {
  const [location] = useLocation();
  const current = (path: string) =>
    path === "/" ? location === "/" : location === path || location.startsWith(`${path}/`);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Faxbot console</span>
        <span className="readonly">read-only</span>
        <button type="button" className="link-button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Console pages" className="pages">
        <ul>
          {PAGES.map((page) => (
            <li key={page.path}>
              <Link href={page.path} aria-current={current(page.path) ? "page" : undefined}>
                {page.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
