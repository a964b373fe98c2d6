import { expect, test } from "@playwright/test";
import { createCluster, uniqueName, waitForHydration, watchConsole } from "./helpers";

test("the fleets page lists the demo fleet and links to its overview", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Fleets" })).toBeVisible();
  await page.getByRole("link", { name: "demo" }).click();
  await expect(page).toHaveURL(/\/fleets\/demo$/);
  await expect(page.getByRole("heading", { name: /Fleet demo/ })).toBeVisible();
  expect(problems).toEqual([]);
});

test("the overview shows members, versions, what is behind, and the distributions", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  const rows = page.locator("table.members tbody tr");
  await expect(rows).toHaveCount(12);
  await expect(page.getByText("Showing 12 of 12 members")).toBeVisible();
  // Every demo member runs an older control plane than the newest offered: marked in words.
  await expect(page.locator("td.cp .behind")).toHaveCount(12);
  await expect(page.locator("td.cp .behind").first()).toContainText("newer available: ↑ 1.");
  // Regions, groups and the maintenance window are shown.
  await expect(page.locator("table.members")).toContainText("westeurope");
  await expect(page.locator("table.members .group-tag").first()).toBeVisible();
  await expect(page.locator("table.members")).toContainText("Sun 01:00 for 4h");
  // Both charts are drawn, with a bar per version and the counts adding up.
  const k8sChart = page.getByRole("img", { name: /Control-plane Kubernetes versions/ });
  await expect(k8sChart).toBeVisible();
  const label = await k8sChart.getAttribute("aria-label");
  const total = [...label!.matchAll(/ (\d+) members/g)].reduce((n, m) => n + Number(m[1]), 0);
  expect(total).toBe(12);
  await expect(page.getByRole("img", { name: /Node image versions/ }).locator("rect")).not.toHaveCount(0);
  expect(problems).toEqual([]);
});

test("filtering narrows the table in the browser", async ({ page }) => {
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  await page.getByLabel("Filter members").fill("westeurope");
  await expect(page.locator("table.members tbody tr")).toHaveCount(4);
  await expect(page.getByText("Showing 4 of 4 matching members (12 in the fleet)")).toBeVisible();
});

test("join a member through the form and see it after a reload", async ({ page, request }) => {
  const problems = watchConsole(page);
  const name = uniqueName("joined");
  await createCluster(request, name, "southeastasia");
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  await page.getByLabel("Member name").fill(name);
  await page.getByLabel("Cluster resource ID").fill(`sim:${name}`);
  await page.getByLabel("Update group (optional)").fill("group-1a");
  await page.getByRole("button", { name: "Join member" }).click();
  await expect(page.getByRole("status")).toContainText("Member joined.");
  await expect(page.locator(`tr[data-member="${name}"]`)).toBeVisible();
  await page.reload();
  const row = page.locator(`tr[data-member="${name}"]`);
  await expect(row).toContainText("southeastasia");
  await expect(row.locator(".group-tag")).toHaveText("group-1a");
  expect(problems.filter((p) => !p.includes("status of 4"))).toEqual([]);
});

test("a failed join says why, next to the form, and keeps what was typed", async ({ page }) => {
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  await page.getByLabel("Member name").fill("nobody-home");
  await page.getByLabel("Cluster resource ID").fill("sim:does-not-exist");
  await page.getByRole("button", { name: "Join member" }).click();
  const form = page.locator("section", { has: page.getByRole("heading", { name: "Join a member" }) });
  await expect(form.getByRole("alert")).toContainText("sim:does-not-exist does not exist");
  await expect(page.getByLabel("Member name")).toHaveValue("nobody-home");
  await expect(page.getByLabel("Cluster resource ID")).toHaveValue("sim:does-not-exist");
});

test("assign an update group to several members and see it after a reload", async ({ page }) => {
  const problems = watchConsole(page);
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  await page.getByLabel("Select aks-eastus-2").check();
  await page.getByLabel("Select aks-westeurope-2").check();
  await expect(page.getByText("2 selected")).toBeVisible();
  await page.getByLabel("Update group", { exact: true }).fill("canary");
  await page.getByRole("button", { name: "Assign update group" }).click();
  await expect(page.getByText("Updated 2 member(s).")).toBeVisible();
  await page.reload();
  await expect(page.locator('tr[data-member="aks-eastus-2"] .group-tag')).toHaveText("canary");
  await expect(page.locator('tr[data-member="aks-westeurope-2"] .group-tag')).toHaveText("canary");
  expect(problems).toEqual([]);
});

test("a bad group name is refused with the rule, and nothing changes", async ({ page }) => {
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  const before = await page.locator('tr[data-member="aks-southeastasia-1"] td.group').textContent();
  await page.getByLabel("Select aks-southeastasia-1").check();
  await page.getByLabel("Update group", { exact: true }).fill("Bad Group!");
  await page.getByRole("button", { name: "Assign update group" }).click();
  await expect(page.getByRole("alert")).toContainText("lower-case letters, digits and '-'");
  await page.reload();
  await expect(page.locator('tr[data-member="aks-southeastasia-1"] td.group')).toHaveText(before!);
});

test("remove a member after confirming", async ({ page, request }) => {
  const name = uniqueName("leaving");
  await createCluster(request, name);
  await request.put(`/api/v1/fleets/demo/members/${name}`, { data: { properties: { clusterResourceId: `sim:${name}` } } });
  await page.goto("/fleets/demo");
  await waitForHydration(page);
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: `Remove ${name}` }).click();
  await expect(page.locator(`tr[data-member="${name}"]`)).toHaveCount(0);
  await page.reload();
  await expect(page.locator(`tr[data-member="${name}"]`)).toHaveCount(0);
});

test("an unknown fleet says so", async ({ page }) => {
  await page.goto("/fleets/nowhere");
  await expect(page.getByRole("alert")).toContainText("Fleet nowhere does not exist");
});
