import { expect, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

test("a finished run lists whom it left behind and why, and a catch-up run takes exactly them", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("catch");
  // The catalog's newest version is still rolling out: southeastasia does not have it yet.
  const { versions } = await makeFleet(request, fleet, [
    { name: `${fleet}-a` },
    { name: `${fleet}-b`, region: "southeastasia" },
  ]);
  const newest = versions.at(-1)!;
  const runs = `/api/v1/fleets/${fleet}/updateRuns`;
  const created = await request.put(`${runs}/first`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "Full", kubernetesVersion: newest } } } },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  expect((await request.post(`${runs}/first/start`)).ok()).toBeTruthy();
  await expect.poll(async () => (await (await request.get(`${runs}/first`)).json()).properties.status.status.state,
    { timeout: 60_000 }).toBe("Completed");

  await page.goto(`/fleets/${fleet}/updates/runs/first`);
  await waitForHydration(page);
  const panel = page.getByRole("region", { name: "Left behind" });
  await expect(panel.getByRole("heading")).toHaveText("Left behind: 1 member");
  const left = panel.locator(`li[data-member="${fleet}-b"]`);
  await expect(left).toContainText("Pending");
  await expect(left).toContainText("not available in southeastasia");
  await expect(panel.locator(`li[data-member="${fleet}-a"]`), "a was upgraded").toHaveCount(0);

  await panel.getByRole("button", { name: "Create catch-up run" }).click();
  const made = panel.getByRole("status");
  await expect(made).toContainText("Created update run first-catch-up");
  const catchUp = await (await request.get(`${runs}/first-catch-up`)).json();
  const members = catchUp.properties.status.stages.flatMap((s: any) => s.groups.flatMap((g: any) => g.members.map((m: any) => m.name)));
  expect(members).toEqual([`${fleet}-b`]);
  expect(catchUp.properties.managedClusterUpdate.upgrade).toEqual({ type: "Full", kubernetesVersion: newest });

  await made.getByRole("link").click();
  await expect(page.getByRole("heading", { name: /Update run first-catch-up/ })).toBeVisible();
  expect(problems).toEqual([]);
});
