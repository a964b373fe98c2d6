import { APIRequestContext, Page, expect } from "@playwright/test";

/** Fails the test on any console error or uncaught exception in the page. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

/** Waits until the WASM bundle has hydrated the page (Leptos sets this global when it loads). */
export async function waitForHydration(page: Page) {
  await page.waitForFunction(() => (window as any).__drydock_hydrated === true, null, { timeout: 20_000 });
}

/** A simulated cluster with one system pool, at the catalog's oldest version. */
export async function createCluster(request: APIRequestContext, name: string, region = "eastus") {
  const catalog = await (await request.get("/api/v1/simulator/catalog")).json();
  const version = catalog.kubernetesVersions[0];
  const releases = catalog.nodeImages[region]["AKSUbuntu-2204gen2containerd"];
  const image = `AKSUbuntu-2204gen2containerd-${releases[0]}`;
  const reply = await request.put(`/api/v1/simulator/clusters/${name}`, {
    data: {
      location: region,
      kubernetesVersion: version,
      nodePools: [{ name: "system", count: 3, kubernetesVersion: version, osSku: "AKSUbuntu-2204gen2containerd", nodeImageVersion: image }],
    },
  });
  expect(reply.ok()).toBeTruthy();
  return { version, image };
}

export function uniqueName(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

export type MemberSpec = {
  name: string; group?: string; region?: string; minorsBehind?: number; failNext?: boolean;
  /** Nodes in its one pool (3 by default): more nodes, a longer upgrade. */
  nodes?: number;
  /** On its region's newest node image rather than its oldest. */
  newestImage?: boolean;
  labels?: Record<string, string>;
};

/**
 * A fleet of its own for one test: a simulated cluster per member (one 3-node pool), joined with
 * its group. Versions count from the catalog's newest minor: `minorsBehind` 1 (the default) is
 * the newest patch of the minor before it. Returns the catalog's Kubernetes versions.
 */
export async function makeFleet(request: APIRequestContext, fleet: string, members: MemberSpec[]) {
  expect((await request.put(`/api/v1/fleets/${fleet}`, { data: {} })).ok()).toBeTruthy();
  const catalog = await (await request.get("/api/v1/simulator/catalog")).json();
  const versions: string[] = catalog.kubernetesVersions;
  const minor = (v: string) => v.split(".").slice(0, 2).join(".");
  const minors = [...new Set(versions.map(minor))];
  const newestOf = (m: string) => versions.filter((v) => minor(v) === m).at(-1)!;
  for (const m of members) {
    const region = m.region ?? "eastus";
    const version = newestOf(minors[minors.length - 1 - (m.minorsBehind ?? 1)]);
    const releases = catalog.nodeImages[region]["AKSUbuntu-2204gen2containerd"];
    const cluster = await request.put(`/api/v1/simulator/clusters/${m.name}`, {
      data: {
        location: region,
        kubernetesVersion: version,
        failNext: m.failNext ?? false,
        nodePools: [{ name: "system", count: m.nodes ?? 3, kubernetesVersion: version, osSku: "AKSUbuntu-2204gen2containerd",
                      nodeImageVersion: `AKSUbuntu-2204gen2containerd-${m.newestImage ? releases.at(-1) : releases[0]}` }],
      },
    });
    expect(cluster.ok(), await cluster.text()).toBeTruthy();
    const member = await request.put(`/api/v1/fleets/${fleet}/members/${m.name}`, {
      data: { properties: { clusterResourceId: `sim:${m.name}`, ...(m.group ? { group: m.group } : {}), ...(m.labels ? { labels: m.labels } : {}) } },
    });
    expect(member.ok(), await member.text()).toBeTruthy();
  }
  return { versions, minors, newestOf };
}

/** Waits until a second passes with no new entry in `reads` (the run page's reads of the run,
 * collected by the caller): the reads an event asked for have come and gone. */
export async function readsSettle(page: Page, reads: string[], timeout: number) {
  await expect.poll(async () => {
    const before = reads.length;
    await page.waitForTimeout(1000);
    return reads.length === before;
  }, { timeout }).toBe(true);
}
