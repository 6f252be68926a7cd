import { useEffect, useState } from "preact/hooks";
import { api } from "./api";

interface Grant { principal: string; permission: string }

/** The asset's grants (owners and admins): who else may read, write or delete it. */
export function Grants({ id, onChanged }: { id: string; onChanged: () => void }) {
  const [grants, setGrants] = useState<Grant[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [principal, setPrincipal] = useState("");
  const [permission, setPermission] = useState("read");
  const load = () => api<{ grants: Grant[] }>(`/v1/assets/${id}/acl`).then((r) => { setGrants(r.grants); setError(null); }).catch((e: Error) => setError(e.message));
  useEffect(() => { void load(); }, [id]);
  const act = async (request: Promise<unknown>) => {
    try {
      await request;
      await load();
      onChanged();
    } catch (e) { setError((e as Error).message); }
  };
  const add = (e: Event) => {
    e.preventDefault();
    void act(api(`/v1/assets/${id}/acl`, { method: "POST", body: JSON.stringify({ principal: principal.trim(), permission }) }).then(() => setPrincipal("")));
  };
  const remove = (grant: Grant) =>
    act(api(`/v1/assets/${id}/acl?${new URLSearchParams({ principal: grant.principal, permission: grant.permission })}`, { method: "DELETE" }));
  return (
    <section aria-labelledby="acl-title">
      <h3 id="acl-title">Access</h3>
      {grants && (grants.length === 0 ? <p class="hint">only the owner (and admins)</p> : (
        <ul class="tags">
          {grants.map((g) => (
            <li>{g.principal === "*" ? "anyone (public)" : g.principal}: {g.permission}{" "}
              <button type="button" class="link" aria-label={`Remove ${g.permission} for ${g.principal}`} onClick={() => remove(g)}>×</button></li>
          ))}
        </ul>
      ))}
      <form class="inline" onSubmit={add}>
        <label>Principal <input name="acl-principal" placeholder="bob, group:design or *" value={principal} onInput={(e) => setPrincipal((e.target as HTMLInputElement).value)} /></label>
        <label>Permission
          <select name="acl-permission" value={permission} onChange={(e) => setPermission((e.target as HTMLSelectElement).value)}>
            <option>read</option><option>write</option><option>delete</option>
          </select>
        </label>
        <button type="submit" disabled={!principal.trim()}>Grant</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  );
}
