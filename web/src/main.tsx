import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, clearToken, getToken, redeemLoginCode, setToken } from "./api";
import { Admin } from "./admin";
import { AssetPage } from "./asset";
import { Dashboard } from "./dashboard";
import { Gallery } from "./gallery";
import { Upload } from "./upload";
import "./style.css";

/** Who the token names, read from its payload (the server checks the signature). */
function whoIs(token: string): { sub: string; admin: boolean } {
  try {
    const payload = JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { sub?: string; role?: string };
    return { sub: payload.sub ?? "?", admin: payload.role === "admin" };
  } catch {
    return { sub: "?", admin: false };
  }
}

/**
 * A one-time sign-in link (`#login=<code>`, from the start-up banner or `assetd login-link`):
 * the code is taken out of the address at once, so it stays in no history entry, bookmark
 * or reload, whatever the server answers.
 */
function takeLoginCode(): string | null {
  if (!location.hash.startsWith("#login=")) return null;
  const code = decodeURIComponent(location.hash.slice("#login=".length));
  history.replaceState(null, "", location.pathname + "#/");
  return code;
}

const loginCode = takeLoginCode();

function loginRefusal(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e.code === "login_code_invalid") {
    return "This sign-in link was refused: it has expired or has already been used. Ask for a new one (`assetd login-link`).";
  }
  return `Sign-in with the link failed: ${e.message ?? String(error)}`;
}

function useRoute(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const onChange = () => setHash(location.hash || "#/");
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

function SignIn({ onSignedIn, initialError }: { onSignedIn: () => void; initialError?: string | null }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(initialError ?? null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setToken(value);
    try {
      await api("/v1/assets?limit=1");
      onSignedIn();
    } catch (e) {
      clearToken();
      setError(`Sign-in failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>assetd</h1>
      <form onSubmit={submit} class="card">
        <label for="token">API token</label>
        <textarea id="token" name="token" rows={4} required value={value} spellcheck={false} autocomplete="off"
          placeholder="eyJhbGciOi… (from `assetd token --sub NAME` or the start-up output)"
          onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} />
        <p class="hint">Kept in this tab only (sessionStorage) and sent as <code>Authorization: Bearer</code>.</p>
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy || !value.trim()}>{busy ? "Checking…" : "Sign in"}</button>
      </form>
    </main>
  );
}

function App() {
  const [token, setTokenState] = useState(loginCode ? null : getToken());
  const [linking, setLinking] = useState(loginCode !== null);
  const [linkError, setLinkError] = useState<string | null>(null);
  const [uploaded, setUploaded] = useState(0);
  const route = useRoute();
  useEffect(() => {
    if (loginCode === null) return;
    redeemLoginCode(loginCode).then(
      (session) => { setToken(session.token); setTokenState(getToken()); },
      (error: unknown) => { setTokenState(getToken()); setLinkError(loginRefusal(error)); },
    ).finally(() => setLinking(false));
  }, []);
  if (linking) return <main class="signin"><h1>assetd</h1><p class="card" role="status">Signing in with the link…</p></main>;
  if (!token) return <SignIn initialError={linkError} onSignedIn={() => setTokenState(getToken())} />;
  const who = whoIs(token);
  const signOut = () => { clearToken(); setTokenState(null); location.hash = "#/"; };
  const assetMatch = /^#\/asset\/([^/?]+)/.exec(route);
  let view;
  if (assetMatch) view = <AssetPage id={decodeURIComponent(assetMatch[1]!)} />;
  else if (route.startsWith("#/dashboard")) view = <Dashboard admin={who.admin} />;
  else if (route.startsWith("#/admin") && who.admin) view = <Admin />;
  else view = <><Upload onUploaded={() => setUploaded((n) => n + 1)} /><Gallery refresh={uploaded} /></>;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">assetd</a>
        <nav aria-label="Main">
          <a href="#/" aria-current={!assetMatch && !route.startsWith("#/dashboard") && !route.startsWith("#/admin") ? "page" : undefined}>Library</a>
          <a href="#/dashboard" aria-current={route.startsWith("#/dashboard") ? "page" : undefined}>Dashboard</a>
          {who.admin && <a href="#/admin" aria-current={route.startsWith("#/admin") ? "page" : undefined}>Admin</a>}
        </nav>
        <span class="who" title="signed in as">{who.sub}{who.admin ? " (admin)" : ""}</span>
        <button type="button" class="link" onClick={signOut}>Sign out</button>
      </header>
      <main>{linkError && <p class="error" role="alert">{linkError}</p>}{view}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
