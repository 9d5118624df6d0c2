// Drives VS Code (code-server, VS Code in the browser) in headless Chromium:
// opens the workspace and the broken workflow, waits for the Problems panel
// to show attune's diagnostics, takes a screenshot, applies the quick fix
// "change to 'verify'" and checks the problem is gone. Run by
// scripts/editors/vscode-lsp.sh, which starts code-server with our extension.
// Env: VSCODE_URL, WORKSPACE, SHOT_DIR, CHROMIUM, E2E_DIR (playwright-core).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.E2E_DIR, "package.json"));
const { chromium } = require("playwright-core");

const url = `${process.env.VSCODE_URL}/?folder=${encodeURIComponent(process.env.WORKSPACE)}`;
const shots = process.env.SHOT_DIR;
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log(`${ok ? "ok" : "FAIL"}: ${what}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(url);
  await page.waitForSelector(".monaco-workbench .part.statusbar", { timeout: 60000 });
  // The explorer lists the workspace once it is loaded.
  await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout: 60000 });

  // Open the broken workflow with Quick Open (Ctrl+P).
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible" });
  await page.keyboard.type("broken_deploy.yaml");
  await page.waitForSelector(".quick-input-list .monaco-list-row", { timeout: 20000 });
  await page.keyboard.press("Enter");
  await page.waitForSelector('.tab[aria-label*="broken_deploy.yaml"]', { timeout: 20000 });

  // The Problems panel (Ctrl+Shift+M) fills in when attune lsp publishes.
  await page.keyboard.press("Control+Shift+M");
  const rows = ".markers-panel .monaco-list-row";
  await page
    .waitForFunction(
      (sel) => [...document.querySelectorAll(sel)].some((r) => r.innerText.includes("verfy")),
      rows,
      { timeout: 60000 },
    )
    .catch(() => {});
  const problems = await page.$$eval(rows, (rs) => rs.map((r) => r.innerText.replace(/\s+/g, " ").trim()));
  console.log("Problems panel:");
  for (const p of problems) console.log(`  ${p}`);
  const all = problems.join("\n");
  check(all.includes("Task 'deploy' references non-existent task 'verfy'"), "unknown-task in the Problems panel");
  check(all.includes("unknown-task"), "the code unknown-task shown");
  check(all.includes("unknown key 'on_sucess' in a task"), "unknown-key in the Problems panel");
  if (shots) await page.screenshot({ path: path.join(shots, "editor-vscode-problems.png") });

  // Quick fix: go to line 27 col 13 (Ctrl+G "27:13"), Ctrl+. and pick the fix.
  await page.click(".monaco-editor .view-lines");
  await page.keyboard.press("Control+G");
  await page.waitForSelector(".quick-input-widget input", { state: "visible" });
  await page.keyboard.type("27:13");
  await page.keyboard.press("Enter");
  await page.waitForTimeout(500);
  await page.keyboard.press("Control+.");
  const menu = ".action-widget .monaco-list-row, .context-view .action-widget li";
  await page.waitForSelector(menu, { timeout: 20000 }).catch(() => {});
  const actions = await page.$$eval(menu, (rs) => rs.map((r) => r.innerText.trim()));
  console.log(`code actions at 27:13: ${JSON.stringify(actions)}`);
  if (shots) await page.screenshot({ path: path.join(shots, "editor-vscode-quickfix.png") });
  const fix = actions.findIndex((a) => a.includes("change to 'verify'"));
  check(fix >= 0, "the quick fix \"change to 'verify'\" offered");
  check(!actions.some((a) => a.includes("on_success")), "no fix of another line's diagnostic");
  if (fix >= 0) {
    // Keyboard, as a user does: the menu focuses its first fix; move to ours.
    const focused = await page.$$eval(menu, (rs) => rs.findIndex((r) => r.classList.contains("focused")));
    for (let i = focused; i < fix; i++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page
      .waitForFunction(
        (sel) => ![...document.querySelectorAll(sel)].some((r) => r.innerText.includes("verfy")),
        rows,
        { timeout: 20000 },
      )
      .catch(() => {});
    const after = await page.$$eval(rows, (rs) => rs.map((r) => r.innerText.replace(/\s+/g, " ").trim()));
    console.log("Problems panel after the fix:");
    for (const p of after) console.log(`  ${p}`);
    check(!after.join("\n").includes("verfy"), "unknown-task gone after the fix");
    check(after.join("\n").includes("on_sucess"), "unknown-key still shown");
    if (shots) await page.screenshot({ path: path.join(shots, "editor-vscode-fixed.png") });
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`vscode-lsp: FAILED (${failures.length})`);
  process.exit(1);
}
console.log("vscode-lsp: OK");
