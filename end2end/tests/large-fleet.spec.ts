import { expect, test } from "@playwright/test";
import { waitForHydration, watchConsole } from "./helpers";

// A 1,000-member fleet must load, hydrate and stay responsive. The timings are printed for the
// README, never asserted (the machines are shared and noisy).
test("a 1,000-member fleet renders a page at a time and stays usable", async ({ page, request }) => {
  test.setTimeout(180_000);
  const fleet = "large";
  await request.put(`/api/v1/fleets/${fleet}`, { data: {} });
  const catalog = await (await request.get("/api/v1/simulator/catalog")).json();
  const version = catalog.kubernetesVersions[0];
  const regions = Object.keys(catalog.nodeImages);
  const put = async (i: number) => {
    const region = regions[i % regions.length];
    const releases = catalog.nodeImages[region]["AKSUbuntu-2204gen2containerd"];
    const name = `big-${String(i).padStart(4, "0")}`;
    const cluster = await request.put(`/api/v1/simulator/clusters/${name}`, {
      data: {
        location: region,
        kubernetesVersion: version,
        nodePools: [{ name: "system", count: 3, kubernetesVersion: version, osSku: "AKSUbuntu-2204gen2containerd",
                      nodeImageVersion: `AKSUbuntu-2204gen2containerd-${releases[i % releases.length]}` }],
      },
    });
    expect(cluster.ok()).toBeTruthy();
    const member = await request.put(`/api/v1/fleets/${fleet}/members/${name}`, {
      data: { properties: { clusterResourceId: `sim:${name}`, group: `group-${i % 20}` } },
    });
    expect(member.ok()).toBeTruthy();
  };
  for (let start = 0; start < 1000; start += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, k) => put(start + k)));
  }

  const problems = watchConsole(page);
  const started = Date.now();
  await page.goto(`/fleets/${fleet}`);
  await waitForHydration(page);
  const hydratedMs = Date.now() - started;
  await expect(page.getByText("Showing 100 of 1000 members")).toBeVisible();
  await expect(page.locator("table.members tbody tr")).toHaveCount(100);

  const filterStarted = Date.now();
  await page.getByLabel("Filter members").fill("big-09");
  await expect(page.locator("table.members tbody tr")).toHaveCount(100);
  await expect(page.getByText("Showing 100 of 100 matching members (1000 in the fleet)")).toBeVisible();
  const filterMs = Date.now() - filterStarted;

  await page.getByLabel("Filter members").fill("");
  await page.getByRole("button", { name: "Show 100 more" }).click();
  await expect(page.locator("table.members tbody tr")).toHaveCount(200);
  await page.getByLabel("Select all shown members").check();
  await expect(page.getByText("200 selected")).toBeVisible();
  console.log(`1,000 members: load+hydrate ${hydratedMs} ms, filter ${filterMs} ms`);
  expect(problems).toEqual([]);
});
