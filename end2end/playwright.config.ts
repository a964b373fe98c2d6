import { defineConfig } from "@playwright/test";

// The real server binary, on a fresh SQLite file, with the demo fleet and fast fleet time.
const bin = process.env.DRYDOCK_BIN ?? "target/debug/drydock";
const port = Number(process.env.DRYDOCK_E2E_PORT ?? 3100);
export const aksPort = port + 100;
export const releasesPort = port + 200;
const fakeArm = bin.replace(/drydock$/, "examples/fake_arm");
const fakeIdp = bin.replace(/drydock$/, "examples/fake_idp");
/** The main server's first admin; the suite signs in as them once (global-setup.ts). */
export const adminPassword = "e2e-admin-password";
export const adminState = "../target/e2e-auth/admin.json";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Every page and API request of the suite is the signed-in admin's, unless a test makes a
    // context of its own (access.spec.ts signs in as others).
    storageState: adminState,
    // The tests' own API calls (the `request` fixture) carry that session's cookie, so they
    // carry its CSRF token too, as any script using a session cookie must (global-setup.ts).
    extraHTTPHeaders: process.env.DRYDOCK_E2E_CSRF
      ? { "X-CSRF-Token": process.env.DRYDOCK_E2E_CSRF }
      : undefined,
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's Chromium: Playwright cannot download browsers here.
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: [{
    cwd: "..",
    command:
      `rm -rf target/e2e && mkdir -p target/e2e && ` +
      // Single sign-on against the test suite's fake identity provider (server/examples/fake_idp.rs).
      `{ ${fakeIdp} --addr 127.0.0.1:${port + 2} --dir target/e2e --drydock http://127.0.0.1:${port} & } && ` +
      `while [ ! -f target/e2e/drydock.toml ]; do sleep 0.1; done && ` +
      `DRYDOCK_ADMIN_PASSWORD=${adminPassword} ` +
      `exec ${bin} serve --demo --config target/e2e/drydock.toml --addr 127.0.0.1:${port} ` +
      // The catalog stays as generated: specs read its versions (the release train has tests
      // of its own).
      `--database-url sqlite://target/e2e/drydock.db --time-scale 600 --simulated-release-days 0`,
    url: `http://127.0.0.1:${port}/api/v1/fleets`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  }, {
    // AKS clusters behind the test suite's fake Azure Resource Manager (server/examples/fake_arm.rs).
    cwd: "..",
    command:
      `rm -rf target/e2e-aks && mkdir -p target/e2e-aks && ` +
      `{ ${fakeArm} --addr 127.0.0.1:${aksPort + 1} --dir target/e2e-aks & } && ` +
      `while [ ! -f target/e2e-aks/drydock.toml ]; do sleep 0.1; done && ` +
      `exec ${bin} serve --config target/e2e-aks/drydock.toml --addr 127.0.0.1:${aksPort} ` +
      `--database-url sqlite://target/e2e-aks/drydock.db --time-scale 600 --auth none`,
    url: `http://127.0.0.1:${aksPort}/api/v1/providers`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  }, {
    // A catalog that moves (release-train.spec.ts): a simulated release every fleet day, 10 s
    // at 8640×, and the auto-upgrade schedule looking every 2 s.
    cwd: "..",
    command:
      `rm -rf target/e2e-releases && mkdir -p target/e2e-releases && ` +
      `exec ${bin} serve --addr 127.0.0.1:${releasesPort} --database-url sqlite://target/e2e-releases/drydock.db ` +
      `--time-scale 8640 --simulated-release-days 1 --auto-upgrade-interval-seconds 2 --auth none`,
    url: `http://127.0.0.1:${releasesPort}/api/v1/fleets`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  }],
});
