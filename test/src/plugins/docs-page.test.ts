/**
 * /docs works offline and is valid HTML: every asset it names is served by the app (no CDN), attribute values
 * are escaped (the page once carried an unescaped `"` inside a meta content), and it has one html, head and
 * body after a doctype. The HTML is read with Bun's HTMLRewriter (lol-html, an HTML5 tokenizer), so an
 * unescaped quote shows up as it would in a browser: a truncated value and stray attributes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { renderDocsPage } from "../../../src/plugins/docs-page.ts";
import { createTestApp, type TestApp } from "../../support/app.ts";
import { TEST_ENV } from "../api-helpers.ts";

interface Parsed {
  doctype: string | null;
  elements: { tag: string; attributes: [string, string][] }[];
  title: string;
}

/** HTMLRewriter hands over values as written; a browser decodes these character references. */
const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
const decode = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] as string);

/** Elements with their attribute values and the title's text, decoded as a browser reads them. */
async function parse(html: string): Promise<Parsed> {
  const parsed: Parsed = { doctype: null, elements: [], title: "" };
  await new HTMLRewriter()
    .onDocument({
      doctype(d) {
        parsed.doctype = d.name;
      },
    })
    .on("*", {
      element(el) {
        parsed.elements.push({ tag: el.tagName, attributes: [...el.attributes] });
      },
    })
    .on("title", {
      text(chunk) {
        parsed.title += chunk.text;
      },
    })
    .transform(new Response(html))
    .text();
  return {
    ...parsed,
    title: decode(parsed.title),
    elements: parsed.elements.map((e) => ({ ...e, attributes: e.attributes.map(([n, v]) => [n, decode(v)]) })),
  };
}

const ATTRIBUTE = /^[a-z][a-z0-9-]*$/;

/** What a validator would flag in this page: doctype, one html/head/body/title, attribute names, raw quotes in values. */
async function htmlProblems(html: string): Promise<string[]> {
  const { doctype, elements } = await parse(html);
  const problems: string[] = [];
  if (!/^<!doctype html>/i.test(html) || doctype !== "html") problems.push("no <!doctype html> first");
  for (const tag of ["html", "head", "body", "title"]) {
    const count = elements.filter((e) => e.tag === tag).length;
    if (count !== 1) problems.push(`${count} <${tag}> elements`);
  }
  for (const { tag, attributes } of elements)
    for (const [name] of attributes)
      if (!ATTRIBUTE.test(name)) problems.push(`<${tag}> has a malformed attribute ${JSON.stringify(name)}`);
  // Every tag in the source is well formed: lower-case name, double-quoted values without quotes inside.
  for (const tag of html.match(/<[^!][^>]*>/g) ?? [])
    if (!/^<\/?[a-z]+(\s+[a-z-]+(="[^"<>]*")?)*\s*\/?>$/.test(tag)) problems.push(`malformed tag ${tag}`);
  return problems;
}

describe("the /docs page", () => {
  let t: TestApp;
  let html: string;
  let csp: string;
  beforeAll(async () => {
    t = await createTestApp("sqlite", TEST_ENV);
    const res = await t.request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    csp = res.headers.get("content-security-policy") ?? "";
    html = await res.text();
  });
  afterAll(() => t.close());

  test("is valid HTML, its description the document's own, escaped", async () => {
    expect(await htmlProblems(html)).toEqual([]);
    const { elements, title } = await parse(html);
    expect(title).toBe("Flightdeck API");
    const description = elements.find(
      (e) => e.tag === "meta" && e.attributes.some(([n, v]) => n === "name" && v === "description"),
    );
    const spec = (await (await t.request("/openapi.json")).json()) as { info: { description: string } };
    expect(Object.fromEntries(description!.attributes).content).toBe(spec.info.description);
    expect(spec.info.description).toContain('"error"');
  });

  test("names no other origin, and the app serves every asset it names", async () => {
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    const { elements } = await parse(html);
    const assets = elements.flatMap((e) => e.attributes.filter(([n]) => n === "src" || n === "href").map(([, v]) => v));
    expect(assets.sort()).toEqual(["/docs/init.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"]);
    for (const asset of assets) {
      const res = await t.request(asset);
      expect([asset, res.status]).toEqual([asset, 200]);
      expect(res.headers.get("content-type")).toMatch(asset.endsWith(".css") ? /^text\/css/ : /^text\/javascript/);
      const body = await res.text();
      expect(body).not.toContain("cdn.jsdelivr.net");
      if (asset.endsWith("bundle.js")) expect(body).toContain("SwaggerUIBundle");
    }
    const init = await (await t.request("/docs/init.js")).text();
    expect(init).toContain("validatorUrl: null");
  });

  test("its CSP lets only this origin's scripts run", () => {
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain("https:");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });
});

describe("renderDocsPage", () => {
  test("escapes title, description and spec address", async () => {
    const info = {
      title: "</title><script>alert(1)</script>",
      description: `Every error is {"error": {code}} & <b>'bold'</b>`,
      specUrl: '/openapi.json?x="y"',
    };
    const html = renderDocsPage(info);
    expect(await htmlProblems(html)).toEqual([]);
    const { elements, title } = await parse(html);
    expect(title).toBe(info.title);
    expect(elements.filter((e) => e.tag === "script").length).toBe(2);
    const attr = (tag: string, name: string) =>
      elements.flatMap((e) => (e.tag === tag ? e.attributes : [])).find(([n]) => n === name)?.[1];
    expect(attr("div", "data-spec-url")).toBe(info.specUrl);
    expect(elements.find((e) => e.attributes.some(([, v]) => v === "description"))?.attributes).toContainEqual([
      "content",
      info.description,
    ]);
  });

  test("the check flags the unescaped quote the old page had", async () => {
    const old = `<!doctype html><html><head><title>x</title><meta name="description" content="Every error is \`{"error": {code}}\`."></head><body></body></html>`;
    expect(await htmlProblems(old)).toEqual(
      expect.arrayContaining([expect.stringMatching(/malformed attribute|malformed tag/)]),
    );
  });
});
