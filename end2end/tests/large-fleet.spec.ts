import { expect, test } from "@playwright/test";
import { readsSettle, uniqueName, waitForHydration, watchConsole } from "./helpers";

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

  // The stage builder with 20 groups: every keystroke re-plans 1,000 members in the browser.
  const builderStarted = Date.now();
  await page.goto(`/fleets/${fleet}/updates/new`);
  await waitForHydration(page);
  const builderMs = Date.now() - builderStarted;
  await page.getByRole("radio", { name: "Stages", exact: true }).check();
  const first = page.locator(".stage-editor").first();
  await expect(first.getByRole("checkbox")).toHaveCount(20);
  // Its members run the oldest Kubernetes: a version upgrade would skip minors, so images only.
  await page.getByRole("radio", { name: "Node image only" }).check();
  const planStarted = Date.now();
  for (let g = 0; g < 10; g++) await first.getByLabel(`group-${g}`, { exact: true }).check();
  await expect(page.locator(".preview .plan-group")).toHaveCount(10);
  const planMs = Date.now() - planStarted;
  // Every member of the ten groups is either upgraded or already at the newest image.
  const [, up, skipped] = (await page.getByTestId("plan-summary").innerText()).match(/(\d+) members? to upgrade, (\d+) skipped/)!;
  expect(Number(up) + Number(skipped)).toBe(500);
  await page.getByRole("button", { name: "Add stage" }).click();
  const second = page.locator(".stage-editor").nth(1);
  await expect(second.getByRole("checkbox"), "the first stage's groups are not offered again").toHaveCount(10);
  await page.getByLabel("Run name").fill("big-run");
  await second.getByLabel("group-10", { exact: true }).check();
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(/\/updates\/runs\/big-run$/);
  const runStarted = Date.now();
  await waitForHydration(page);
  await expect(page.locator(".run-progress")).toContainText(/of 550$/);
  await expect(page.locator(".group details[open]"), "a large run starts with its groups folded").toHaveCount(0);
  await expect(page.locator(".tree-members tbody tr"), "folded groups put no member rows into the page").toHaveCount(0);
  await page.locator('li[data-group="group-3"] summary').click();
  await expect(page.locator('li[data-group="group-3"] tbody tr')).toHaveCount(50);
  const runMs = Date.now() - runStarted;
  console.log(`1,000 members, 20 groups: builder load+hydrate ${builderMs} ms, 10 groups picked and re-planned ${planMs} ms, run page ${runMs} ms`);
  expect(problems).toEqual([]);
});

// A group larger than a page of members: the run page fetches its members a page at a time,
// and once the run works, shows each member's change from the event stream without reading
// the run or the page of members again.
test("an opened group of 130 members pages through them and follows the run live", async ({ page, request }) => {
  test.setTimeout(120_000);
  const fleet = uniqueName("wide");
  await request.put(`/api/v1/fleets/${fleet}`, { data: {} });
  const catalog = await (await request.get("/api/v1/simulator/catalog")).json();
  const version = catalog.kubernetesVersions[0];
  const region = Object.keys(catalog.nodeImages)[0];
  const oldest = catalog.nodeImages[region]["AKSUbuntu-2204gen2containerd"][0];
  const put = async (i: number) => {
    const name = `${fleet}-${String(i).padStart(3, "0")}`;
    const cluster = await request.put(`/api/v1/simulator/clusters/${name}`, {
      data: { location: region, kubernetesVersion: version,
              // 20 nodes: an upgrade takes about a second at 600×.
              nodePools: [{ name: "system", count: 20, kubernetesVersion: version, osSku: "AKSUbuntu-2204gen2containerd",
                            nodeImageVersion: `AKSUbuntu-2204gen2containerd-${oldest}` }] },
    });
    expect(cluster.ok()).toBeTruthy();
    const member = await request.put(`/api/v1/fleets/${fleet}/members/${name}`, {
      data: { properties: { clusterResourceId: `sim:${name}`, group: "wave" } },
    });
    expect(member.ok()).toBeTruthy();
  };
  for (let start = 0; start < 130; start += 26) {
    await Promise.all(Array.from({ length: 26 }, (_, k) => put(start + k)));
  }
  const created = await request.put(`/api/v1/fleets/${fleet}/updateRuns/paged`, {
    data: { properties: { strategy: { stages: [{ name: "all", groups: [{ name: "wave" }] }] },
                          managedClusterUpdate: { upgrade: { type: "NodeImageOnly" } } } },
  });
  expect(created.ok()).toBeTruthy();

  const problems = watchConsole(page);
  await page.goto(`/fleets/${fleet}/updates/runs/paged`);
  await waitForHydration(page);
  const group = page.locator('li[data-group="wave"]');
  await expect(group.getByTestId("group-count")).toHaveText("0 of 130 members done");
  await group.locator("summary").click();
  await expect(group.locator("tbody tr")).toHaveCount(100);
  const pager = group.getByTestId("member-pager");
  await expect(pager).toContainText("Members 1–100 of 130");
  await expect(group.locator("tbody tr").first()).toContainText(`${fleet}-000`);
  await pager.getByRole("button", { name: "Next" }).click();
  await expect(pager).toContainText("Members 101–130 of 130");
  await expect(group.locator("tbody tr")).toHaveCount(30);
  await expect(group.locator("tbody tr").first()).toContainText(`${fleet}-100`);
  await expect(pager.getByRole("button", { name: "Next" })).toBeDisabled();
  await pager.getByRole("button", { name: "Previous" }).click();
  await expect(pager).toContainText("Members 1–100 of 130");

  const reads: string[] = [];
  page.on("request", (r) => {
    if (/\/fn\/run_(outline|members)/.test(r.url())) reads.push(r.url());
  });
  const started = await request.post(`/api/v1/fleets/${fleet}/updateRuns/paged/start`);
  expect(started.ok()).toBeTruthy();
  const row = (name: string) => group.locator(`tr[data-member="${name}"] .state`);
  await expect(row(`${fleet}-000`)).not.toHaveText("Not started");
  // The reads the run's start asks for (its state, the stage's) come and go; then only members
  // change, one after another.
  await readsSettle(page, reads, 15_000);
  const readsBefore = reads.length;
  const next = (await group.locator("tr[data-member] .state").allInnerTexts()).indexOf("Not started");
  expect(next, "a member still to go").toBeGreaterThan(0);
  const waiting = Date.now();
  await expect(row(`${fleet}-${String(next).padStart(3, "0")}`)).toHaveText("Running", { timeout: 10_000 });
  const done = Number((await group.getByTestId("group-count").innerText()).match(/^(\d+) of 130/)![1]);
  expect(done, "the members before it are counted done").toBeGreaterThanOrEqual(next);
  console.log(`130 members in one group: member ${next} shown starting ${Date.now() - waiting} ms after the wait began, from the event stream`);
  expect(reads.slice(readsBefore), "members' changes are patched in, not read again").toEqual([]);
  await request.post(`/api/v1/fleets/${fleet}/updateRuns/paged/stop`);
  expect(problems).toEqual([]);
});
