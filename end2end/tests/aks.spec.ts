import { expect, test } from "@playwright/test";
import { waitForHydration, watchConsole } from "./helpers";

// AKS clusters through the `aks` provider, against the test suite's fake Azure Resource Manager
// (server/examples/fake_arm.rs): six clusters in eastus and westeurope at 1.29.9, one stopped
// (aks-eastus-3), one with both AKS maintenance schedules (aks-westeurope-2).
const aks = `http://127.0.0.1:${Number(process.env.DRYDOCK_E2E_PORT ?? 3100) + 100}`;
test.use({ baseURL: aks });

const subscription = "00000000-0000-0000-0000-0000000000aa";
const armId = (name: string) =>
  `/subscriptions/${subscription}/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/managedClusters/${name}`;
const clusters = ["eastus", "westeurope"].flatMap((r) => [1, 2, 3].map((n) => `aks-${r}-${n}`));

test("an AKS fleet: overview with both windows and a stopped cluster; a run skips the stopped one with the reason and upgrades the others", async ({ page, request }) => {
  test.setTimeout(120_000);
  const problems = watchConsole(page);
  expect((await request.put("/api/v1/fleets/azure", { data: {} })).ok()).toBeTruthy();
  for (const name of clusters) {
    const group = name === "aks-westeurope-2" ? "windowed" : `g-${name.split("-")[1]}`;
    const joined = await request.put(`/api/v1/fleets/azure/members/${name}`, {
      data: { properties: { clusterResourceId: armId(name), group } },
    });
    expect(joined.ok(), await joined.text()).toBeTruthy();
  }

  await page.goto("/fleets/azure");
  await waitForHydration(page);
  const table = page.locator("table.members");
  await expect(table.locator("tbody tr")).toHaveCount(6);
  await expect(table.locator(".provider-tag").first()).toHaveText("azure");
  await expect(page.locator('tr[data-member="aks-eastus-3"] .stopped-tag')).toHaveText("stopped");
  const windowed = page.locator('tr[data-member="aks-westeurope-2"]');
  await expect(windowed).toContainText("Kubernetes: First Sun 00:00 for 8h (+00:00) monthly, 1 blocked date range");
  await expect(windowed).toContainText("Node images: daily 00:00 for 8h");

  // The run leaves the windowed group out; the plan says the stopped cluster will be skipped.
  const stages = [{ name: "all", groups: [{ name: "g-eastus" }, { name: "g-westeurope" }] }];
  const created = await request.put("/api/v1/fleets/azure/updateRuns/to-130", {
    data: { properties: { strategy: { stages }, managedClusterUpdate: { upgrade: { type: "ControlPlaneOnly", kubernetesVersion: "1.30.5" } } } },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  await page.goto("/fleets/azure/updates/runs/to-130");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 60_000 });
  const stopped = page.locator('tr[data-member="aks-eastus-3"]');
  await expect(stopped).toContainText("stopped");
  await expect(page.getByTestId("progress")).toContainText("4 upgraded");

  const members = await (await request.get("/api/v1/fleets/azure/members")).json();
  const versions = Object.fromEntries(members.value.map((m: any) => [m.name, m.properties.status.kubernetesVersion]));
  expect(versions["aks-eastus-1"]).toBe("1.30.5");
  expect(versions["aks-westeurope-3"]).toBe("1.30.5");
  expect(versions["aks-eastus-3"], "stopped: not upgraded").toBe("1.29.9");
  expect(versions["aks-westeurope-2"], "not in the run").toBe("1.29.9");
  expect(problems).toEqual([]);
});
