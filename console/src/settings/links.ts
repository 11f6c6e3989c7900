// A plugin's "Learn more" links: the manifest schema has no allow-list of domains, so the
// console shows a link only when it is https and on the host of the manifest's own
// `homepage` (or a subdomain of it). Without a homepage no link is shown.
export interface ManifestLink {
  label: string;
  url: string;
}

export function allowedLinks(links: ManifestLink[] | undefined, homepage: string | undefined): ManifestLink[] {
  if (!links || !homepage) return [];
  let home: string;
  try {
    home = new URL(homepage).hostname;
  } catch {
    return [];
  }
  const site = home.replace(/^www\./, "");
  return links.filter((link) => {
    try {
      const url = new URL(link.url);
      const host = url.hostname;
      return url.protocol === "https:" && (host === site || host.endsWith(`.${site}`));
    } catch {
      return false;
    }
  });
}
