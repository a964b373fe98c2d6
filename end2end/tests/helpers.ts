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
