import { expect, Page, test } from "@playwright/test";
import { makeFleet, uniqueName, waitForHydration, watchConsole } from "./helpers";

// The main pages and flows on a phone: everything fits the width, nothing overlaps.
test.use({ viewport: { width: 390, height: 844 } });

async function fitsTheWidth(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${page.url()} is wider than the screen`).toBeLessThanOrEqual(0);
}

test("every page fits a 390 px screen", async ({ page, request }) => {
  const problems = watchConsole(page);
  const fleet = uniqueName("phone");
  await makeFleet(request, fleet, [{ name: `${fleet}-a`, group: "g1" }, { name: `${fleet}-b`, group: "g1" }]);
  await request.put(`/api/v1/fleets/${fleet}/updateRuns/r`, {
    data: { properties: { managedClusterUpdate: { upgrade: { type: "NodeImageOnly" } } } },
  });
  for (const url of ["/", "/fleets/demo", `/fleets/${fleet}/updates`, `/fleets/${fleet}/updates?tab=strategies`,
                     `/fleets/${fleet}/updates/new`, `/fleets/${fleet}/updates/strategies/new`, `/fleets/${fleet}/updates/runs/r`,
                     `/fleets/${fleet}/placements`]) {
    await page.goto(url);
    await waitForHydration(page);
    await fitsTheWidth(page);
  }
  expect(problems).toEqual([]);
});

test("a run is created, started and watched on a phone; badges do not overlap names", async ({ page, request }) => {
  page.on("dialog", (d) => d.accept());
  const problems = watchConsole(page);
  const fleet = uniqueName("pflow");
  await makeFleet(request, fleet, [{ name: `${fleet}-a` }, { name: `${fleet}-b` }]);
  await page.goto(`/fleets/${fleet}/updates/new`);
  await waitForHydration(page);
  await page.getByLabel("Run name", { exact: true }).fill("on-the-go");
  await page.getByRole("radio", { name: "Node image only" }).check();
  await page.getByRole("button", { name: "Create run" }).click();
  await expect(page).toHaveURL(/\/updates\/runs\/on-the-go$/);
  await waitForHydration(page);
  await page.getByRole("button", { name: "Start" }).click();
  await expect(page.locator("h1 .state")).toHaveText("Completed", { timeout: 60_000 });
  await fitsTheWidth(page);
  for (const m of ["a", "b"]) {
    const row = page.locator(`tr[data-member="${fleet}-${m}"]`);
    // The page reads the finished run again and redraws its rows: measure a row that is there.
    const boxes = async () => {
      const name = await row.locator("th").boundingBox();
      const badge = await row.locator(".state").boundingBox();
      return name && badge ? { name, badge } : null;
    };
    let measured: Awaited<ReturnType<typeof boxes>> = null;
    await expect.poll(async () => (measured = await boxes()) !== null, { message: `the ${m} row is shown` }).toBe(true);
    const { name, badge } = measured!;
    const overlap = name.x < badge.x + badge.width && badge.x < name.x + name.width
      && name.y < badge.y + badge.height && badge.y < name.y + name.height;
    expect(overlap, `the ${m} badge overlaps its name`).toBe(false);
  }
  expect(problems).toEqual([]);
});
