/**
 * /docs: Swagger UI served by this app from the installed swagger-ui-dist package, so the page works offline
 * and nothing is loaded from a CDN. swagger-ui-dist is the prebuilt, dependency-free distribution of Swagger UI
 * (one bundle and one stylesheet); the page's only script is ours (/docs/init.js), not inline, so the docs CSP
 * (src/plugins/security-headers.ts) needs `script-src 'self'` and nothing more.
 * @module
 */
import { Elysia } from "elysia";

export const DOCS_PATH = "/docs";
const ASSET_TYPES = { "swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css" } as const;
/** The assets change only with the package version, so a day of caching costs nothing. */
const ASSET_CACHE = "public, max-age=86400";

/**
 * The init script reads the spec address from its container's data attribute. validatorUrl null stops Swagger
 * UI from sending the document to validator.swagger.io for its badge (https://github.com/swagger-api/swagger-ui/blob/master/docs/usage/configuration.md).
 */
const INIT_SCRIPT = `window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: root.dataset.specUrl, domNode: root, deepLinking: true, validatorUrl: null });
});
`;

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text safe in an element's content and inside a quoted attribute value alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

export interface DocsPageInfo {
  title: string;
  description: string;
  specUrl: string;
}

export function renderDocsPage({ title, description, specUrl }: DocsPageInfo): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="description" content="${escapeHtml(description)}">
    <title>${escapeHtml(title)}</title>
    <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui" data-spec-url="${escapeHtml(specUrl)}"></div>
    <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/init.js"></script>
  </body>
</html>
`;
}

/** The page and its three assets, hidden from the document. */
export function docsPage(info: DocsPageInfo) {
  const html = renderDocsPage(info);
  const hidden = { detail: { hide: true } };
  const app = new Elysia({ name: "docs-page" })
    .get(DOCS_PATH, () => new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } }), hidden)
    .get(
      `${DOCS_PATH}/init.js`,
      () => new Response(INIT_SCRIPT, { headers: { "content-type": "text/javascript", "cache-control": ASSET_CACHE } }),
      hidden,
    );
  for (const [name, type] of Object.entries(ASSET_TYPES)) {
    const file = Bun.file(Bun.resolveSync(`swagger-ui-dist/${name}`, import.meta.dir));
    app.get(
      `${DOCS_PATH}/${name}`,
      () => new Response(file, { headers: { "content-type": `${type}; charset=utf-8`, "cache-control": ASSET_CACHE } }),
      hidden,
    );
  }
  return app;
}
